"""Which engine a configuration gets: ``auto`` runs GGUF files (the default model is one) on
llama.cpp and checkpoint directories on transformers."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.backends.factory import create_backend, engine_for
from inference.backends.llamacpp import LlamaCppBackend
from inference.backends.local import LocalBackend
from soulchat.config import ModelSettings


@pytest.mark.parametrize(
    ("backend", "path", "engine"),
    [
        ("auto", "", "llamacpp"),
        ("auto", "/models/qwen.gguf", "llamacpp"),
        ("auto", "/models/checkpoint", "local"),
        ("auto", "HuggingFaceTB/SmolLM2-135M-Instruct", "local"),
        ("local", "", "local"),
        ("llamacpp", "/models/checkpoint", "llamacpp"),
        ("tgi", "", "tgi"),
    ],
)
def test_auto_picks_the_engine_that_can_read_the_model(
    backend: str, path: str, engine: str
) -> None:
    assert engine_for(ModelSettings(backend=backend, path=path)) == engine  # type: ignore[arg-type]


def test_the_default_model_runs_on_llama_cpp(tmp_path: Path) -> None:
    backend = create_backend(ModelSettings(), tmp_path)
    assert isinstance(backend, LlamaCppBackend)
    backend.close()


def test_a_checkpoint_directory_runs_on_transformers(tiny_model_dir: Path) -> None:
    backend = create_backend(ModelSettings(path=str(tiny_model_dir), device="cpu"))
    assert isinstance(backend, LocalBackend)
