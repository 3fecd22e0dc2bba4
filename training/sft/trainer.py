"""One fine-tuning run, top to bottom: config → model → data → SFTTrainer → saved result.

The output directory holds TRL's checkpoints (``checkpoint-N``, resumable), the final adapter
or model with its tokenizer, ``config.yaml`` (what was asked) and ``soulchat_run.json`` (what
happened: base model, style, data, losses, tokens/s), which `soulchat export` reads to write
the model card.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.sft.config import (
    RENAMED,
    TRAINER_DEFAULTS,
    ConfigFileError,
    SFTRunConfig,
    config_dict,
    save_config,
)
from training.sft.dataset import DatasetSummary, build_dataset
from training.sft.model import load_base, lora_config, use_bf16

log = logging.getLogger(__name__)

RUN_RECORD = "soulchat_run.json"


@dataclass
class RunResult:
    output_dir: str
    steps: int
    train_loss: float
    eval_loss: float | None
    tokens_per_second: float
    seconds: float
    stopped_early: bool


# --- SoulChat's config -> trl.SFTConfig ------------------------------------------------------


def sft_arguments(config: SFTRunConfig, source: str = "") -> Any:
    """The run's ``trl.SFTConfig``; what TRL or transformers refuse in it is a
    ``ConfigFileError`` (``source`` names the file in the message)."""
    from trl import SFTConfig

    try:
        return SFTConfig(**trainer_arguments(config))
    except (ValueError, TypeError) as exc:
        problem = f"trl.SFTConfig refused the settings: {exc}"
        raise ConfigFileError("", problem, source) from None


def trainer_arguments(config: SFTRunConfig) -> dict[str, Any]:
    """The keywords for ``trl.SFTConfig``: SoulChat's defaults, the TRL settings given (as they
    are), and what SoulChat's own settings decide."""
    given = config.trainer_args
    args: dict[str, Any] = {**TRAINER_DEFAULTS, **given}
    args.update(
        output_dir=config.output_dir,
        max_length=config.max_length,
        seed=config.seed,
        bf16=use_bf16(config),
        warmup_steps=given.get("warmup_steps", config.warmup_ratio),
    )
    args.setdefault("data_seed", config.seed)
    args.setdefault("per_device_eval_batch_size", args["per_device_train_batch_size"])
    if not args.get("eval_steps"):
        args["eval_steps"] = None  # 0 and unset alike: only the evaluation at the end
    if "eval_strategy" not in given:
        args["eval_strategy"] = "steps" if config.valid_file and args["eval_steps"] else "no"
    _checkpointing(args, given)
    args.update(batching_flags(config))
    return args


def batching_flags(config: SFTRunConfig) -> dict[str, Any]:
    """SFTConfig keywords for the chosen batching; ``auto`` picks padding-free only where the
    attention kernel handles packed rows natively (flash attention): with sdpa a packed row
    pays for its full attention matrix, which on a CPU costs more than the padding saved."""
    batching = config.batching
    if batching == "auto":
        flash = config.attn_implementation.startswith("flash")
        batching = "padding_free" if flash else "length_grouped"
    if batching == "padding_free":
        # TRL refuses padding-free batches with a max_length it cannot enforce without
        # packing; the samples are already cut to max_length when they are built.
        return {"padding_free": True, "max_length": None}
    if batching == "packing":
        return {"packing": True, "packing_strategy": "bfd"}
    if batching == "length_grouped":
        return {"train_sampling_strategy": "group_by_length"}
    return {}


def _checkpointing(args: dict[str, Any], given: dict[str, Any]) -> None:
    """Checkpointing said explicitly (TRL turns it on by default), non-reentrant when on (it
    works with frozen inputs, as in LoRA, and is the maintained path), and passed under the
    names the installed transformers prefers."""
    (on, on_new), (kwargs, kwargs_new) = RENAMED
    if on_new in given:  # validate() made sure that only one of the two names was given
        args[on] = args.pop(on_new)
    if kwargs_new in given:
        args[kwargs] = args.pop(kwargs_new)
    if args.get(on) and args.get(kwargs) is None:
        args[kwargs] = {"use_reentrant": False}
    for old, new in RENAMED:
        if new in _trl_field_names() and old in args:
            args[new] = args.pop(old)


@functools.cache
def _trl_field_names() -> frozenset[str]:
    from trl import SFTConfig

    return frozenset(item.name for item in dataclasses.fields(SFTConfig))


def make_trainer(config: SFTRunConfig, cache_dir: Path | None = None) -> tuple[Any, DatasetSummary]:
    """The SFTTrainer for ``config`` and a summary of the data it will train on; ``cache_dir``
    keeps the plain checkpoint of a GGUF base (``load_base``)."""
    import transformers

    transformers.set_seed(config.seed)
    args = sft_arguments(config)  # TRL's checks, before a model is loaded
    model, tokenizer, _ = load_base(config, cache_dir)
    train, summary = build_dataset(
        config.train_file,
        tokenizer,
        config.style,
        max_length=config.max_length,
        system=config.system_prompt,
        max_dialogues=config.max_dialogues,
        seed=config.seed,
    )
    if summary.samples == 0:
        raise ValueError(f"{config.train_file}: no dialogue with an assistant turn to train on")
    valid = None
    if config.valid_file:
        valid, _ = build_dataset(
            config.valid_file,
            tokenizer,
            config.style,
            max_length=config.max_length,
            system=config.system_prompt,
        )
    trainer = SoulChatSFTTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=valid,
        processing_class=tokenizer,
        peft_config=None if config.method == "full" else lora_config(config),
        callbacks=[TimeBudget(config.max_minutes)] if config.max_minutes else None,
    )
    return trainer, summary


