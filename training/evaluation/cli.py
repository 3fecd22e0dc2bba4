"""``soulchat eval``: sample held-out contexts, generate and score replies, judge them with an
LLM, and report several models side by side.

Every bad input (a missing or malformed file, no contexts, a server that is down) ends with one
line on stderr and exit code 2. Progress lines carry counts, never dialogue or reply text.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from inference.backends.local import ModelNotFound
from soulchat.cli_support import fail as _fail
from training.data.schema import DataError
from training.evaluation.contexts import (
    DEFAULT_MAX_TURNS,
    EvalContext,
    load_contexts_from_dialogues,
    read_contexts,
    write_contexts,
)
from training.evaluation.endpoint import ChatEndpoint, EndpointError, Progress
from training.evaluation.generate import (
    EndpointGenerator,
    GenerationConfig,
    LlamaCppGenerator,
    LocalGenerator,
    ReplyGenerator,
    eval_params,
)
from training.evaluation.judge import judge_replies, load_judge_prompt, summarise
from training.evaluation.metrics import score
from training.evaluation.report import write_report
from training.evaluation.result import EvalResult, ReplyRecord, ResultError

app = typer.Typer(
    help="Evaluate models on held-out counseling contexts: overlap and behaviour metrics, an "
    "LLM judge, and side-by-side reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

TOKEN_ENV = "SOULCHAT_EVAL_TOKEN"

EndpointModelOption = Annotated[
    str, typer.Option("--endpoint-model", help="Model name sent to the endpoint.")
]
EndpointTokenOption = Annotated[
    str | None, typer.Option("--endpoint-token", envvar=TOKEN_ENV, show_default=False)
]
RetriesOption = Annotated[
    int, typer.Option("--retries", min=0, help="Endpoint: tries again after an error, backing off.")
]


class StyleOption(StrEnum):
    chat_template = "chat_template"
    transcript = "transcript"


class EngineOption(StrEnum):
    transformers = "transformers"
    llamacpp = "llamacpp"


class EvalFailed(Exception):
    """A bad command line the options alone cannot express."""


def fail(message: str) -> typer.Exit:
    return _fail(message, prefix="soulchat eval")


@contextmanager
def clear_errors() -> Iterator[None]:
    """Known failures as one line and exit code 2, not a traceback."""
    try:
        yield
    except (DataError, ResultError, EndpointError, ModelNotFound, EvalFailed) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise fail(f"{where}{exc.strerror or exc}") from None


def progress_printer(what: str) -> Progress:
    def report(done: int, total: int) -> None:
        step = max(1, total // 10)
        if done == total or done % step == 0:
            typer.echo(f"{what} {done}/{total}", err=True)

    return report


# -- contexts ------------------------------------------------------------------------------

DataOption = Annotated[
    Path | None, typer.Option("--data", help="Normalised dialogues (JSONL, .gz too).")
]
MaxContextsOption = Annotated[
    int | None, typer.Option("--max-contexts", min=1, help="Sample at most this many contexts.")
]
PerDialogueOption = Annotated[
    int | None,
    typer.Option("--per-dialogue", min=1, help="At most this many contexts per dialogue."),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of sampling (contexts, replies).")]
MaxTurnsOption = Annotated[
    int,
    typer.Option(
        "--max-turns", min=0, help="Earlier exchanges kept in a context, as serving (0: all)."
    ),
]


def sample_from_dialogues(
    data: Path, max_turns: int, max_contexts: int | None, per_dialogue: int | None, seed: int
) -> list[EvalContext]:
    return load_contexts_from_dialogues(
        data,
        max_turns=max_turns or None,
        max_contexts=max_contexts,
        per_dialogue=per_dialogue,
        seed=seed,
    )


@app.command("contexts")
def contexts_command(
    data: Annotated[Path, typer.Option("--data", help="Normalised dialogues (JSONL, .gz too).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write contexts.jsonl.")],
    max_contexts: MaxContextsOption = None,
    per_dialogue: PerDialogueOption = None,
    seed: SeedOption = 0,
    max_turns: MaxTurnsOption = DEFAULT_MAX_TURNS,
) -> None:
    """Sample held-out contexts once, so that every model is scored on the same ones."""
    with clear_errors():
        contexts = sample_from_dialogues(data, max_turns, max_contexts, per_dialogue, seed)
        write_contexts(contexts, out)
    typer.echo(f"wrote {len(contexts)} contexts to {out}")


def resolve_contexts(
    data: Path | None,
    contexts_file: Path | None,
    *,
    max_turns: int,
    max_contexts: int | None,
    per_dialogue: int | None,
    seed: int,
) -> list[EvalContext]:
    """Read ``contexts_file`` when it exists; otherwise sample from ``data`` (and write the
    sample to ``contexts_file`` when one is named, for the next model)."""
    if contexts_file is not None and contexts_file.exists():
        contexts = read_contexts(contexts_file)
        typer.echo(f"read {len(contexts)} contexts from {contexts_file}", err=True)
        return contexts
    if data is None:
        raise EvalFailed("give --data (dialogues), or --contexts naming an existing file")
    contexts = sample_from_dialogues(data, max_turns, max_contexts, per_dialogue, seed)
    if contexts_file is not None:
        write_contexts(contexts, contexts_file)
        typer.echo(f"wrote {len(contexts)} contexts to {contexts_file}", err=True)
    return contexts


# -- run -----------------------------------------------------------------------------------


def default_cache_dir() -> Path | None:
    """Where ``soulchat chat`` keeps converted GGUF models, so both share one conversion."""
    from soulchat.config import ConfigError, load_settings

    try:
        return load_settings().data_dir / "models"
    except ConfigError:
        return None


def model_label(model: str, adapter: str, endpoint_model: str, endpoint: str) -> str:
    if endpoint:
        return endpoint_model
    label = Path(model).name if model else "SmolLM2-135M-Instruct"
    return f"{label}+{Path(adapter).name}" if adapter else label


def quiet_model_loading() -> None:
    """No progress bars from transformers between the progress lines."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # GGUF loading uses a bare tqdm
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


