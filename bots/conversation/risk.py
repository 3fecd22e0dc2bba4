"""What the conversation does about risk: screen each message, record and raise the person's
risk, show crisis lines at once, alert the operators, and keep the contacts with every reply.

From ``safety.crisis_notice_tier`` (default 2) the person gets crisis resources at once,
before the model is asked, and a one-line footer with every later reply; from tier 3 a vetted
crisis reply instead. The optional LLM guard runs in the background and can only raise the
risk. Every step goes to the hash-chained audit log: tier and categories, never text.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from bots.conversation.blocking import StoreThreads
from bots.conversation.ports import Escalation, ReplySink
from bots.conversation.screening import Screener
from bots.conversation.state import ConversationState
from safety import SafetyPolicy
from safety.audit import AuditLog
from safety.conversation import RiskSignal
from safety.guard import GuardVerdict, LlmGuard
from safety.screen import RiskAssessment
from soulchat.config import Settings
from soulchat.store import Store

log = logging.getLogger(__name__)

# The full crisis message is repeated at most this often while the risk stays the same; in
# between, every reply carries a one-line footer with the crisis contacts.
CRISIS_REPEAT_S = 15 * 60.0

AuditDetail = dict[str, str | int | bool | None]


class RiskResponse:
    def __init__(
        self,
        settings: Settings,
        safety: SafetyPolicy,
        store: Store,
        threads: StoreThreads,
        audit: AuditLog,
        screener: Screener,
        guard: LlmGuard | None = None,
    ) -> None:
        self.settings = settings
        self.safety = safety
        self.store = store
        self.threads = threads
        self.audit_log = audit
        self.screener = screener
        self.guard = guard
        self.escalation: Escalation | None = None
        self._guard_checks: set[asyncio.Task[None]] = set()

    async def screen(self, state: ConversationState, text: str) -> None:
        """Screen a new message with the person's recent ones and act on the result."""
        state.recent_user.append(text[: self.settings.context.max_message_chars])
        window = list(state.recent_user)
        assessment = await self.screener.screen(window)
        if self.guard is not None:
            self._start_guard_check(state, window, assessment.tier)
        if assessment.tier == 0:
            return
        await self.raise_risk(
            state, "inbound_risk", assessment.tier, assessment.categories, excerpt=text
        )
        await self.crisis_message(state, assessment)

    async def raise_risk(
        self,
        state: ConversationState,
        kind: str,
        tier: int,
        categories: frozenset[str],
        excerpt: str = "",
    ) -> None:
        before = state.risk_tier
        state.risk.add(RiskSignal(tier, categories, datetime.now(UTC), kind))
        after = state.risk_tier
        if before < self.safety.notice_tier <= after:
            await self.audit(state, "detected", after, categories, {"source": kind})
        elif after > before >= self.safety.notice_tier:
            await self.audit(state, "tier_changed", after, categories, {"source": kind})
        if self.escalation is not None and tier >= self.settings.operators.alert_tier:
            state.case_id = await self.escalation.on_risk(
                user_id=state.user_id,
                conversation_id=state.conversation_id,
                locale=state.locale,
                tier=tier,
                categories=categories,
                excerpt=excerpt,
            )
        await self.threads.run(
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

    async def crisis_message(self, state: ConversationState, assessment: RiskAssessment) -> None:
        """The vetted crisis reply (tier 3-4) or the crisis notice (from the notice tier), at
        once and before any model reply; not repeated within CRISIS_REPEAT_S unless the risk
        rises, because every reply carries the contacts anyway."""
        if assessment.tier < self.safety.notice_tier or state.latched_to is not None:
            return  # while a human holds the conversation, they decide what to say
        now = time.monotonic()
        recent = now - state.crisis_sent_at < CRISIS_REPEAT_S
        if recent and assessment.tier <= state.crisis_sent_tier:
            return
        text = self.safety.crisis_reply(state.locale, assessment, region=state.region)
        if not text:
            return
        await state.sink.notice(text)
        state.crisis_sent_at, state.crisis_sent_tier = now, assessment.tier
        await self.resources_shown(state, assessment.tier, assessment.categories, "crisis")

    async def footer(self, state: ConversationState, sink: ReplySink) -> None:
        """While someone is at risk, every reply comes with the crisis contacts."""
        tier = state.risk_tier
        latched = state.latched_to is not None
        if tier >= self.safety.notice_tier and not state.resources_shown and not latched:
            footer = self.safety.resources_footer(state.locale, tier, region=state.region)
            await sink.notice(footer)
            categories = state.risk.categories(datetime.now(UTC))
            await self.resources_shown(state, tier, categories, "footer")
        state.resources_shown = False

    async def resources_shown(
        self, state: ConversationState, tier: int, categories: frozenset[str], form: str
    ) -> None:
        state.resources_shown = True
        await self.audit(state, "resources_shown", tier, categories, {"form": form})

    async def audit(
        self,
        state: ConversationState,
        event: str,
        tier: int,
        categories: frozenset[str],
        detail: AuditDetail | None = None,
    ) -> None:
        """One entry in the hash-chained audit log: no text, no user id, the conversation by
        number only. A failure is logged, never shown to the person."""
        try:
            await self.threads.run(
                self.audit_log.append,
                event,
                subject=f"conversation:{state.conversation_id}",
                tier=tier,
                categories=sorted(categories),
                detail=detail,
            )
        except Exception:
            log.exception("audit append failed (%s, conversation %s)", event, state.conversation_id)

    # -- the LLM guard ---------------------------------------------------------------------
    def _start_guard_check(
        self, state: ConversationState, window: list[str], screened_tier: int
    ) -> None:
        """Ask the LLM guard off the reply path; it can only ever raise the risk."""
        task = asyncio.create_task(
            self._guard_check(state, window, screened_tier), name="soulchat-guard"
        )
        self._guard_checks.add(task)
        task.add_done_callback(self._guard_checks.discard)

    async def _guard_check(
        self, state: ConversationState, window: list[str], screened_tier: int
    ) -> None:
        assert self.guard is not None
        try:
            verdict: GuardVerdict | None = await self.guard.assess(window)
            if verdict is None or verdict.tier <= max(screened_tier, state.risk_tier):
                return
            before = state.risk_tier
            await self.raise_risk(
                state, "guard_risk", verdict.tier, verdict.categories, excerpt=window[-1]
            )
            if before < verdict.tier:
                # The screens missed it: the person gets what the screen would have sent.
                assessment = self.safety.assessment(verdict.tier, verdict.categories, "guard")
                await self.crisis_message(state, assessment)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("guard check failed in conversation %s", state.conversation_id)

    def background_tasks(self) -> list[asyncio.Task[None]]:
        return list(self._guard_checks)