def run_sft(
    config: SFTRunConfig, *, resume: bool = False, cache_dir: Path | None = None
) -> RunResult:
    output = Path(config.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    save_config(config, output / "config.yaml")
    trainer, summary = make_trainer(config, cache_dir)
    log.info(
        "training on %d samples (%d tokens, %d trained)",
        summary.samples,
        summary.tokens,
        summary.trained_tokens,
    )
    started = time.perf_counter()
    checkpoint = resume and _last_checkpoint(output)
    outcome = trainer.train(resume_from_checkpoint=checkpoint or None)
    seconds = time.perf_counter() - started
    eval_loss = None
    if trainer.eval_dataset is not None:
        eval_loss = float(trainer.evaluate()["eval_loss"])
    trainer.save_model(str(output))
    result = RunResult(
        output_dir=str(output),
        steps=trainer.state.global_step,
        train_loss=float(outcome.training_loss),
        eval_loss=eval_loss,
        tokens_per_second=trainer.tokens_per_second(),
        seconds=seconds,
        stopped_early=trainer.state.global_step < trainer.state.max_steps,
    )
    write_run_record(config, summary, result, trainer, cache_dir)
    return result


def _last_checkpoint(output: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(output)) if output.is_dir() else None


def base_model_record(config: SFTRunConfig, cache_dir: Path | None) -> dict[str, Any]:
    """The base as given (a GGUF file stays the source of record) and, for a GGUF file, the
    plain checkpoint that was trained on while it is kept, with the file's sha256."""
    from inference.backends.checkpoints import gguf_cache_path, source_record
    from inference.backends.local import resolve_model_source

    source = resolve_model_source(config.model, cache_dir)
    record: dict[str, Any] = {"location": source.location, "gguf_file": source.gguf_file}
    if source.gguf_file and cache_dir is not None:
        checkpoint = gguf_cache_path(source, cache_dir)
        if (checkpoint / "config.json").is_file():
            record["checkpoint"] = str(checkpoint)
            record["sha256"] = source_record(checkpoint).get("sha256")
    return record


def write_run_record(
    config: SFTRunConfig,
    summary: DatasetSummary,
    result: RunResult,
    trainer: Any,
    cache_dir: Path | None = None,
) -> None:
    record = {
        "base_model": base_model_record(config, cache_dir),
        "method": config.method,
        "style": config.style,
        "data": {"train_file": config.train_file, **summary.as_dict()},
        "result": dataclasses.asdict(result),
        "losses": [
            {"step": entry["step"], "loss": entry["loss"]}
            for entry in trainer.state.log_history
            if "loss" in entry
        ],
        "config": config_dict(config),
        "trainer_arguments": trainer_arguments(config),
    }
    path = Path(config.output_dir) / RUN_RECORD
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")


def _sft_trainer_base() -> type:
    from trl import SFTTrainer

    return SFTTrainer


class SoulChatSFTTrainer(_sft_trainer_base()):  # type: ignore[misc]
    """SFTTrainer that also logs training tokens per second next to the loss."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rate_mark: tuple[float, float] | None = None
        self._rate_total: tuple[float, float] = (0.0, 0.0)

    def train(self, *args: Any, **kwargs: Any) -> Any:
        self._rate_mark = (time.perf_counter(), 0.0)
        return super().train(*args, **kwargs)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        tokens = (
            self._metrics["train"].get("num_tokens", [None])[-1] if self.model.training else None
        )
        now = time.perf_counter()
        if tokens is not None:
            if self._rate_mark is not None and now > self._rate_mark[0]:
                elapsed, counted = now - self._rate_mark[0], tokens - self._rate_mark[1]
                logs["tokens_per_second"] = round(counted / elapsed, 1)
                self._rate_total = (self._rate_total[0] + elapsed, self._rate_total[1] + counted)
            self._rate_mark = (now, tokens)
        super().log(logs, start_time)

    def tokens_per_second(self) -> float:
        elapsed, counted = self._rate_total
        return counted / elapsed if elapsed else math.nan


def _callback_base() -> type:
    from transformers import TrainerCallback

    return TrainerCallback


class TimeBudget(_callback_base()):  # type: ignore[misc]
    """Stop after ``minutes`` of training, saving a checkpoint, so "train for an hour" ends
    with a usable model rather than a killed process."""

    def __init__(self, minutes: float) -> None:
        self.seconds = minutes * 60
        self.started = 0.0

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.started = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if time.perf_counter() - self.started >= self.seconds:
            log.info("time budget of %.0f s reached at step %d", self.seconds, state.global_step)
            control.should_training_stop = True
            control.should_save = True