def make_generator(
    config: GenerationConfig,
    *,
    model: str,
    adapter: str,
    device: str,
    dtype: str,
    cache_dir: Path | None,
    endpoint: ChatEndpoint | None,
    engine: str = "transformers",
) -> ReplyGenerator:
    if endpoint is not None:
        return EndpointGenerator(endpoint, config)
    quiet_model_loading()
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    if engine == "llamacpp":
        return LlamaCppGenerator.load(config, model, adapter=adapter, cache_dir=cache)
    return LocalGenerator.load(
        config, model, adapter=adapter, device=device, dtype=dtype, cache_dir=cache
    )


@app.command("run")
def run_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write the result JSON.")],
    data: DataOption = None,
    contexts_file: Annotated[
        Path | None,
        typer.Option(
            "--contexts",
            help="contexts.jsonl: read when it exists, else sampled from --data and written.",
        ),
    ] = None,
    model: Annotated[
        str, typer.Option("--model", help="Checkpoint dir, .gguf or hub id; empty: default.")
    ] = "",
    adapter: Annotated[str, typer.Option("--adapter", help="A LoRA adapter directory.")] = "",
    endpoint_url: Annotated[
        str, typer.Option("--endpoint", help="A Messages API server instead of a local model.")
    ] = "",
    endpoint_model: EndpointModelOption = "tgi",
    endpoint_token: EndpointTokenOption = None,
    name: Annotated[str, typer.Option("--name", help="The model's name in reports.")] = "",
    style: Annotated[StyleOption, typer.Option("--style")] = StyleOption.chat_template,
    max_contexts: MaxContextsOption = None,
    per_dialogue: PerDialogueOption = None,
    seed: SeedOption = 0,
    max_turns: MaxTurnsOption = DEFAULT_MAX_TURNS,
    max_new_tokens: Annotated[int, typer.Option("--max-new-tokens", min=1)] = 128,
    max_context_tokens: Annotated[int, typer.Option("--max-context-tokens", min=64)] = 2048,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, help="0: greedy.")] = 0.0,
    top_p: Annotated[float, typer.Option("--top-p", min=0.0, max=1.0)] = 1.0,
    repetition_penalty: Annotated[float, typer.Option("--repetition-penalty", min=0.01)] = 1.1,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 8,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, help="Endpoint.")] = 4,
    timeout: Annotated[float, typer.Option("--timeout", min=1.0, help="Endpoint, s.")] = 120.0,
    retries: RetriesOption = 3,
    device: Annotated[str, typer.Option("--device")] = "auto",
    dtype: Annotated[str, typer.Option("--dtype")] = "auto",
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
    engine: Annotated[
        EngineOption,
        typer.Option(
            "--engine",
            help="transformers (batched) or llamacpp (a GGUF base and adapter, as served).",
        ),
    ] = EngineOption.transformers,
) -> None:
    """Generate a reply for every context and score it against the counselor's turn."""
    if max_new_tokens >= max_context_tokens:
        raise fail("--max-new-tokens must be below --max-context-tokens")
    if endpoint_url and (model or adapter):
        raise fail("--model and --adapter are for a local model; --endpoint serves its own")
    try:
        params = eval_params(
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            repetition_penalty=repetition_penalty,
        )
    except ValidationError as exc:  # what the options' bounds cannot say (top_p above 0)
        problems = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())
        raise fail(f"invalid decoding options: {problems}") from None
    config = GenerationConfig(
        style=style.value,
        params=params,
        seed=seed,
        batch_size=batch_size,
        max_context_tokens=max_context_tokens,
    )
    with clear_errors():
        contexts = resolve_contexts(
            data,
            contexts_file,
            max_turns=max_turns,
            max_contexts=max_contexts,
            per_dialogue=per_dialogue,
            seed=seed,
        )
        endpoint = None
        if endpoint_url:
            endpoint = ChatEndpoint(
                endpoint_url,
                model=endpoint_model,
                token=endpoint_token,
                timeout=timeout,
                retries=retries,
                concurrency=concurrency,
            )
        with endpoint or nullcontext():
            generator = make_generator(
                config,
                model=model,
                adapter=adapter,
                device=device,
                dtype=dtype,
                cache_dir=cache_dir,
                endpoint=endpoint,
                engine=engine.value,
            )
            replies = generator.generate(contexts, progress_printer("generated"))
        label = model_label(model, adapter, endpoint_model, endpoint_url)
        result = scored_result(contexts, replies, config, name=name or label, model=model or label)
        result.adapter = adapter
        result.endpoint = endpoint.where if endpoint is not None else ""
        result.save(out)
    metrics = result.metrics
    typer.echo(
        f"{result.name}: {result.n_contexts} contexts, BLEU-1 {metrics['bleu_1']:.2f}, "
        f"ROUGE-L {metrics['rouge_l']:.2f}, asks a question {metrics['question_share']:.1f}%, "
        f"leads with advice {metrics['advice_share']:.1f}%; wrote {out}"
    )


