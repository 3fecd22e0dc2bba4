"""Build the configured backend."""

from __future__ import annotations

from pathlib import Path

from inference.backends.base import Backend
from soulchat.config import ModelSettings


def create_backend(settings: ModelSettings, cache_dir: Path | None = None) -> Backend:
    """The configured backend; ``cache_dir`` keeps converted GGUF models between starts."""
    if settings.backend == "local":
        from inference.backends.local import LocalBackend

        return LocalBackend.load(
            settings.path,
            adapter=settings.adapter,
            device=settings.device,
            dtype=settings.dtype,
            cache_dir=cache_dir,
        )
    if settings.backend == "tgi":
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
