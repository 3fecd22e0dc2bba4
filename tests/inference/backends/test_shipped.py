"""Which adapter a configuration gets: SoulChat's own for the base it was trained on, nothing
for another base, nothing when set empty; and what the shipped adapter must carry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inference.backends.checkpoints import ModelNotFound
from inference.backends.shipped import SHIPPED_ADAPTERS, ShippedAdapter, resolve_adapter
from soulchat.config import ModelSettings

SHIPPED = SHIPPED_ADAPTERS["soulchat-qwen2.5-0.5b"]


def test_the_default_configuration_serves_the_shipped_adapter_on_its_base() -> None:
    settings = ModelSettings()
    assert resolve_adapter(settings.adapter, settings.path) == str(SHIPPED.directory)


@pytest.mark.parametrize("model", ["qwen2.5-1.5b", "", "/models/other.gguf"])
def test_auto_gives_another_base_no_adapter(model: str) -> None:
    assert resolve_adapter("auto", model) == ""


def test_empty_gives_the_bare_base() -> None:
    assert resolve_adapter("", "qwen2.5-0.5b") == ""


def test_a_name_or_a_path(tmp_path: Path) -> None:
    assert resolve_adapter("soulchat-qwen2.5-0.5b", "/models/x.gguf") == str(SHIPPED.directory)
    assert resolve_adapter(str(tmp_path), "qwen2.5-0.5b") == str(tmp_path)


def test_a_missing_shipped_adapter_says_how_to_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = ShippedAdapter("soulchat-qwen2.5-0.5b", "qwen2.5-0.5b", tmp_path / "gone")
    monkeypatch.setitem(SHIPPED_ADAPTERS, gone.name, gone)
    with pytest.raises(ModelNotFound, match="SOULCHAT_MODEL__ADAPTER=''"):
        resolve_adapter("auto", "qwen2.5-0.5b")


def test_the_shipped_adapter_is_small_and_documented() -> None:
    """What the issue asks to ship with it: the weights well under 25 MB, a model card, the
    run record and a manifest of the data (counts and licences, never text)."""
    files = {path.name: path for path in SHIPPED.directory.iterdir()}
    for name in ("adapter_config.json", "adapter_model.safetensors", "README.md"):
        assert name in files, name
    assert sum(path.stat().st_size for path in files.values()) < 20_000_000
    config = json.loads(files["adapter_config.json"].read_text(encoding="utf-8"))
    assert config["base_model_name_or_path"] == SHIPPED.base  # a name, not this machine's path
    record = json.loads(files["soulchat_run.json"].read_text(encoding="utf-8"))
    assert record["data"]["sources"]
    manifest = json.loads(files["data_manifest.json"].read_text(encoding="utf-8"))
    assert set(manifest["sources"]) == set(record["data"]["sources"])
    card = files["README.md"].read_text(encoding="utf-8")
    assert "esconv" not in record["data"]["sources"]  # its NC licence would pass to the weights
    assert "CC0" in card and "CC BY 4.0" in card and "MIT" in card
