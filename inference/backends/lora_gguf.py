"""A peft LoRA adapter as the GGUF adapter file llama.cpp applies to a GGUF base model.

peft saves ``lora_A`` (r × in) and ``lora_B`` (out × r) per adapted linear layer under Hugging
Face module names (``model.layers.3.self_attn.q_proj``); llama.cpp wants the same two matrices
per tensor under GGUF names (``blk.3.attn_q.weight.lora_a`` / ``.lora_b``), in an adapter file
whose metadata says the architecture and ``lora_alpha`` (llama.cpp scales by alpha / r, as peft
does). The ``gguf`` package's own name map (the one llama.cpp's converters use) gives the names.

One difference in layout: llama.cpp's converter stores the query and key projections of
``llama`` models with the rows of each head reordered for its rotary embedding, and
transformers undoes that when it loads such a GGUF. An adapter trained on that model changes
the rows of ``W`` through ``B``, so ``B``'s rows get the same reordering.

The converted file is kept under the cache directory beside the adapter's other forms, named
after the adapter's weights and the base file, so a retrained adapter gets a new one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import tempfile
from pathlib import Path
from typing import Any

from inference.backends.checkpoints import ModelNotFound, ModelSource

log = logging.getLogger(__name__)

ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
# llama.cpp's llama converter permutes these for rotary embeddings (see module docstring).
_PERMUTED = {"attn_q": "head_count", "attn_k": "head_count_kv"}


class AdapterError(ModelNotFound):
    """The adapter cannot be used with this base model; the message says why."""


def gguf_adapter(adapter: str, base: ModelSource, cache_dir: Path | None) -> Path:
    """The GGUF adapter file for ``adapter`` (a .gguf file as it is, or a peft directory,
    converted once for the base model ``base``)."""
    path = Path(adapter).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise AdapterError(f"adapter file {path} does not exist (SOULCHAT_MODEL__ADAPTER)")
        return path
    if not (path / "adapter_config.json").is_file():
        raise AdapterError(
            f"{path} is not a peft adapter directory (no adapter_config.json) or a .gguf "
            "adapter file (SOULCHAT_MODEL__ADAPTER)"
        )
    assert base.gguf_file is not None
    base_file = Path(base.location) / base.gguf_file
    target_dir = cache_dir if cache_dir is not None else Path(tempfile.mkdtemp(prefix="soulchat-"))
    target = target_dir / f"adapter-{_fingerprint(path, base_file)}.gguf"
    if not target.is_file():
        convert_adapter(path, base_file, target)
    return target


def convert_adapter(adapter_dir: Path, base_file: Path, target: Path) -> None:
    """Write the GGUF form of the peft adapter in ``adapter_dir`` for ``base_file``."""
    import gguf

    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    _check_supported(config, adapter_dir)
    arch, hyper = _base_architecture(base_file)
    names = gguf.get_tensor_name_map(_arch_enum(arch), int(hyper["block_count"]))
    alpha = float(config.get("lora_alpha", config["r"]))
    if config.get("use_rslora"):  # peft scales by alpha / sqrt(r); llama.cpp by alpha / r
        alpha *= float(config["r"]) ** 0.5
    tensors = _peft_tensors(adapter_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{secrets.token_hex(4)}")
    writer = gguf.GGUFWriter(str(staging), arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", alpha)
    count = 0
    for module, (lora_a, lora_b) in sorted(tensors.items()):
        name = names.get_name(module)
        if name is None:
            raise AdapterError(f"adapter layer {module} has no counterpart in a {arch} GGUF model")
        kind = name.rsplit(".", 1)[-1]
        if arch == "llama" and kind in _PERMUTED:
            lora_b = _permute_rows(lora_b, int(hyper["head_count"]), int(hyper[_PERMUTED[kind]]))
        writer.add_tensor(f"{name}.weight.lora_a", lora_a)
        writer.add_tensor(f"{name}.weight.lora_b", lora_b)
        count += 1
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        staging.rename(target)  # atomic: a half-written adapter is never used
    finally:
        staging.unlink(missing_ok=True)
    log.info("converted adapter %s (%d layers) to %s", adapter_dir, count, target)


def _check_supported(config: dict[str, Any], adapter_dir: Path) -> None:
    if config.get("peft_type", "LORA") != "LORA":
        raise AdapterError(f"{adapter_dir} is a {config['peft_type']} adapter; only LoRA converts")
    if config.get("use_dora"):
        raise AdapterError(f"{adapter_dir} is a DoRA adapter, which llama.cpp cannot apply")
    if config.get("modules_to_save"):
        raise AdapterError(
            f"{adapter_dir} also trains whole modules ({config['modules_to_save']}), which a "
            "LoRA file cannot hold: export it merged instead (soulchat export)"
        )


def _peft_tensors(adapter_dir: Path) -> dict[str, tuple[Any, Any]]:
    """``{hf module name: (lora_A, lora_B)}`` as float32 numpy arrays."""
    from safetensors.numpy import load_file

    weights = adapter_dir / ADAPTER_WEIGHTS[0]
    if not weights.is_file():
        raise AdapterError(f"{adapter_dir} has no {ADAPTER_WEIGHTS[0]} (save with safetensors)")
    raw = _load_as_float32(weights, load_file)
    pairs: dict[str, dict[str, Any]] = {}
    for key, value in raw.items():
        # base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight
        stem, _, kind = key.removesuffix(".weight").rpartition(".")
        if kind not in ("lora_A", "lora_B"):
            raise AdapterError(f"unexpected tensor {key} in {weights.name}")
        module = stem.removeprefix("base_model.model.")
        pairs.setdefault(module, {})[kind] = value
    return {module: (pair["lora_A"], pair["lora_B"]) for module, pair in pairs.items()}


def _load_as_float32(weights: Path, load_file: Any) -> dict[str, Any]:
    try:
        return {key: value.astype("float32") for key, value in load_file(str(weights)).items()}
    except TypeError:  # bfloat16 has no numpy type: go through torch
        import torch
        from safetensors.torch import load_file as load_torch

        loaded = load_torch(str(weights))
        return {key: value.to(torch.float32).numpy() for key, value in loaded.items()}


def _base_architecture(base_file: Path) -> tuple[str, dict[str, Any]]:
    """The base model's architecture name and its ``<arch>.*`` hyperparameters."""
    import gguf

    reader = gguf.GGUFReader(str(base_file))
    arch = str(reader.fields["general.architecture"].contents())
    prefix = f"{arch}."
    hyper = {
        key.removeprefix(prefix).removeprefix("attention."): field.contents()
        for key, field in reader.fields.items()
        if key.startswith(prefix)
    }
    return arch, hyper


def _arch_enum(arch: str) -> Any:
    import gguf

    for member, name in gguf.MODEL_ARCH_NAMES.items():
        if name == arch:
            return member
    raise AdapterError(f"the gguf package does not know the architecture {arch!r}")


def _permute_rows(matrix: Any, n_head: int, n_head_kv: int) -> Any:
    """llama.cpp's rotary reordering of a projection's rows (its converter's ``permute``)."""
    if n_head_kv and n_head != n_head_kv:
        n_head = n_head_kv
    rows = matrix.shape[0]
    return (
        matrix.reshape(n_head, 2, rows // n_head // 2, *matrix.shape[1:])
        .swapaxes(1, 2)
        .reshape(matrix.shape)
    )


def _fingerprint(adapter_dir: Path, base_file: Path) -> str:
    digest = hashlib.sha256()
    for name in ("adapter_config.json", *ADAPTER_WEIGHTS):
        path = adapter_dir / name
        if path.is_file():
            digest.update(path.read_bytes())
    stat = base_file.stat()
    digest.update(f"{base_file.name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:16]
