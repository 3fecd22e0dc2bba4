"""Wiring: the store, safety policy, queue, reply inbox and (embedded) worker behind a
``ConversationService``. Every adapter opens the service the same way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from functools import partial

from bots.service import ConversationService
from inference.backends.base import Backend
from inference.embedded import EmbeddedWorker
from inference.queue import check_broker, create_app, send_job
from inference.replies import MemoryReplyBus, create_inbox
from inference.worker import WorkerRuntime, worker_runtime
from safety import SafetyPolicy
from safety.guard import LlmGuard
from soulchat.config import ConfigError, Settings
from soulchat.store import Store

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> Store:
    return Store.open(settings.database.url, auto_migrate=settings.database.auto_migrate)


@contextlib.asynccontextmanager
async def open_service(
    settings: Settings,
    *,
    embedded_worker: bool | None = None,
    backend: Backend | None = None,
    on_loading: Callable[[], None] | None = None,
) -> AsyncIterator[ConversationService]:
    """Open everything a conversation needs; with the embedded queue, also load the model and
    start a worker in this process."""
    embedded = settings.queue.is_embedded if embedded_worker is None else embedded_worker
    memory = settings.queue.reply_url.startswith("memory://")
    if memory and not embedded:
        raise ConfigError(
            "SOULCHAT_QUEUE__REPLY_URL=memory:// needs the embedded worker; with an external "
            "worker set it to the Redis URL the workers use"
        )
    bus = MemoryReplyBus() if memory else None
    store = await asyncio.to_thread(open_store, settings)
    worker: EmbeddedWorker | None = None
    try:
        runtime_factory: Callable[[], WorkerRuntime] | None = None
        if embedded:
            if on_loading is not None:
                on_loading()
            runtime = await asyncio.to_thread(worker_runtime, settings, bus, backend)
            runtime_factory = lambda: runtime  # noqa: E731
        app = create_app(settings, runtime_factory)
        await asyncio.to_thread(check_broker, app, settings.queue.broker_url)
        if embedded:
            worker = EmbeddedWorker(app)
            await asyncio.to_thread(worker.start)
        safety = await asyncio.to_thread(SafetyPolicy.from_settings, settings.safety)
        guard = LlmGuard.from_settings(settings.safety)
        service = ConversationService(
            settings,
            store,
            safety,
            partial(send_job, app),
            create_inbox(settings.queue.reply_url, bus),
            guard,
        )
        await service.start()
        try:
            yield service
        finally:
            await service.stop()
            if guard is not None:
                await guard.aclose()
    finally:
        if worker is not None:
            await asyncio.to_thread(worker.stop)
        store.close()
