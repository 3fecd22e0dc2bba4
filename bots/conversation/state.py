"""Per-conversation state kept in memory between messages, and where it comes from.

The store is the truth; this is a cache of what every message needs (ids, locale, the
person's risk, who holds the conversation), loaded on a person's first message, refreshed
when another bot process may have changed it, and dropped after an hour unused so that memory
follows the people talking now.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bots.conversation.ports import Escalation, Inbound, ReplySink
from safety.conversation import ConversationRisk, RiskSignal
from safety.screen import WINDOW_MESSAGES
from soulchat.config import Settings
from soulchat.store import RiskEvent, Store
from soulchat.text import detect_locale

IDLE_STATE_S = 3600.0  # cached state is dropped after this long unused


@dataclass
class ConversationState:
    user_id: int
    conversation_id: int
    locale: str
    sink: ReplySink  # the newest message's; a turn keeps the one it started with
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
    # Whose crisis lines the person gets: their own /region, else what their client's tag
    # says, else the deployment's default; None: their language's.
    chosen_region: str | None = None
    hinted_region: str | None = None
    default_region: str | None = None

    @property
    def region(self) -> str | None:
        return self.chosen_region or self.hinted_region or self.default_region

    @property
    def risk_tier(self) -> int:
        return self.risk.tier(datetime.now(UTC))

    @property
    def busy(self) -> bool:
        """A reply is being generated (or waits to be)."""
        return self.task is not None and not self.task.done()

    def idle_for(self) -> float:
        return 0.0 if self.busy else time.monotonic() - self.last_active


class LatchGate:
    """The sink the conversation writes to: silent while a human operator holds the
    conversation. Every bot-made message passes here, so no order of events (a reply still
    streaming when the operator claims, a guard verdict arriving late) can reach the person
    while latched. Relays between operator and person do not pass here; they go through the
    adapter."""

    def __init__(self, inner: ReplySink, state: ConversationState) -> None:
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


def risk_from(history: list[RiskEvent], decay_hours: float) -> ConversationRisk:
    resolved = [event.at for event in history if event.kind == "risk_resolved"]
    signals = [
        RiskSignal(event.tier, event.categories, event.at, event.kind)
        for event in history
        if event.kind != "risk_resolved"
    ]
    decay = timedelta(hours=decay_hours)
    return ConversationRisk.from_history(signals, max(resolved, default=None), decay)


def load_state(
    store: Store,
    settings: Settings,
    escalation: Escalation | None,
    inbound: Inbound,
    text: str,
    sink: ReplySink,
    default_region: str | None = None,
) -> ConversationState:
    """A person's state from the store (blocking). Their risk outlives a restart and a
    /reset: the person keeps their safety prompt."""
    user = store.get_or_create_user(inbound.platform, inbound.user_id)
    locale = user.locale or inbound.locale or detect_locale(text, settings.default_locale)
    if user.locale != locale:
        store.set_locale(user.id, locale)
    conversation_id = store.open_conversation(user.id)
    risk = risk_from(store.risk_history(user.id), settings.safety.risk_decay_hours)
    state = ConversationState(user.id, conversation_id, locale, sink, risk)
    state.chosen_region, state.hinted_region = user.region, inbound.region
    state.default_region = default_region
    state.disclosed_at = user.ai_disclosed_at
    refresh_case(state, escalation)
    recent = store.recent_messages(conversation_id, 2 * WINDOW_MESSAGES)
    state.recent_user.extend(m.text for m in recent if m.role == "user")
    return state


def refresh_case(state: ConversationState, escalation: Escalation | None) -> None:
    """Read who holds the conversation now (blocking): a claim may come from another bot
    process."""
    if escalation is None:
        return
    held = escalation.case_of(state.user_id)
    state.case_id = None if held is None else held.case_id
    state.latched_to = None if held is None else held.operator


class StateCache:
    """The states of the conversations this process has seen lately, by (platform, user)."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str], ConversationState] = {}

    def get(self, platform: str, user_id: str) -> ConversationState | None:
        return self._states.get((platform, user_id))

    def put(self, platform: str, user_id: str, state: ConversationState) -> None:
        self._states[(platform, user_id)] = state

    def pop(self, platform: str, user_id: str) -> ConversationState | None:
        return self._states.pop((platform, user_id), None)

    def __iter__(self) -> Iterator[ConversationState]:
        return iter(list(self._states.values()))

    def __len__(self) -> int:
        return len(self._states)

    def evict_idle(self, idle_s: float = IDLE_STATE_S) -> int:
        """Drop states unused for ``idle_s``: they may point at a conversation the retention
        purge deleted, and they would grow with every person ever seen. They are reloaded
        from the store on the next message. Returns how many were dropped."""
        idle = [key for key, state in self._states.items() if state.idle_for() > idle_s]
        for key in idle:
            del self._states[key]
        return len(idle)
