"""The conversation service: one path from a person's message to a stored, streamed reply.

Every adapter (console, Telegram, Discord) hands each incoming message to ``receive`` with a
``ReplySink`` that knows how to show things on its platform. For each message:

1. clean the text; an empty message gets a kind notice;
2. store it (a platform message seen before is ignored);
3. screen it (``risk.py``); at risk, crisis resources are shown at once, before any model
   reply; while an operator holds the conversation, the words go to them instead;
4. answer it (``turns.py``): one turn at a time, so a message that arrives while a reply is
   being generated joins the next turn.

The parts: ``state.py`` (what is cached per conversation), ``screening.py`` (the screen off
the event loop), ``risk.py`` (risk, crisis lines, operators' alerts, audit), ``turns.py``
(the turn lifecycle), ``commands.py`` (what a person asks about their own data). The operator
desk reaches this service only through ``ConversationControl`` (``ports.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bots.conversation.blocking import StoreThreads
from bots.conversation.commands import UserCommands
from bots.conversation.ports import Escalation, Inbound, ReplySink
from bots.conversation.risk import RiskResponse
from bots.conversation.screening import Screener
from bots.conversation.state import (
    ConversationState,
    LatchGate,
    StateCache,
    load_state,
    refresh_case,
)
from bots.conversation.turns import Dispatch, TurnEngine
from bots.texts import text as say
from inference.replies import ReplyInbox
from safety import SafetyPolicy
from safety.audit import AuditLog
from safety.disclosure import asks_if_human, disclosure_due
from safety.guard import LlmGuard
from safety.screen import RiskAssessment
from soulchat.config import Settings
from soulchat.store import Store
from soulchat.text import clean_text

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL_S = 3600.0  # retention purge and dropping idle state


class ConversationService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        safety: SafetyPolicy,
        dispatch: Dispatch,
        inbox: ReplyInbox,
        guard: LlmGuard | None = None,
        *,
        threads: StoreThreads | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.safety = safety
        self.inbox = inbox
        self.threads = threads or StoreThreads(store.engine.dialect.name)
        self.audit = audit or AuditLog(store.engine)
        self.states = StateCache()
        self.screener = Screener(safety)
        self.risk = RiskResponse(
            settings, safety, store, self.threads, self.audit, self.screener, guard
        )
        self.turns = TurnEngine(
            settings, safety, store, self.threads, dispatch, inbox, self.risk, self._refresh
        )
        self.commands = UserCommands(
            settings, store, self.threads, self.states, self.turns, self.audit
        )
        self.escalation: Escalation | None = None
        self._housekeeping: asyncio.Task[None] | None = None

    def attach_escalation(self, escalation: Escalation) -> None:
        """The operator desk, once it exists (``bots/runtime.py`` wires it)."""
        self.escalation = escalation
        self.risk.escalation = escalation
        self.commands.escalation = escalation

    async def start(self) -> None:
        await self.inbox.start()
        self._housekeeping = asyncio.create_task(self._keep_house(), name="soulchat-housekeeping")

    async def stop(self) -> None:
        tasks = [state.task for state in self.states if state.task and not state.task.done()]
        tasks += self.risk.background_tasks()
        for task in [*tasks, self._housekeeping]:
            if task is not None:
                task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.inbox.stop()
        self.threads.shutdown()
        self.screener.shutdown()

    async def screen(self, messages: Sequence[str]) -> RiskAssessment:
        """The safety screen on a person's latest messages, off the event loop."""
        return await self.screener.screen(messages)

    @property
    def semantic_shed(self) -> int:
        """Messages screened without the semantic layer because it was overloaded."""
        return self.screener.shed

    # -- incoming messages ---------------------------------------------------------------
    async def receive(self, inbound: Inbound, sink: ReplySink) -> None:
        """Take one message; replies arrive through ``sink``. Returns once it is stored."""
        text = clean_text(inbound.text)
        state = await self._state(inbound, text, sink)
        if not text:
            await sink.notice(say(state.locale, "empty"))
            return
        await self._disclose_if_due(state)
        stored = await self.threads.run(
            self.store.add_user_message, state.conversation_id, text, inbound.message_id
        )
        if stored is None:
            log.info("duplicate platform message ignored (conversation %s)", state.conversation_id)
            return
        await self.risk.screen(state, text)
        if state.latched_to is not None and self.escalation is not None:
            await self.escalation.relay_from_user(state.user_id, text)
            return
        if asks_if_human(text):  # answered truthfully, before the model says anything
            await sink.notice(say(state.locale, "i_am_ai"))
        limit = self.settings.context.max_message_chars
        if len(text) > limit:
            await sink.notice(say(state.locale, "too_long", limit=limit))
        self.turns.answer(state)

    async def _state(self, inbound: Inbound, text: str, sink: ReplySink) -> ConversationState:
        state = self.states.get(inbound.platform, inbound.user_id)
        if state is None:
            state = await self.threads.run(
                load_state,
                self.store,
                self.settings,
                self.escalation,
                inbound,
                text,
                sink,
                self.safety.default_region,
            )
            self.states.put(inbound.platform, inbound.user_id, state)
        elif state.case_id is not None:
            await self.threads.run(self._refresh, state)  # claimed in another process?
        if inbound.region is not None:  # the client may say something new
            state.hinted_region = inbound.region
        state.sink = LatchGate(sink, state)
        state.last_active = time.monotonic()
        return state

    def _refresh(self, state: ConversationState) -> None:
        refresh_case(state, self.escalation)

    async def _disclose_if_due(self, state: ConversationState) -> None:
        """Say this is an AI at the start of a session and at least every three hours."""
        now = datetime.now(UTC)
        if not disclosure_due(state.disclosed_at, now):
            return
        await state.sink.notice(say(state.locale, "disclaimer"))
        state.disclosed_at = now
        await self.threads.run(self.store.mark_ai_disclosed, state.user_id, now)

    async def wait_idle(self, platform: str, user_id: str) -> None:
        """Until no reply is being generated for this person (scripted console, tests)."""
        state = self.states.get(platform, user_id)
        while state is not None and state.busy:
            assert state.task is not None
            await asyncio.shield(state.task)

    # -- ConversationControl: what the operator desk may do ------------------------------
    async def latch(self, platform: str, user_id: str, operator: str) -> None:
        """An operator claimed the conversation: stop the turn in flight; from now on the
        bot says nothing until release or resolution."""
        state = self.states.get(platform, user_id)
        if state is None:
            return  # read back from the claimed case when the person next writes
        state.latched_to = operator
        await self.turns.cancel(state)

    async def unlatch(self, platform: str, user_id: str) -> None:
        state = self.states.get(platform, user_id)
        if state is not None:
            state.latched_to = None

    async def resolve_risk(self, platform: str, user_id: str) -> None:
        """An operator resolved the case: the latched high risk is cleared from now on."""
        user = await self.threads.run(self.store.find_user, platform, user_id)
        if user is None:
            return
        await self.threads.run(
            self.store.record_safety_event, user.id, None, "risk_resolved", 0, []
        )
        state = self.states.get(platform, user_id)
        if state is not None:
            state.risk.resolve(datetime.now(UTC))
            state.case_id = None

    async def store_operator_message(self, platform: str, user_id: str, text: str) -> None:
        """What the volunteer wrote joins the conversation, so the model sees it later."""
        user = await self.threads.run(self.store.find_user, platform, user_id)
        if user is None:
            return
        conversation_id = await self.threads.run(self.store.open_conversation, user.id)
        key = f"op-{uuid.uuid4().hex}"
        await self.threads.run(self.store.add_assistant_message, conversation_id, text, key, None)

    # -- housekeeping --------------------------------------------------------------------
    async def _keep_house(self) -> None:
        retention_days = self.settings.database.retention_days
        while True:
            if retention_days:
                try:
                    removed = await self.threads.run(
                        self.store.purge_idle_conversations, timedelta(days=retention_days)
                    )
                    if removed:
                        log.info("retention: deleted %d idle conversations", removed)
                except Exception:
                    log.exception("retention purge failed")
            self.states.evict_idle()
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)
