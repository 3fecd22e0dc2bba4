"""``soulchat data``: prepare training data from the public corpora and describe it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from soulchat.cli_support import fail
from training.data.clean import CleaningConfig
from training.data.loaders import FORMATS, LoadReport, load
from training.data.mix import MixConfig, MixPart, mix
from training.data.prepare import PrepareConfig, prepare
from training.data.schema import DataError, Dialogue
from training.data.stats import compute_stats

app = typer.Typer(
    help="Training data: load the counseling corpora, clean, split and describe them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

FormatOption = Annotated[
    str,
    typer.Option("--format", "-f", help=f"Input format: {', '.join(FORMATS)}."),
]
SkipInvalidOption = Annotated[
    bool,
    typer.Option(
        "--skip-invalid", help="Skip malformed records (counted) instead of stopping at the first."
    ),
]


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}")


@app.command("prepare")
def prepare_command(
    inputs: Annotated[list[Path], typer.Argument(help="Corpus files or directories.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for the splits.")],
    fmt: FormatOption = "auto",
    language: Annotated[
        str | None,
        typer.Option(help="Keep only dialogues in this language (zh or en)."),
    ] = None,
    language_check: Annotated[
        bool,
        typer.Option(help="Drop dialogues whose text is not in their declared language."),
    ] = True,
    valid: Annotated[float, typer.Option(help="Fraction of dialogues for valid.")] = 0.05,
    test: Annotated[float, typer.Option(help="Fraction of dialogues for test.")] = 0.05,
    seed: Annotated[int, typer.Option(help="Seed of the split.")] = 42,
    skip_invalid: SkipInvalidOption = False,
    dedupe: Annotated[bool, typer.Option(help="Remove exact and near duplicates.")] = True,
    near_dedupe: Annotated[bool, typer.Option(help="Remove near duplicates.")] = True,
    near_dup_threshold: Annotated[
        float, typer.Option(help="Jaccard similarity (of 5-character shingles) that counts.")
    ] = 0.85,
    scrub: Annotated[
        bool, typer.Option(help="Replace phone numbers, e-mails and id numbers.")
    ] = True,
    scrub_urls: Annotated[bool, typer.Option(help="Replace URLs too.")] = False,
    drop_self_harm: Annotated[
        bool,
        typer.Option(help="Drop dialogues reaching the crisis tier (see training/data/clean.py)."),
    ] = False,
    min_turns: Annotated[int, typer.Option(help="Fewest messages a dialogue may have.")] = 2,
    max_turns: Annotated[int | None, typer.Option(help="Most messages per dialogue.")] = None,
    max_chars: Annotated[
        int | None,
        typer.Option(help="Longest message; a dialogue is truncated before a longer one."),
    ] = 4000,
    max_dialogue_chars: Annotated[
        int | None, typer.Option(help="Longest dialogue; truncated before the message crossing it.")
    ] = None,
) -> None:
    """Load, clean and split INPUTs into OUT/{train,valid,test}.jsonl with stats and a report."""
    _check_format(fmt)
    if language not in (None, "zh", "en"):
        raise fail("--language must be zh or en")
    cleaning = CleaningConfig(
        scrub_pii=scrub,
        scrub_urls=scrub_urls,
        min_turns=min_turns,
        max_turns=max_turns,
        max_message_chars=max_chars,
        max_dialogue_chars=max_dialogue_chars,
        check_language=language_check,
        expected_language=language,
        drop_self_harm=drop_self_harm,
        dedupe_exact=dedupe,
        dedupe_near=dedupe and near_dedupe,
        near_dup_threshold=near_dup_threshold,
    )
    config = PrepareConfig(
        inputs=inputs,
        out=out,
        fmt=fmt,
        valid=valid,
        test=test,
        seed=seed,
        skip_invalid=skip_invalid,
        cleaning=cleaning,
    )
    try:
        result = prepare(config)
    except (DataError, ValueError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc}") from None
    typer.echo(result.summary())
    for report in result.loads:
        for reason in report.reasons:
            typer.echo(f"  skipped: {reason}")


@app.command("stats")
def stats_command(
    files: Annotated[list[Path], typer.Argument(help="Prepared .jsonl files or raw corpora.")],
    fmt: FormatOption = "auto",
    skip_invalid: SkipInvalidOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, not Markdown.")] = False,
) -> None:
    """Describe FILEs: dialogues, turns, characters and tokens, by source and language."""
    _check_format(fmt)
    reports = [LoadReport(str(path)) for path in files]
    try:
        stats = compute_stats(_load_all(files, fmt, skip_invalid, reports))
    except (DataError, ValueError) as exc:
        raise fail(str(exc)) from None
    skipped = sum(report.skipped for report in reports)
    if as_json:
        typer.echo(json.dumps({**stats.to_json(), "skipped": skipped}, ensure_ascii=False))
        return
    typer.echo(stats.to_markdown(), nl=False)
    if skipped:
        typer.echo(f"\nskipped {skipped} malformed record(s)")


def _load_all(
    files: list[Path], fmt: str, skip_invalid: bool, reports: list[LoadReport]
) -> Iterator[Dialogue]:
    for path, report in zip(files, reports, strict=True):
        yield from load(path, fmt, skip_invalid=skip_invalid, report=report)


@app.command("mix")
def mix_command(
    parts: Annotated[
        list[str],
        typer.Argument(help="Prepared splits, each PATH or PATH:COUNT (COUNT dialogues of it)."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory for train.jsonl.")],
    seed: Annotated[int, typer.Option(help="Seed of the sample and the shuffle.")] = 42,
    longest_reply: Annotated[
        int | None,
        typer.Option(help="Leave out dialogues with a counselor turn longer than this (chars)."),
    ] = None,
) -> None:
    """Sample COUNT dialogues from each prepared split into OUT/train.jsonl and manifest.json."""
    try:
        config = MixConfig([MixPart.parse(spec) for spec in parts], out, seed, longest_reply)
        manifest = mix(config)
    except (DataError, ValueError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot write {out}: {exc}") from None
    counts = ", ".join(f"{s} {v['dialogues']}" for s, v in manifest["sources"].items())
    typer.echo(f"wrote {manifest['dialogues']} dialogues ({counts}) to {out / 'train.jsonl'}")
