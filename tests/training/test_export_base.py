"""Which base an export uses and names, for a run trained on a GGUF file."""

from __future__ import annotations

from pathlib import Path

from inference.backends.checkpoints import ModelSource
from training.export import adapter_base, base_source
from training.model_card import write_model_card


def gguf_record(tmp_path: Path, checkpoint: Path) -> dict[str, object]:
    return {
        "base_model": {
            "location": str(tmp_path / "pkg"),
            "gguf_file": "model.gguf",
            "checkpoint": str(checkpoint),
            "sha256": "ab" * 32,
        }
    }


def test_the_checkpoint_trained_on_is_the_base_while_it_is_kept(tmp_path: Path) -> None:
    checkpoint = tmp_path / "models" / "model-1-2"
    record = gguf_record(tmp_path, checkpoint)
    # Gone (the cache was cleared): the GGUF file, converted again.
    assert base_source(tmp_path, record, "") == ModelSource(str(tmp_path / "pkg"), "model.gguf")
    checkpoint.mkdir(parents=True)
    (checkpoint / "config.json").write_text("{}")
    assert base_source(tmp_path, record, "") == ModelSource(str(checkpoint))
    # --base still wins.
    assert base_source(tmp_path, record, str(tmp_path)) == ModelSource(str(tmp_path))


def test_an_adapter_without_a_cache_names_the_gguf_file(tmp_path: Path) -> None:
    gguf = ModelSource(str(tmp_path), "model.gguf")
    assert adapter_base(gguf, None) == str(tmp_path / "model.gguf")
    assert adapter_base(ModelSource(str(tmp_path)), None) == str(tmp_path)


def test_the_model_card_names_the_gguf_file_and_its_digest(tmp_path: Path) -> None:
    checkpoint = tmp_path / "models" / "model-1-2"
    card = write_model_card(
        tmp_path, gguf_record(tmp_path, checkpoint), mode="merge", base=str(checkpoint)
    ).read_text()
    assert f"Base model: `{checkpoint}`" in card
    assert f"`{tmp_path / 'pkg' / 'model.gguf'}` (sha256 {'ab' * 32})" in card
    plain = write_model_card(tmp_path, {}, mode="merge", base="x").read_text()
    assert "GGUF" not in plain
