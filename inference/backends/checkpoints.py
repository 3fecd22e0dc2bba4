"""Plain checkpoints made once from GGUF files, for serving, training and export alike.

``from_pretrained(directory, gguf_file=name)`` dequantises a GGUF file into ordinary float
weights, but the model it returns still carries the GGUF "quantizer": the Trainer refuses to
fine-tune it and ``save_pretrained`` to save it. Rather than strip private attributes off that
model (transformers 5.25 broke the trick that 5.24 accepted), its weights are copied into a
fresh model built from the same configuration without ``quantization_config``, through public
APIs only (``from_config``, ``load_state_dict``), and that model is saved with the GGUF's
tokenizer as a safetensors checkpoint. ``LocalBackend.load``, ``training.sft.model.load_base``
and ``training.export`` then load that directory like any other checkpoint.

A checkpoint is kept under a cache directory (``data_dir/models``, which ``soulchat chat``,
``soulchat train sft`` and ``soulchat export`` share) in a folder named after the file's name,
size and modification time, so a changed file gets a new one. It is written under a staging
name and renamed when complete, so a half-written checkpoint is never used, and a
``soulchat_gguf_source.json`` in it records which file it came from.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SOURCE_RECORD = "soulchat_gguf_source.json"


class ModelNotFound(Exception):
    """The configured model cannot be found or loaded; the message says how to fix it."""


@dataclass(frozen=True)
class ModelSource:
    """Where ``from_pretrained`` should look: a directory or hub id, and a GGUF file name."""

    location: str
    gguf_file: str | None = None

    def describe(self) -> str:
        return f"{self.location}/{self.gguf_file}" if self.gguf_file else self.location


def gguf_cache_path(source: ModelSource, cache_dir: Path) -> Path:
    """Where a GGUF file's plain checkpoint lives; a changed file gets a new one."""
    assert source.gguf_file is not None
    stat = (Path(source.location) / source.gguf_file).stat()
    return cache_dir / f"{Path(source.gguf_file).stem}-{stat.st_size}-{int(stat.st_mtime)}"


def plain_checkpoint(source: ModelSource, cache_dir: Path) -> Path:
    """The plain checkpoint directory of the GGUF file ``source``, converted on first use."""
    target = gguf_cache_path(source, cache_dir)
    if not (target / "config.json").is_file():
        convert_gguf(source, target)
    return target


@contextmanager
def loadable(source: ModelSource, cache_dir: Path | None) -> Iterator[ModelSource]:
    """What to pass to ``from_pretrained`` for ``source``: ``source`` itself unless it is a
    GGUF file, else its plain checkpoint in ``cache_dir``. Without a cache directory, or one
    that cannot be written, the checkpoint is made in a temporary directory removed on exit:
    load everything inside the ``with`` block."""
    if not source.gguf_file:
        yield source
        return
    if cache_dir is not None:
        try:
            directory = plain_checkpoint(source, cache_dir)
        except OSError as exc:
            log.warning("cannot keep the converted model in %s (%s)", cache_dir, exc)
        else:
            yield ModelSource(str(directory))
            return
    with tempfile.TemporaryDirectory(prefix="soulchat-gguf-") as scratch:
        yield ModelSource(str(plain_checkpoint(source, Path(scratch))))


def gguf_tokenizer(source: ModelSource, cache_dir: Path | None) -> Any:
    """The Hugging Face tokenizer (and chat template) inside the GGUF file ``source``, saved
    once under ``cache_dir``: reading it from the GGUF takes seconds, the saved copy a
    fraction of one. A plain checkpoint of the same file already holds it."""
    from transformers import AutoTokenizer

    assert source.gguf_file is not None
    if cache_dir is not None:
        for directory in (gguf_cache_path(source, cache_dir), _tokenizer_path(source, cache_dir)):
            if (directory / "tokenizer_config.json").is_file():
                return AutoTokenizer.from_pretrained(str(directory))
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.location, gguf_file=source.gguf_file)
    except (OSError, ValueError) as exc:
        raise ModelNotFound(f"cannot read the tokenizer of {source.describe()}: {exc}") from exc
    if cache_dir is not None:
        try:
            _save_atomically(tokenizer, _tokenizer_path(source, cache_dir))
        except OSError as exc:
            log.warning("cannot keep the tokenizer in %s (%s)", cache_dir, exc)
    return tokenizer


def _tokenizer_path(source: ModelSource, cache_dir: Path) -> Path:
    return gguf_cache_path(source, cache_dir).with_name(
        gguf_cache_path(source, cache_dir).name + "-tokenizer"
    )


def _save_atomically(tokenizer: Any, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".saving-"))
    try:
        tokenizer.save_pretrained(staging)
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "tokenizer_config.json").is_file():
            raise


def source_record(directory: str | Path) -> dict[str, Any]:
    """What ``directory`` was converted from, if it is a converted checkpoint."""
    path = Path(directory) / SOURCE_RECORD
    if not path.is_file():
        return {}
    record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return record


def convert_gguf(source: ModelSource, target: Path) -> None:
    """Dequantise the GGUF file ``source`` into a float32 safetensors checkpoint at
    ``target`` (model, generation config, tokenizer), atomically."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert source.gguf_file is not None
    gguf = Path(source.location) / source.gguf_file
    started = time.perf_counter()
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.location, gguf_file=source.gguf_file)
        loaded = AutoModelForCausalLM.from_pretrained(
            source.location,
            gguf_file=source.gguf_file,
            dtype=torch.float32,
            **_dequantised(),
        )
    except OSError as exc:
        raise ModelNotFound(f"cannot load model {source.describe()}: {exc}") from exc
    model = plain_copy(loaded)
    del loaded
    record = {
        "gguf_file": str(gguf.resolve()),
        "size": gguf.stat().st_size,
        "sha256": _sha256(gguf),
        "dtype": "float32",
        "transformers": transformers.__version__,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".converting-"))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / SOURCE_RECORD).write_text(json.dumps(record, indent=2), encoding="utf-8")
        staging.rename(target)  # atomic: a half-written checkpoint is never used
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if (target / "config.json").is_file():
            return  # another process converted the same file first
        raise
    log.info("converted %s to %s in %.1fs", gguf, target, time.perf_counter() - started)


def plain_copy(loaded: Any) -> Any:
    """The weights of a GGUF-loaded model in a fresh model of the same architecture whose
    configuration has no ``quantization_config``, so nothing marks it as quantised."""
    from transformers import AutoModelForCausalLM

    settings = loaded.config.to_dict()
    settings.pop("quantization_config", None)
    config = type(loaded.config).from_dict(settings)
    model = AutoModelForCausalLM.from_config(config, dtype=loaded.dtype)
    model.load_state_dict(loaded.state_dict(), strict=True)
    model.generation_config = copy.deepcopy(loaded.generation_config)
    return model


def _dequantised() -> dict[str, Any]:
    """Ask for every weight unpacked to floats: since 5.25 transformers can keep GGUF blocks
    packed where a matmul kernel exists (GPUs with ``kernels``), and those are no state dict
    for a plain model. Before 5.25 every weight was unpacked anyway."""
    try:
        from transformers import GgufConfig
    except ImportError:
        return {}
    return {"quantization_config": GgufConfig(dequantize=True)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
