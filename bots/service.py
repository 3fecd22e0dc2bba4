"""The conversation service: one path from a user's message to a stored, streamed reply.

Every adapter (console, Telegram, Discord) hands each incoming message to ``receive`` with a
``ReplySink`` that knows how to show things on its platform. For each message:

1. clean the text; an empty message gets a kind notice;
2. store it (a platform message seen before is ignored);
3. screen it; at risk, crisis resources are shown at once, before any model reply;
4. if a reply is already being generated for this conversation, the message waits and joins
   the next turn; otherwise a turn starts:
5. the recent turns go to the queue as a ``GenerationJob``; the reply streams back through this
   process's inbox, is checked by the output filter as it grows, shown through the sink, and
   stored once (the turn key is the idempotency key).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Protocol, TypeVar

from bots.inbound import clean_text, detect_locale
from bots.streaming import StreamGuard
from bots.texts import text as say
from inference.job import GenerationJob, GenerationParams, JobTurn, ReplyEvent
from inference.prompt import select_turns, system_prompt_for
from inference.replies import ReplyInbox
from safety import SafetyPolicy
from safety.audit import AuditLog
from safety.conversation import ConversationRisk, RiskSignal
from safety.disclosure import asks_if_human, disclosure_due
from safety.guard import GuardVerdict, LlmGuard
from safety.screen import WINDOW_MESSAGES, RiskAssessment
from soulchat.config import Settings
from soulchat.store import ForgetReport, RiskEvent, Store, UserRecord

if TYPE_CHECKING:
    from bots.operators.desk import OperatorDesk

log = logging.getLogger(__name__)
_T = TypeVar("_T")

TYPING_REFRESH_S = 4.0  # platforms show "typing…" for ~5 s per call
# A reply that starts within this long needs no "typing…": it would only flash before the text
# (and cost a call against the platform's rate limits).
TYPING_DELAY_S = 0.5
PURGE_INTERVAL_S = 3600.0
# The full crisis message is repeated at most this often while the risk stays the same; in
# between, every reply carries a one-line footer with the crisis contacts.
CRISIS_REPEAT_S = 15 * 60.0
# Messages that may wait for the semantic layer before newer ones get the fast layers alone:
# at 40-60 ms a message, about half a second at most, small beside a reply that takes seconds,
# and enough for a burst of a dozen people writing at once (benchmarks/discord.py).
SCREEN_BACKLOG = 12
IDLE_STATE_S = 3600.0  # cached per-conversation state is dropped after this long unused


class ReplySink(Protocol):
    """How an adapter shows things to one user."""

    async def notice(self, text: str) -> None:
        """A message from SoulChat itself (resources, errors), not from the model."""

    async def typing(self) -> None:
        """A reply is being prepared."""

    async def reply_progress(self, text: str) -> None:
        """The reply so far (whole text, not a delta)."""

    async def reply_restarted(self) -> None:
        """What was shown of the reply is void; it starts again."""

    async def reply_final(self, text: str, *, replaced: bool) -> None:
        """The complete reply; ``replaced`` when the safety filter swapped it."""


@dataclass(frozen=True)
class Inbound:
    platform: str
    user_id: str
    text: str | bytes
    message_id: str | None = None
    locale: str | None = None


class _LatchGate:
    """The sink the service writes to: silent while a human operator holds the conversation.
    Every bot-made message passes here, so no order of events (a reply still streaming when
    the operator claims, a guard verdict arriving late) can reach the person while latched.
    Relays between operator and person do not pass here; they go through the adapter."""

    def __init__(self, inner: ReplySink, state: _ConversationState) -> None:
        self.inner = inner
        self.state = state

    async def notice(self, text: str) -> None:
        if self.state.latched_to is None:
            await self.inner.notice(text)

    async def typing(self) -> None:
        if self.state.latched_to is None:
            await self.inner.typing()

    async def reply_progress(self, text: str) -> None:
        if self.state.latched_to is None:
            await self.inner.reply_progress(text)

    async def reply_restarted(self) -> None:
        if self.state.latched_to is None:
            await self.inner.reply_restarted()

    async def reply_final(self, text: str, *, replaced: bool) -> None:
        if self.state.latched_to is None:
            await self.inner.reply_final(text, replaced=replaced)


@dataclass
class _ConversationState:
    user_id: int
    conversation_id: int
    locale: str
    sink: ReplySink
    risk: ConversationRisk
    # The latest user messages, screened together so risk spread over several is seen.
    recent_user: deque[str] = field(default_factory=lambda: deque(maxlen=WINDOW_MESSAGES))
    pending: bool = False
    # Crisis contacts shown since the last reply (so the reply needs no footer), and when the
    # full crisis message was last sent, at which tier.
    resources_shown: bool = False
    disclosed_at: datetime | None = None  # last time the user was told this is an AI
    case_id: int | None = None  # the person's unresolved case with the operators, if any
    latched_to: str | None = None  # the operator holding the conversation ("operator:…")
    crisis_sent_at: float = float("-inf")
    crisis_sent_tier: int = 0
    task: asyncio.Task[None] | None = None
    last_active: float = field(default_factory=time.monotonic)

    @property
    def risk_tier(self) -> int:
        return self.risk.tier(datetime.now(UTC))

    def idle_for(self) -> float:
        if self.task is not None and not self.task.done():
            return 0.0
        return time.monotonic() - self.last_active


@dataclass
class _TurnResult:
    text: str = ""
    replaced: bool = False
    reasons: tuple[str, ...] = ()
    failed: bool = False


Dispatch = Callable[[GenerationJob], None]


def _now() -> datetime:
    return datetime.now(UTC)


def _risk_from(history: list[RiskEvent], settings: Settings) -> ConversationRisk:
    resolved = [event.at for event in history if event.kind == "risk_resolved"]
    signals = [
        RiskSignal(event.tier, event.categories, event.at, event.kind)
        for event in history
        if event.kind != "risk_resolved"
    ]
    decay = timedelta(hours=settings.safety.risk_decay_hours)
    return ConversationRisk.from_history(signals, max(resolved, default=None), decay)


class ConversationService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        safety: SafetyPolicy,
        dispatch: Dispatch,
        inbox: ReplyInbox,
        guard: LlmGuard | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.safety = safety
        self.dispatch = dispatch
        self.inbox = inbox
        self.guard = guard
        self.audit = AuditLog(store.engine)
        self.operators: OperatorDesk | None = None
        self._states: dict[tuple[str, str], _ConversationState] = {}
        self._purger: asyncio.Task[None] | None = None
        self._guard_checks: set[asyncio.Task[None]] = set()
        # Store and queue calls block; they get their own threads. SQLite takes one writer at
        # a time, so more threads only queue on its lock (measured: 2 beat asyncio's 6).
        sqlite = store.engine.dialect.name == "sqlite"
        self._threads = ThreadPoolExecutor(
            max_workers=2 if sqlite else 8, thread_name_prefix="soulchat-store"
        )
        self._screening = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soulchat-screen")
        self._screen_backlog = 0
        self._shed_warned_at = -3600.0
        self.semantic_shed = 0  # messages screened without the semantic layer (overload)

    async def screen(self, messages: Sequence[str]) -> RiskAssessment:
        """The safety screen on a user's latest messages, off the event loop: its semantic
        layer takes tens of milliseconds of CPU. One thread, because the encoder already
        spreads one text over every core. When SCREEN_BACKLOG messages already wait for it,
        this one gets the fast layers alone, at once: under a flood, a bounded delay with the
        screen that served before the semantic layer beats an unbounded queue."""
        if not self.safety.has_semantic_layer:
            return self.safety.screen_conversation(messages)
        if self._screen_backlog >= SCREEN_BACKLOG:
            self.semantic_shed += 1
            now = time.monotonic()
            if now - self._shed_warned_at > 60:
                self._shed_warned_at = now
                log.warning(
                    "screening backlog: %d messages screened without the semantic layer so "
                    "far; this process takes more messages than one core can encode",
                    self.semantic_shed,
                )
            return self.safety.screen_conversation(messages, semantic=False)
        self._screen_backlog += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._screening, self.safety.screen_conversation, list(messages)
            )
        finally:
            self._screen_backlog -= 1

    async def _blocking(self, function: Callable[..., _T], *args: object) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, function, *args)

    async def start(self) -> None:
        await self.inbox.start()
        if self.settings.database.retention_days:
            self._purger = asyncio.create_task(self._purge_forever(), name="soulchat-purge")

    async def stop(self) -> None:
        tasks = [s.task for s in self._states.values() if s.task and not s.task.done()]
        tasks += list(self._guard_checks)
        for task in [*tasks, self._purger]:
            if task is not None:
                task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.inbox.stop()
        self._threads.shutdown(wait=True)
        self._screening.shutdown(wait=True)

    # -- incoming messages ---------------------------------------------------------------
    async def receive(self, inbound: Inbound, sink: ReplySink) -> None:
        """Take one message; replies arrive through ``sink``. Returns once it is stored."""
        text = clean_text(inbound.text)
        state = await self._state(inbound, text, sink)
        if not text:
            await sink.notice(say(state.locale, "empty"))
            return
        await self._disclose_if_due(state)
        stored = await self._blocking(
            self.store.add_user_message, state.conversation_id, text, inbound.message_id
        )
        if stored is None:
            log.info("duplicate platform message ignored (conversation %s)", state.conversation_id)
            return
        await self._screen(state, text)
        if state.latched_to is not None and self.operators is not None:
            await self._relay_to_operator(state, text)
            return
        if asks_if_human(text):  # answered truthfully, before the model says anything
            await sink.notice(say(state.locale, "i_am_ai"))
        if len(text) > self.settings.context.max_message_chars:
            limit = self.settings.context.max_message_chars
            await sink.notice(say(state.locale, "too_long", limit=limit))
        if state.task is not None and not state.task.done():
            state.pending = True  # joins the next turn
            return
        state.pending = True
        state.task = asyncio.create_task(self._run_turns(state), name="soulchat-turn")

    async def _disclose_if_due(self, state: _ConversationState) -> None:
        """Say this is an AI at the start of a session and at least every three hours."""
        now = _now()
        if not disclosure_due(state.disclosed_at, now):
            return
        await state.sink.notice(say(state.locale, "disclaimer"))
        state.disclosed_at = now
        await self._blocking(self.store.mark_ai_disclosed, state.user_id, now)

    async def mark_disclosed(self, platform: str, user_id: str) -> None:
        """The adapter has just shown the AI disclosure itself (the console at start)."""
        user = await self.user(platform, user_id)
        await self._blocking(self.store.mark_ai_disclosed, user.id, _now())
        state = self._states.get((platform, user_id))
        if state is not None:
            state.disclosed_at = _now()

    async def request_human(self, platform: str, user_id: str) -> bool:
        """The user asked for a person (/human). Returns whether an operator was alerted;
        without operators configured nobody can be, and the adapter says so honestly."""
        user = await self.user(platform, user_id)
        conversation_id = await self._blocking(self.store.open_conversation, user.id)
        await self._blocking(
            partial(
                self.audit.append,
                "human_requested",
                subject=f"conversation:{conversation_id}",
                actor="bot",
            )
        )
        if self.operators is None:
            return False
        state = self._states.get((platform, user_id))
        case = await self.operators.on_risk(
            user_id=user.id,
            conversation_id=conversation_id,
            locale=user.locale or self.settings.default_locale,
            tier=state.risk_tier if state is not None else 0,
            categories=frozenset(),
            excerpt="",
            reason="requested",
        )
        if state is not None:
            state.case_id = case.id
        return True

    # -- operators -----------------------------------------------------------------------
    def attach_operators(self, desk: OperatorDesk) -> None:
        self.operators = desk

    async def _relay_to_operator(self, state: _ConversationState, text: str) -> None:
        assert self.operators is not None
        case = await self._blocking(self.operators.cases.active_for_user, state.user_id)
        if case is not None:
            state.case_id = case.id
            await self.operators.relay_from_user(case, text)

    async def latch(self, platform: str, user_id: str, operator: str) -> None:
        """An operator claimed the conversation: stop the turn in flight; from now on the
        bot says nothing until release or resolution."""
        state = self._states.get((platform, user_id))
        if state is None:
            return  # read back from the claimed case when the person next writes
        state.latched_to = operator
        if state.task is not None and not state.task.done():
            state.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(state.task), 10)

    async def unlatch(self, platform: str, user_id: str) -> None:
        state = self._states.get((platform, user_id))
        if state is not None:
            state.latched_to = None

    async def resolve_risk(self, platform: str, user_id: str) -> None:
        """An operator resolved the case: the latched high risk is cleared from now on."""
        user = await self._blocking(self.store.find_user, platform, user_id)
        if user is None:
            return
        await self._blocking(self.store.record_safety_event, user.id, None, "risk_resolved", 0, [])
        state = self._states.get((platform, user_id))
        if state is not None:
            state.risk.resolve(_now())
            state.case_id = None

    async def store_operator_message(self, platform: str, user_id: str, text: str) -> None:
        """What the volunteer wrote joins the conversation, so the model sees it later."""
        user = await self._blocking(self.store.find_user, platform, user_id)
        if user is None:
            return
        conversation_id = await self._blocking(self.store.open_conversation, user.id)
        key = f"op-{uuid.uuid4().hex}"
        await self._blocking(self.store.add_assistant_message, conversation_id, text, key, None)

    async def wait_idle(self, platform: str, user_id: str) -> None:
        """Until no reply is being generated for this user (scripted console, tests)."""
        state = self._states.get((platform, user_id))
        while state is not None and state.task is not None and not state.task.done():
            await asyncio.shield(state.task)

    async def _state(self, inbound: Inbound, text: str, sink: ReplySink) -> _ConversationState:
        key = (inbound.platform, inbound.user_id)
        state = self._states.get(key)
        if state is None:
            state = await self._blocking(self._load_state, inbound, text, sink)
            self._states[key] = state
        elif state.case_id is not None:
            await self._blocking(self._refresh_case, state)  # claimed in another process?
        state.sink = _LatchGate(sink, state)
        state.last_active = time.monotonic()
        return state

    def _load_state(self, inbound: Inbound, text: str, sink: ReplySink) -> _ConversationState:
        user = self.store.get_or_create_user(inbound.platform, inbound.user_id)
        locale = user.locale or inbound.locale or detect_locale(text, self.settings.default_locale)
        if user.locale != locale:
            self.store.set_locale(user.id, locale)
        conversation_id = self.store.open_conversation(user.id)
        # Risk outlives a restart (and a /reset): the person keeps their safety prompt.
        risk = _risk_from(self.store.risk_history(user.id), self.settings)
        state = _ConversationState(user.id, conversation_id, locale, sink, risk)
        state.disclosed_at = user.ai_disclosed_at
        self._refresh_case(state)
        recent = self.store.recent_messages(conversation_id, 2 * WINDOW_MESSAGES)
        state.recent_user.extend(m.text for m in recent if m.role == "user")
        return state

    def _refresh_case(self, state: _ConversationState) -> None:
        if self.operators is None:
            return
        case = self.operators.cases.active_for_user(state.user_id)
        state.case_id = None if case is None else case.id
        state.latched_to = case.operator if case is not None and case.status == "claimed" else None

    async def _screen(self, state: _ConversationState, text: str) -> None:
        state.recent_user.append(text[: self.settings.context.max_message_chars])
        window = list(state.recent_user)
        assessment = await self.screen(window)
        if self.guard is not None:
            self._start_guard_check(state, window, assessment.tier)
        if assessment.tier == 0:
            return
        await self._raise_risk(
            state, "inbound_risk", assessment.tier, assessment.categories, excerpt=text
        )
        await self._crisis_message(state, assessment)

    async def _crisis_message(self, state: _ConversationState, assessment: RiskAssessment) -> None:
        """The vetted crisis reply (tier 3-4) or the crisis notice (from the notice tier), at
        once and before any model reply; not repeated within CRISIS_REPEAT_S unless the risk
        rises, because every reply carries the contacts anyway."""
        if assessment.tier < self.safety.notice_tier or state.latched_to is not None:
            return  # while a human holds the conversation, they decide what to say
        now = time.monotonic()
        recent = now - state.crisis_sent_at < CRISIS_REPEAT_S
        if recent and assessment.tier <= state.crisis_sent_tier:
            return
        text = self.safety.crisis_reply(state.locale, assessment)
        if not text:
            return
        await state.sink.notice(text)
        state.crisis_sent_at, state.crisis_sent_tier = now, assessment.tier
        await self._resources_shown(state, assessment.tier, assessment.categories, "crisis")

    async def _resources_shown(
        self, state: _ConversationState, tier: int, categories: frozenset[str], form: str
    ) -> None:
        state.resources_shown = True
        await self._audit(state, "resources_shown", tier, categories, {"form": form})

    async def _audit(
        self,
        state: _ConversationState,
        event: str,
        tier: int,
        categories: frozenset[str],
        detail: dict[str, str | int | bool | None] | None = None,
    ) -> None:
        """One entry in the hash-chained audit log: no text, no user id, the conversation by
        number only. A failure is logged, never shown to the person."""
        try:
            await self._blocking(
                partial(
                    self.audit.append,
                    event,
                    subject=f"conversation:{state.conversation_id}",
                    tier=tier,
                    categories=sorted(categories),
                    detail=detail,
                )
            )
        except Exception:
            log.exception("audit append failed (%s, conversation %s)", event, state.conversation_id)

    async def _raise_risk(
        self,
        state: _ConversationState,
        kind: str,
        tier: int,
        categories: frozenset[str],
        excerpt: str = "",
    ) -> None:
        before = state.risk_tier
        state.risk.add(RiskSignal(tier, categories, datetime.now(UTC), kind))
        after = state.risk_tier
        if before < self.safety.notice_tier <= after:
            await self._audit(state, "detected", after, categories, {"source": kind})
        elif after > before >= self.safety.notice_tier:
            await self._audit(state, "tier_changed", after, categories, {"source": kind})
        if self.operators is not None and tier >= self.settings.operators.alert_tier:
            case = await self.operators.on_risk(
                user_id=state.user_id,
                conversation_id=state.conversation_id,
                locale=state.locale,
                tier=tier,
                categories=categories,
                excerpt=excerpt,
            )
            state.case_id = case.id
        await self._blocking(
            self.store.record_safety_event,
            state.user_id,
            state.conversation_id,
            kind,
            tier,
            sorted(categories),
        )
        log.warning(
            "risk tier %d (%s) from %s in conversation %s",
            tier,
            ",".join(sorted(categories)),
            kind,
            state.conversation_id,
        )

    def _start_guard_check(
        self, state: _ConversationState, window: list[str], screened_tier: int
    ) -> None:
        """Ask the LLM guard off the reply path; it can only ever raise the risk."""
        task = asyncio.create_task(
            self._guard_check(state, window, screened_tier), name="soulchat-guard"
        )
        self._guard_checks.add(task)
        task.add_done_callback(self._guard_checks.discard)

    async def _guard_check(
        self, state: _ConversationState, window: list[str], screened_tier: int
    ) -> None:
        assert self.guard is not None
        try:
            verdict: GuardVerdict | None = await self.guard.assess(window)
            if verdict is None or verdict.tier <= max(screened_tier, state.risk_tier):
                return
            before = state.risk_tier
            await self._raise_risk(
                state, "guard_risk", verdict.tier, verdict.categories, excerpt=window[-1]
            )
            if before < verdict.tier:
                # The screens missed it: the person gets what the screen would have sent.
                assessment = self.safety.assessment(verdict.tier, verdict.categories, "guard")
                await self._crisis_message(state, assessment)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("guard check failed in conversation %s", state.conversation_id)

    # -- turns ---------------------------------------------------------------------------
    async def _run_turns(self, state: _ConversationState) -> None:
        while state.pending:
            state.pending = False
            try:
                await self._run_turn(state)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("turn failed in conversation %s", state.conversation_id)
                await self._unavailable(state)

    async def _unavailable(self, state: _ConversationState) -> None:
        """An honest "I can't answer right now"; for someone at risk, with the crisis
        contacts, because the model being down must not leave them with nothing."""
        await state.sink.notice(say(state.locale, "unavailable"))
        await self._footer(state)

    def _job(self, state: _ConversationState, turn_key: str) -> tuple[GenerationJob, int] | None:
        """The job for the next turn, and the id of the last user message it answers."""
        context = self.settings.context
        # Enough rows for max_turns exchanges plus a burst of unanswered messages.
        messages = self.store.recent_messages(state.conversation_id, 2 * context.max_turns + 50)
        clipped = [(m.role, m.text[: context.max_message_chars]) for m in messages]
        turns = select_turns(clipped, context.max_turns)
        if not turns:
            return None
        answers = max(m.id for m in messages if m.role == "user")
        generation = self.settings.generation
        job = GenerationJob(
            turn_key=turn_key,
            reply_to=self.inbox.address,
            locale=state.locale,
            style=context.prompt_style,
            system_prompt=system_prompt_for(state.locale, risk_tier=state.risk_tier),
            turns=[JobTurn(role=t.role, text=t.text) for t in turns],
            max_context_tokens=context.max_context_tokens,
            params=GenerationParams(**generation.model_dump()),
            deadline=time.time() + self.settings.queue.effective_reply_deadline_s,
        )
        return job, answers

    def _dispatch_job(self, state: _ConversationState, turn_key: str) -> int | None:
        """Build and send the turn's job (one trip to a thread for both); return the id of
        the last user message it answers, or None when there is nothing to answer."""
        prepared = self._job(state, turn_key)
        if prepared is None:
            return None
        job, answers = prepared
        self.dispatch(job)
        return answers

    async def _run_turn(self, state: _ConversationState) -> None:
        turn_key = uuid.uuid4().hex
        events = self.inbox.subscribe(turn_key)
        try:
            answers = await self._blocking(self._dispatch_job, state, turn_key)
            if answers is None:
                return
            result = await self._collect(state, events)
        finally:
            self.inbox.unsubscribe(turn_key)
        if result.failed:
            await self._unavailable(state)
            return
        await self._finish(state, turn_key, answers, result)

    async def _collect(
        self, state: _ConversationState, events: asyncio.Queue[ReplyEvent]
    ) -> _TurnResult:
        """Follow one turn's events until its reply is complete, blocked or given up."""
        queue = self.settings.queue
        started = time.monotonic()
        deadline = started + queue.effective_reply_deadline_s
        next_typing = started + TYPING_DELAY_S
        slow_noticed = False
        result = _TurnResult()
        guard = StreamGuard(self.safety.check_reply)
        current_run = ""
        while True:
            now = time.monotonic()
            if now >= deadline:
                result.failed = True
                return result
            wake = min(deadline, next_typing)
            if not slow_noticed and not guard.shown:
                wake = min(wake, started + queue.slow_notice_s)
            try:
                event = await asyncio.wait_for(events.get(), max(0.0, wake - now))
            except TimeoutError:
                now = time.monotonic()
                if not slow_noticed and now - started >= queue.slow_notice_s:
                    slow_noticed = True
                    await state.sink.notice(say(state.locale, "still_working"))
                if now >= next_typing:
                    next_typing = now + TYPING_REFRESH_S
                    await state.sink.typing()
                continue
            # A reply on its way shows itself; "typing…" is for a silent wait.
            next_typing = max(next_typing, time.monotonic() + TYPING_REFRESH_S)
            if event.run != current_run:
                if guard.shown:
                    await state.sink.reply_restarted()
                guard = StreamGuard(self.safety.check_reply)
                current_run = event.run
            if event.kind == "error":
                log.warning("turn failed in the worker: %s", event.error)
                result.failed = True
                return result
            if event.kind == "delta":
                visible = guard.feed(event.text)
                if guard.blocked:
                    return self._replaced(state, guard.reasons)
                if visible is not None:
                    await state.sink.reply_progress(visible)
            elif event.kind == "done":
                verdict = self.safety.check_reply(event.text)
                if not verdict.allowed:
                    return self._replaced(state, verdict.reasons)
                result.text = event.text.strip() or say(state.locale, "empty_reply")
                return result

    def _replaced(self, state: _ConversationState, reasons: tuple[str, ...]) -> _TurnResult:
        return _TurnResult(
            text=self.safety.replacement_reply(state.locale), replaced=True, reasons=reasons
        )

    async def _finish(
        self, state: _ConversationState, turn_key: str, answers: int, result: _TurnResult
    ) -> None:
        if state.case_id is not None:
            # An operator may have claimed the case in another bot process during the turn.
            await self._blocking(self._refresh_case, state)
            if state.latched_to is not None:
                return
        stored = await self._blocking(
            self.store.add_assistant_message,
            state.conversation_id,
            result.text,
            turn_key,
            answers,
        )
        if not stored:
            return  # this turn was answered already
        if result.replaced:
            await self._audit(
                state,
                "reply_replaced",
                state.risk_tier,
                frozenset(),
                {"reasons": len(result.reasons)},
            )
            log.warning(
                "model reply replaced in conversation %s: %s",
                state.conversation_id,
                ",".join(result.reasons),
            )
            await self._blocking(
                self.store.record_safety_event,
                state.user_id,
                state.conversation_id,
                "output_replaced",
                state.risk_tier,
                list(result.reasons),
            )
        await state.sink.reply_final(result.text, replaced=result.replaced)
        await self._footer(state)

    async def _footer(self, state: _ConversationState) -> None:
        """While someone is at risk, every reply comes with the crisis contacts."""
        tier = state.risk_tier
        latched = state.latched_to is not None
        if tier >= self.safety.notice_tier and not state.resources_shown and not latched:
            await state.sink.notice(self.safety.resources_footer(state.locale, tier))
            await self._resources_shown(state, tier, state.risk.categories(_now()), "footer")
        state.resources_shown = False

    # -- commands ------------------------------------------------------------------------
    async def _cancel_turns(self, platform: str, user_id: str) -> None:
        """Stop the user's turn in flight and wait until it has stopped, so nothing of it is
        shown or stored after a reset or a deletion."""
        state = self._states.pop((platform, user_id), None)
        if state is None or state.task is None or state.task.done():
            return
        state.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(state.task), 10)

    async def reset(self, platform: str, user_id: str) -> None:
        """Close the open conversation; the next message starts a new one."""
        await self._cancel_turns(platform, user_id)
        user = await self._blocking(self.store.find_user, platform, user_id)
        if user is not None:
            await self._blocking(self.store.close_conversations, user.id)

    async def user(self, platform: str, user_id: str, locale: str | None = None) -> UserRecord:
        """The user's record (consent, locale), created on first contact."""
        return await self._blocking(self.store.get_or_create_user, platform, user_id, locale)

    async def set_consent(self, platform: str, user_id: str, given: bool) -> None:
        user = await self.user(platform, user_id)
        await self._blocking(self.store.set_consent, user.id, given)

    async def set_locale(self, platform: str, user_id: str, locale: str) -> None:
        user = await self.user(platform, user_id)
        await self._blocking(self.store.set_locale, user.id, locale)
        state = self._states.get((platform, user_id))
        if state is not None:
            state.locale = locale

    async def forget(self, platform: str, user_id: str) -> ForgetReport:
        """Delete everything stored about this user."""
        await self._cancel_turns(platform, user_id)
        return await self._blocking(self.store.forget_user, platform, user_id)

    def _forget_idle_states(self) -> None:
        """Drop cached state of conversations unused for a while: it may point at a
        conversation the purge deleted, and it would grow with every user ever seen. It is
        reloaded from the store on the next message."""
        for key, state in list(self._states.items()):
            if state.idle_for() > IDLE_STATE_S:
                del self._states[key]

    async def _purge_forever(self) -> None:
        retention = timedelta(days=self.settings.database.retention_days)
        while True:
            try:
                removed = await self._blocking(self.store.purge_idle_conversations, retention)
                if removed:
                    log.info("retention: deleted %d idle conversations", removed)
            except Exception:
                log.exception("retention purge failed")
            self._forget_idle_states()
            await asyncio.sleep(PURGE_INTERVAL_S)
