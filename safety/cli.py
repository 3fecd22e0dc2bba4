"""``soulchat safety``: screen logs in batch, train the risk classifier."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

safety_app = typer.Typer(
    help="The risk screen: batch screening and the classifier.", no_args_is_help=True
)


@safety_app.command("screen")
def screen(
    source: Annotated[
        Path | None,
        typer.Argument(help="JSON lines file; '-' or nothing reads standard input."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    lexicon_only: Annotated[
        bool,
        typer.Option("--lexicon-only", help="Leave the classifier and the semantic layer out."),
    ] = False,
) -> None:
    """Screen JSON lines ({"id", "text"} or {"id", "messages": [...]}) and print one
    {"id", "tier", "categories", "score"} per line. Unreadable lines get {"id", "error"} and
    the exit status is 1."""
    from safety.batch import screen_lines
    from safety.policy import build_screen
    from soulchat.cli_support import fail, settings_or_exit

    settings = settings_or_exit()
    try:
        risk_screen = build_screen(settings.safety, classifier=not lexicon_only)
    except ValueError as exc:
        raise fail(str(exc)) from None
    errors = 0
    inputs = (
        sys.stdin
        if source is None or str(source) == "-"
        else source.open(encoding="utf-8", errors="replace")
    )
    sink = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        for result in screen_lines(risk_screen, inputs):
            errors += "error" in result
            sink.write(json.dumps(result, ensure_ascii=False) + "\n")
    finally:
        if output:
            sink.close()
        if inputs is not sys.stdin:
            inputs.close()
    if errors:
        typer.echo(f'{errors} line(s) could not be screened; see their "error"', err=True)
        raise typer.Exit(1)


@safety_app.command("train-classifier")
def train_classifier(
    out: Annotated[Path, typer.Option("--out", help="Where to write the model (.npz).")] = Path(
        "safety/data/risk_classifier.npz"
    ),
    epochs: Annotated[int, typer.Option(help="Passes over the training part.")] = 20,
    seed: Annotated[int, typer.Option(help="Split, shuffling and template sampling.")] = 0,
) -> None:
    """Train the risk classifier on the project's corpus (safety/data/risk_corpus) and report
    where every example came from and how it scores on the held-out part."""
    from safety.classifier_train import TrainConfig, train
    from safety.corpus import load_corpus, provenance

    examples = load_corpus(seed=seed)
    sources = provenance(examples)
    written = sum(n for source, n in sources.items() if source.startswith("written:"))
    templates = [n for source, n in sources.items() if source.startswith("template:")]
    typer.echo(
        f"corpus: {len(examples)} examples, all written by the project: {written} by hand, "
        f"{sum(templates)} from {len(templates)} templates (safety/data/risk_corpus)"
    )
    model, report = train(examples, TrainConfig(epochs=epochs, seed=seed))
    typer.echo(
        f"trained on {report.train_examples}, held out {report.heldout_examples}; "
        f"thresholds {report.thresholds}"
    )
    for score in report.heldout_scores:
        typer.echo(
            f"  tier {score.tier}: {score.support} held out, recall {score.recall:.3f}, "
            f"precision {score.precision:.3f}"
        )
    model.save(out)
    typer.echo(f"wrote {out} ({out.stat().st_size // 1024} KiB)")


@safety_app.command("train-semantic")
def train_semantic(
    out: Annotated[Path, typer.Option("--out", help="Where to write the head (.npz).")] = Path(
        "safety/data/risk_semantic.npz"
    ),
    cache: Annotated[
        Path | None,
        typer.Option(help="Keep the corpus embeddings here (.npz) to retrain in seconds."),
    ] = None,
    epochs: Annotated[int, typer.Option(help="Passes over the training data.")] = 40,
    seed: Annotated[int, typer.Option(help="Split, initialisation and shuffling.")] = 0,
) -> None:
    """Train the semantic layer's head on the project's corpus: embed every example with
    multilingual-e5-small (a few minutes on a CPU), fit, report the held-out part."""
    from safety.corpus import load_corpus
    from safety.semantic import E5Embedder
    from safety.semantic_train import SemanticTrainConfig, train

    examples = load_corpus(seed=seed)
    typer.echo(f"corpus: {len(examples)} examples (safety/data/risk_corpus); embedding them")
    head, report = train(
        examples, E5Embedder(), SemanticTrainConfig(epochs=epochs, seed=seed), cache
    )
    typer.echo(f"trained on {report.train_examples}, held out {report.heldout_examples}")
    for score in report.heldout_scores:
        typer.echo(
            f"  tier {score.tier}: {score.support} held out, recall {score.recall:.3f}, "
            f"precision {score.precision:.3f}"
        )
    head.save(out)
    typer.echo(f"wrote {out} ({out.stat().st_size // 1024} KiB)")
