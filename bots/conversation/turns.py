"""One turn at a time per conversation: build the job, send it to the queue, follow the reply
as it streams back, show it through the turn's sink and store it once.

A message that arrives while a reply is in flight marks the conversation *pending*; when the
reply is finished, one new turn answers everything that arrived. Each turn writes to the sink
of the message that started it, so a follow-up never moves the rest of a reply elsewhere.
Silence is never an answer: a worker error, or nothing by the turn's deadline, gets an honest
"I can't answer right now" (with the crisis contacts for someone at risk).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bots.conversation.blocking import StoreThreads
from bots.conversation.ports import ReplySink
from bots.conversation.risk import RiskResponse
from bots.conversation.state import ConversationState
from bots.streaming import StreamGuard
from bots.texts import text as say
from inference.job import GenerationJob, GenerationParams, JobTurn, ReplyEvent
from inference.prompt import select_turns, system_prompt_for
from inference.replies import ReplyInbox
from safety import SafetyPolicy
from soulchat.config import Settings
from soulchat.store import Store

log = logging.getLogger(__name__)

TYPING_REFRESH_S = 4.0  # platforms show "typing…" for ~5 s per call
# A reply that starts within this long needs no "typing…": it would only flash before the text
# (and cost a call against the platform's rate limits).
TYPING_DELAY_S = 0.5
CANCEL_WAIT_S = 10.0

Dispatch = Callable[[GenerationJob], None]


@dataclass
class TurnResult:
    text: str = ""
    replaced: bool = False
    reasons: tuple[str, ...] = ()
    failed: bool = False


class TurnEngine:
    def __init__(
        self,
        settings: Settings,
        safety: SafetyPolicy,
        store: Store,
        threads: StoreThreads,
        dispatch: Dispatch,
        inbox: ReplyInbox,
        risk: RiskResponse,
        refresh_case: Callable[[ConversationState], None],
    ) -> None:
        self.settings = settings
        self.safety = safety
        self.store = store
        self.threads = threads
        self.dispatch = dispatch
        self.inbox = inbox
        self.risk = risk
        self.refresh_case = refresh_case  # blocking: who holds the conversation now

    def answer(self, state: ConversationState) -> None:
        """The person wrote: start a turn, or let the one in flight be followed by another."""
        state.pending = True
        if not state.busy:
            state.task = asyncio.create_task(self._run_turns(state), name="soulchat-turn")

    async def cancel(self, state: ConversationState) -> None:
        """Stop the turn in flight and wait until it has stopped, so nothing of it is shown
        or stored afterwards."""
        if state.task is None or state.task.done():
            return
        state.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(state.task), CANCEL_WAIT_S)

    async def _run_turns(self, state: ConversationState) -> None:
        while state.pending:
            state.pending = False
            sink = state.sink  # this turn's, whatever arrives meanwhile
            try:
                await self._run_turn(state, sink)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("turn failed in conversation %s", state.conversation_id)
                await self.unavailable(state, sink)

    async def unavailable(self, state: ConversationState, sink: ReplySink) -> None:
        """An honest "I can't answer right now"; for someone at risk, with the crisis
        contacts, because the model being down must not leave them with nothing."""
        await sink.notice(say(state.locale, "unavailable"))
        await self.risk.footer(state, sink)

    async def _run_turn(self, state: ConversationState, sink: ReplySink) -> None:
        turn_key = uuid.uuid4().hex
        events = self.inbox.subscribe(turn_key)
        try:
            answers = await self.threads.run(self._dispatch_job, state, turn_key)
            if answers is None:
                return
            result = await self._collect(state, sink, events)
        finally:
            self.inbox.unsubscribe(turn_key)
        if result.failed:
            await self.unavailable(state, sink)
            return
        await self._finish(state, sink, turn_key, answers, result)

    def _dispatch_job(self, state: ConversationState, turn_key: str) -> int | None:
        """Build and send the turn's job (one trip to a thread for both); return the id of
        the last user message it answers, or None when there is nothing to answer."""
        prepared = self._job(state, turn_key)
        if prepared is None:
            return None
        job, answers = prepared
        self.dispatch(job)
        return answers

    def _job(self, state: ConversationState, turn_key: str) -> tuple[GenerationJob, int] | None:
        """The job for the next turn, and the id of the last user message it answers."""
        context = self.settings.context
        # Enough rows for max_turns exchanges plus a burst of unanswered messages.
        messages = self.store.recent_messages(state.conversation_id, 2 * context.max_turns + 50)
        clipped = [(m.role, m.text[: context.max_message_chars]) for m in messages]
        turns = select_turns(clipped, context.max_turns)
        if not turns:
            return None
        answers = max(m.id for m in messages if m.role == "user")
        job = GenerationJob(
            turn_key=turn_key,
            reply_to=self.inbox.address,
            locale=state.locale,
            style=context.prompt_style,
            system_prompt=system_prompt_for(state.locale, risk_tier=state.risk_tier),
            turns=[JobTurn(role=t.role, text=t.text) for t in turns],
            max_context_tokens=context.max_context_tokens,
            params=GenerationParams(**self.settings.generation.model_dump()),
            deadline=time.time() + self.settings.queue.effective_reply_deadline_s,
        )
        return job, answers

    async def _collect(
        self, state: ConversationState, sink: ReplySink, events: asyncio.Queue[ReplyEvent]
    ) -> TurnResult:
        """Follow one turn's events until its reply is complete, blocked or given up."""
        queue = self.settings.queue
        started = time.monotonic()
        deadline = started + queue.effective_reply_deadline_s
        next_typing = started + TYPING_DELAY_S
        slow_noticed = False
        guard = StreamGuard(self.safety.check_reply)
        current_run = ""
        while True:
            now = time.monotonic()
            if now >= deadline:
                return TurnResult(failed=True)
            wake = min(deadline, next_typing)
            if not slow_noticed and not guard.shown:
                wake = min(wake, started + queue.slow_notice_s)
            try:
                event = await asyncio.wait_for(events.get(), max(0.0, wake - now))
            except TimeoutError:
                now = time.monotonic()
                if not slow_noticed and now - started >= queue.slow_notice_s:
                    slow_noticed = True
                    await sink.notice(say(state.locale, "still_working"))
                if now >= next_typing:
                    next_typing = now + TYPING_REFRESH_S
                    await sink.typing()
                continue
            # A reply on its way shows itself; "typing…" is for a silent wait.
            next_typing = max(next_typing, time.monotonic() + TYPING_REFRESH_S)
            if event.run != current_run:
                if guard.shown:
                    await sink.reply_restarted()
                guard = StreamGuard(self.safety.check_reply)
                current_run = event.run
            if event.kind == "error":
                log.warning("turn failed in the worker: %s", event.error)
                return TurnResult(failed=True)
            if event.kind == "delta":
                visible = guard.feed(event.text)
                if guard.blocked:
                    return self._replaced(state, guard.reasons)
                if visible is not None:
                    await sink.reply_progress(visible)
            elif event.kind == "done":
                verdict = self.safety.check_reply(event.text)
                if not verdict.allowed:
                    return self._replaced(state, verdict.reasons)
                return TurnResult(text=event.text.strip() or say(state.locale, "empty_reply"))

    def _replaced(self, state: ConversationState, reasons: tuple[str, ...]) -> TurnResult:
        return TurnResult(
            text=self.safety.replacement_reply(state.locale), replaced=True, reasons=reasons
        )

    async def _finish(
        self,
        state: ConversationState,
        sink: ReplySink,
        turn_key: str,
        answers: int,
        result: TurnResult,
    ) -> None:
        if state.case_id is not None:
            # An operator may have claimed the case in another bot process during the turn.
            await self.threads.run(self.refresh_case, state)
            if state.latched_to is not None:
                return
        stored = await self.threads.run(
            self.store.add_assistant_message,
            state.conversation_id,
            result.text,
            turn_key,
            answers,
        )
        if not stored:
            return  # this turn was answered already
        if result.replaced:
            await self._record_replacement(state, result.reasons)
        await sink.reply_final(result.text, replaced=result.replaced)
        await self.risk.footer(state, sink)

    async def _record_replacement(self, state: ConversationState, reasons: tuple[str, ...]) -> None:
        await self.risk.audit(
            state, "reply_replaced", state.risk_tier, frozenset(), {"reasons": len(reasons)}
        )
        log.warning(
            "model reply replaced in conversation %s: %s",
            state.conversation_id,
            ",".join(reasons),
        )
        await self.threads.run(
            self.store.record_safety_event,
            state.user_id,
            state.conversation_id,
            "output_replaced",
            state.risk_tier,
            list(reasons),
        )
