"""Build the configured backend."""

from __future__ import annotations

from inference.backends.base import Backend
from soulchat.config import ModelSettings


def create_backend(settings: ModelSettings) -> Backend:
    if settings.backend == "local":
        from inference.backends.local import LocalBackend

        return LocalBackend.load(
            settings.path, adapter=settings.adapter, device=settings.device, dtype=settings.dtype
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
