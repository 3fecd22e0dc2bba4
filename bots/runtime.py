"""Wiring, in one place: the store, safety policy, queue, reply inbox and (embedded) worker
behind a ``ConversationService``, and the operator desk beside it. Every adapter opens the
same ``Runtime`` and builds what it needs from its parts; nothing reaches through another
part to find a third."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial

from bots.conversation import ConversationService
from bots.conversation.blocking import StoreThreads
from bots.flood import FloodGuard
from bots.frontdesk import FrontDesk
from bots.operators.desk import OperatorChannel, OperatorDesk
from bots.operators.webhook import WebhookAlerter
from inference.backends.base import Backend
from inference.embedded import EmbeddedWorker
from inference.queue import check_broker, create_app, send_job
from inference.replies import MemoryReplyBus, create_inbox
from inference.worker import WorkerRuntime, worker_runtime
from safety import SafetyPolicy
from safety.audit import AuditLog
from safety.guard import LlmGuard
from soulchat.config import ConfigError, Settings
from soulchat.store import Store, open_store
from soulchat.store.cases import CaseStore

log = logging.getLogger(__name__)


def load_safety(settings: Settings) -> SafetyPolicy:
    """The safety policy; a crisis resources file that is malformed, or that has no lines
    for the default region, stops the start with one line saying so."""
    try:
        return SafetyPolicy.from_settings(settings.safety)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


@dataclass
class Runtime:
    """What one bot process runs on. Adapters take what they need from here."""

    settings: Settings
    store: Store
    safety: SafetyPolicy
    service: ConversationService
    threads: StoreThreads
    audit: AuditLog

    def front_desk(self, platform: str) -> FrontDesk:
        """The front desk of a platform, with that platform's flood limit and invitations
        (the console has neither: its one person is at the keyboard)."""
        group = self.settings.chat_platforms().get(platform)
        flood = FloodGuard(group.flood_messages, group.flood_window_s) if group else FloodGuard()
        return FrontDesk(
            self.service,
            self.safety,
            platform,
            flood,
            retention_days=self.settings.database.retention_days,
            default_locale=self.settings.default_locale,
            allowed_user_ids=group.allowed_user_ids if group else (),
        )

    async def start_operator_desk(self, channel: OperatorChannel) -> OperatorDesk | None:
        """The operator desk for the channel's platform, when that platform has operators,
        connected to the conversation both ways."""
        team = self.settings.chat_platforms()[channel.platform]
        if not team.has_operators:
            return None
        operators = self.settings.operators
        secret = operators.webhook_secret
        webhook = (
            WebhookAlerter(
                operators.webhook_url, secret=secret.get_secret_value() if secret else None
            )
            if operators.webhook_url
            else None
        )
        desk = OperatorDesk(
            operators,
            team,
            self.service,
            channel,
            cases=CaseStore(self.store.engine),
            audit=self.audit,
            threads=self.threads,
            webhook=webhook,
        )
        self.service.attach_escalation(desk)
        await desk.start()
        return desk


async def stop_operator_desk(desk: OperatorDesk | None) -> None:
    if desk is None:
        return
    await desk.stop()
    if isinstance(desk.webhook, WebhookAlerter):
        await desk.webhook.aclose()


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    embedded_worker: bool | None = None,
    backend: Backend | None = None,
    on_loading: Callable[[], None] | None = None,
) -> AsyncIterator[Runtime]:
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
        safety = await asyncio.to_thread(load_safety, settings)
        guard = LlmGuard.from_settings(settings.safety)
        threads = StoreThreads(store.engine.dialect.name)
        audit = AuditLog(store.engine)
        service = ConversationService(
            settings,
            store,
            safety,
            partial(send_job, app),
            create_inbox(settings.queue.reply_url, bus),
            guard,
            threads=threads,
            audit=audit,
        )
        await service.start()
        try:
            yield Runtime(settings, store, safety, service, threads, audit)
        finally:
            await service.stop()
            if guard is not None:
                await guard.aclose()
    finally:
        if worker is not None:
            await asyncio.to_thread(worker.stop)
        store.close()


@contextlib.asynccontextmanager
async def open_service(
    settings: Settings,
    *,
    embedded_worker: bool | None = None,
    backend: Backend | None = None,
    on_loading: Callable[[], None] | None = None,
) -> AsyncIterator[ConversationService]:
    """Only the conversation service (the console, tests and benchmarks need no more)."""
    async with open_runtime(
        settings, embedded_worker=embedded_worker, backend=backend, on_loading=on_loading
    ) as runtime:
        yield runtime.service
