"""From a training run to something a server loads.

Two forms:

* ``merge``: the adapter folded into its base and saved as safetensors with the tokenizer, a
  plain checkpoint that TGI, vLLM or the local backend (``SOULCHAT_MODEL__PATH``) load as is.
* ``adapter``: the LoRA adapter alone, for TGI's ``LORA_ADAPTERS`` or the local backend's
  ``SOULCHAT_MODEL__ADAPTER`` next to the unchanged base.

A full fine-tune is already a checkpoint; exporting it re-saves it as safetensors. Either way
a model card (README.md) names the base, the data and its licences. A GGUF base (the default
SmolLM2) is used as the plain checkpoint that training used (``inference.backends.checkpoints``),
found in or converted into the cache directory.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from inference.backends.checkpoints import ModelSource, loadable, plain_checkpoint
from inference.backends.local import resolve_model_source
from inference.backends.packaged import PACKAGED_MODELS
from training.model_card import write_model_card
from training.sft.trainer import RUN_RECORD

ExportMode = Literal["merge", "adapter"]
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "adapter_model.bin")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
)


class ExportError(ValueError):
    """The run directory cannot be exported; the message says why."""


@dataclass
class ExportResult:
    out: Path
    mode: ExportMode
    base: str


def read_run_record(run_dir: Path) -> dict[str, Any]:
    path = run_dir / RUN_RECORD
    if not path.is_file():
        return {}
    try:
        record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path}: not valid JSON ({exc.msg})") from None
    return record


def base_source(
    run_dir: Path, record: dict[str, Any], base: str, cache_dir: Path | None = None
) -> ModelSource:
    """The base model: given explicitly, else as the run recorded it (for a GGUF file, the
    plain checkpoint it trained on while that is kept, else the file), else as the adapter
    config names it."""
    if base:
        return resolve_model_source(base, cache_dir)
    recorded = record.get("base_model") or {}
    checkpoint = recorded.get("checkpoint")
    if checkpoint and (Path(checkpoint) / "config.json").is_file():
        return ModelSource(checkpoint)
    if recorded.get("location"):
        return ModelSource(recorded["location"], recorded.get("gguf_file"))
    config_path = run_dir / "adapter_config.json"
    if config_path.is_file():
        name = json.loads(config_path.read_text(encoding="utf-8")).get("base_model_name_or_path")
        if name:
            return resolve_model_source(str(name), cache_dir)
    raise ExportError(f"{run_dir}: cannot tell the base model; pass --base")


def is_adapter(run_dir: Path) -> bool:
    return (run_dir / "adapter_config.json").is_file()


def export_run(
    run_dir: str | Path,
    out: str | Path,
    *,
    mode: ExportMode = "merge",
    base: str = "",
    cache_dir: Path | None = None,
    half: bool = False,
) -> ExportResult:
    """Export ``run_dir`` to ``out``; ``cache_dir`` holds (or receives) the plain checkpoint
    of a GGUF base, which an adapter's config then names as its base."""
    run_dir, out = Path(run_dir), Path(out)
    if not run_dir.is_dir():
        raise ExportError(f"{run_dir} is not a directory")
    if out.exists() and any(out.iterdir()):
        raise ExportError(f"{out} exists and is not empty; choose a new directory")
    record = read_run_record(run_dir)
    if not is_adapter(run_dir) and not (run_dir / "config.json").is_file():
        raise ExportError(f"{run_dir} holds neither an adapter nor a model checkpoint")
    out.mkdir(parents=True, exist_ok=True)
    if is_adapter(run_dir) and mode == "adapter":
        source = base_source(run_dir, record, base, cache_dir)
        # A packaged base is recorded by its name, which every machine resolves the same
        # way, rather than by where this machine keeps its checkpoint.
        named = base if base in PACKAGED_MODELS else adapter_base(source, cache_dir)
        # A packaged base's GGUF carries its tokenizer, which every engine reads from there.
        _copy_adapter(run_dir, out, named, tokenizer=named not in PACKAGED_MODELS)
        if half:
            _halve(out / "adapter_model.safetensors")
    else:
        source = (
            base_source(run_dir, record, base, cache_dir)
            if is_adapter(run_dir)
            else ModelSource("")
        )
        _save_merged(run_dir, out, source, cache_dir)
        mode = "merge"
    described = source.describe() or "(full fine-tune)"
    if base in PACKAGED_MODELS:
        packaged = PACKAGED_MODELS[base]
        described = (
            f"{base}: {packaged.upstream}, {packaged.attribution}; licence {packaged.licence}"
        )
    write_model_card(out, record, mode=mode, base=described)
    return ExportResult(out, mode, source.describe())


def adapter_base(source: ModelSource, cache_dir: Path | None) -> str:
    """What an exported adapter's config names as its base: a directory or hub id
    ``from_pretrained`` loads, so for a GGUF file its plain checkpoint in ``cache_dir``;
    without a cache, the GGUF file itself (which SOULCHAT_MODEL__PATH accepts)."""
    if not source.gguf_file:
        return source.location
    if cache_dir is None:
        return source.describe()
    return str(plain_checkpoint(source, cache_dir))


def _copy_adapter(run_dir: Path, out: Path, base: str, *, tokenizer: bool = True) -> None:
    for name in ADAPTER_FILES + (TOKENIZER_FILES if tokenizer else ()):
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, out / name)
    config_path = out / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")


def _halve(weights: Path) -> None:
    """Store the adapter's float32 tensors in float16: half the size, to about three
    significant digits; LoRA's updates are small and both engines cast them to the base's
    dtype when they load them."""
    if not weights.is_file():
        raise ExportError(f"{weights.parent}: --half needs adapter_model.safetensors")
    import torch
    from safetensors.torch import load_file, save_file

    tensors = load_file(weights)
    halved = {
        name: tensor.to(torch.float16) if tensor.dtype == torch.float32 else tensor
        for name, tensor in tensors.items()
    }
    save_file(halved, weights, metadata={"format": "pt"})


def _save_merged(run_dir: Path, out: Path, source: ModelSource, cache_dir: Path | None) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if source.location:
        from peft import PeftModel

        with loadable(source, cache_dir) as plain:
            model = AutoModelForCausalLM.from_pretrained(plain.location)
            model = PeftModel.from_pretrained(model, str(run_dir)).merge_and_unload()
    else:
        model = AutoModelForCausalLM.from_pretrained(str(run_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(run_dir))
    model.config.use_cache = True
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
