"""The LoRA adapters that ship inside SoulChat: the project's own fine-tunes.

Each lies in ``inference/adapters/<name>/`` as ``soulchat export --adapter-only`` wrote it (a
peft adapter, its model card, the training run's record and the data manifest) and names the
packaged base it was trained on. ``model.adapter = "auto"`` (the default) applies the adapter
trained on the configured base and nothing to any other base, so choosing another model never
loads an adapter made for a different one; ``""`` serves the bare base.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inference.backends.checkpoints import ModelNotFound

ADAPTERS_DIR = Path(__file__).resolve().parent.parent / "adapters"
AUTO = "auto"


@dataclass(frozen=True)
class ShippedAdapter:
    name: str
    base: str  # the packaged model (inference/backends/packaged.py) it was trained on
    directory: Path


SHIPPED_ADAPTERS: dict[str, ShippedAdapter] = {
    adapter.name: adapter
    for adapter in (
        ShippedAdapter(
            name="soulchat-qwen2.5-0.5b",
            base="qwen2.5-0.5b",
            directory=ADAPTERS_DIR / "soulchat-qwen2.5-0.5b",
        ),
    )
}


def resolve_adapter(adapter: str, model_path: str) -> str:
    """The adapter to apply to ``model_path``: a directory or GGUF file, or ``""`` for none.

    ``auto`` is the shipped adapter trained on that base (none for other bases); a shipped
    adapter's name is its directory; anything else is a path, returned as given."""
    if adapter == AUTO:
        for shipped in SHIPPED_ADAPTERS.values():
            if shipped.base == model_path:
                return _present(shipped)
        return ""
    if adapter in SHIPPED_ADAPTERS:
        return _present(SHIPPED_ADAPTERS[adapter])
    return adapter


def _present(shipped: ShippedAdapter) -> str:
    if not (shipped.directory / "adapter_config.json").is_file():
        raise ModelNotFound(
            f"the shipped adapter {shipped.name} is missing from {shipped.directory}: "
            "reinstall SoulChat, or set SOULCHAT_MODEL__ADAPTER='' for the bare base"
        )
    return str(shipped.directory)
