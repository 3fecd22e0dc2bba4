"""Build the configured backend."""

from __future__ import annotations

from pathlib import Path

from inference.backends.base import Backend
from inference.backends.shipped import resolve_adapter
from soulchat.config import ModelSettings


def engine_for(settings: ModelSettings) -> str:
    """The backend ``auto`` stands for: llama.cpp where the model is a GGUF file (the default
    model is), transformers for checkpoint directories and hub ids, which llama.cpp cannot
    read."""
    if settings.backend != "auto":
        return settings.backend
    from inference.backends.packaged import PACKAGED_MODELS

    if not settings.path or settings.path in PACKAGED_MODELS:
        return "llamacpp"
    if Path(settings.path).expanduser().suffix == ".gguf":
        return "llamacpp"
    return "local"


def create_backend(settings: ModelSettings, cache_dir: Path | None = None) -> Backend:
    """The configured backend; ``cache_dir`` keeps converted models and adapters between
    starts."""
    engine = engine_for(settings)
    if engine == "llamacpp":
        from inference.backends.llamacpp import LlamaCppBackend
        from inference.backends.local import resolve_model_source
        from inference.backends.lora_gguf import gguf_adapter

        source = resolve_model_source(settings.path, cache_dir)
        adapter_path = resolve_adapter(settings.adapter, settings.path)
        adapter = gguf_adapter(adapter_path, source, cache_dir) if adapter_path else None
        return LlamaCppBackend.load(
            source,
            adapter=adapter,
            context_tokens=settings.context_tokens,
            threads=settings.threads,
            cache_dir=cache_dir,
        )
    if engine == "local":
        from inference.backends.local import LocalBackend

        return LocalBackend.load(
            settings.path,
            adapter=resolve_adapter(settings.adapter, settings.path),
            device=settings.device,
            dtype=settings.dtype,
            cache_dir=cache_dir,
        )
    if engine == "tgi":
        from inference.backends.tgi import TGIBackend

        token = settings.tgi_token.get_secret_value() if settings.tgi_token else None
        return TGIBackend(
            settings.tgi_url,
            token=token,
            model=settings.tgi_model,
            timeout=settings.request_timeout_s,
            tokenizer=settings.tokenizer,
        )
    from inference.backends.fake import FakeBackend

    return FakeBackend(settings.fake_latency_ms / 1000, settings.fake_tokens)