def scored_result(
    contexts: Sequence[EvalContext],
    replies: Sequence[str],
    config: GenerationConfig,
    *,
    name: str,
    model: str,
) -> EvalResult:
    references = [context.reference for context in contexts]
    languages = [context.language for context in contexts]
    return EvalResult(
        name=name,
        model=model,
        records=[ReplyRecord(c, r) for c, r in zip(contexts, replies, strict=True)],
        metrics=score(replies, references, languages),
        generation=config.to_json(),
    )


# -- judge and report ----------------------------------------------------------------------


@app.command("judge")
def judge_command(
    result_file: Annotated[Path, typer.Argument(help="A result JSON from `soulchat eval run`.")],
    endpoint_url: Annotated[str, typer.Option("--endpoint", help="The judge's Messages API.")],
    endpoint_model: EndpointModelOption = "tgi",
    endpoint_token: EndpointTokenOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default: update in place).")
    ] = None,
    prompt_file: Annotated[
        Path | None, typer.Option("--prompt", help="Another judge prompt ({{context}}, {{reply}}).")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1)] = 4,
    timeout: Annotated[float, typer.Option("--timeout", min=1.0, help="Seconds.")] = 120.0,
    retries: RetriesOption = 3,
) -> None:
    """Rate every reply for content, empathy, helpfulness and safety with an LLM judge."""
    with clear_errors():
        result = EvalResult.load(result_file)
        template = prompt_file.read_text("utf-8") if prompt_file else load_judge_prompt()
        with ChatEndpoint(
            endpoint_url,
            model=endpoint_model,
            token=endpoint_token,
            timeout=timeout,
            retries=retries,
            concurrency=concurrency,
        ) as endpoint:
            outcomes = judge_replies(
                endpoint,
                [record.context for record in result.records],
                [record.reply for record in result.records],
                template=template,
                progress=progress_printer("judged"),
            )
            result.judge_endpoint = endpoint.where
        for record, outcome in zip(result.records, outcomes, strict=True):
            record.judge = outcome
        result.judge = summarise(outcomes)
        result.judge_model = endpoint_model
        result.save(out or result_file)
    summary = result.judge
    means = ", ".join(f"{name} {value:.2f}" for name, value in summary.means.items())
    typer.echo(
        f"{result.name}: {summary.judged} judged ({means or 'no scores'}), "
        f"{summary.failures} judge failures; wrote {out or result_file}"
    )


@app.command("report")
def report_command(
    results: Annotated[list[Path], typer.Argument(help="Result JSON files, one per model.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for report.md, .json, .png.")],
    examples: Annotated[int, typer.Option("--examples", min=0, help="Contexts shown.")] = 3,
) -> None:
    """Compare models side by side: report.md, report.json and bar charts."""
    with clear_errors():
        loaded = [EvalResult.load(path) for path in results]
        files = write_report(loaded, out, examples=examples)
    typer.echo(f"wrote {files.markdown}, {files.json} and {len(files.charts)} charts")
