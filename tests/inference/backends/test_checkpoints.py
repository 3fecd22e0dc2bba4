"""GGUF files become plain checkpoints once (the real conversion: the slow tests in
test_local_backend.py and tests/training/sft/test_train_export.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.backends import checkpoints
from inference.backends.checkpoints import ModelSource, gguf_cache_path, loadable


def test_a_checkpoint_directory_or_hub_id_is_loaded_as_it_is(tmp_path: Path) -> None:
    for source in (ModelSource(str(tmp_path)), ModelSource("HuggingFaceTB/SmolLM2-135M")):
        with loadable(source, tmp_path / "cache") as plain:
            assert plain == source
    assert not (tmp_path / "cache").exists()


def test_the_cache_folder_changes_with_the_file(tmp_path: Path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"one")
    source = ModelSource(str(tmp_path), gguf.name)
    first = gguf_cache_path(source, tmp_path / "cache")
    gguf.write_bytes(b"longer")
    assert gguf_cache_path(source, tmp_path / "cache") != first
    assert first.parent == tmp_path / "cache"


def test_without_a_writable_cache_the_checkpoint_lives_only_while_it_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Path] = []

    def convert(source: ModelSource, cache_dir: Path) -> Path:
        if cache_dir == tmp_path / "read-only":
            raise PermissionError(13, "Permission denied", str(cache_dir))
        made.append(cache_dir / "converted")
        made[-1].mkdir(parents=True)
        return made[-1]

    monkeypatch.setattr(checkpoints, "plain_checkpoint", convert)
    source = ModelSource(str(tmp_path), "model.gguf")
    for cache_dir in (tmp_path / "read-only", None):
        with loadable(source, cache_dir) as plain:
            assert plain.gguf_file is None
            assert Path(plain.location) == made[-1]
            assert made[-1].is_dir()
        assert not made[-1].exists()
    assert len(made) == 2
