"""What a person can ask about their own conversation and data: consent, language, region, a
new conversation, deletion of everything, a human. Adapters reach these through the front
desk's command table (``bots/commands.py``); each is a short call into the store, stopping the
person's turn in flight first where what it would show or store would be void."""

from __future__ import annotations

from datetime import UTC, datetime

from bots.conversation.blocking import StoreThreads
from bots.conversation.ports import Escalation
from bots.conversation.state import StateCache
from bots.conversation.turns import TurnEngine
from safety.audit import AuditLog
from soulchat.config import Settings
from soulchat.store import ForgetReport, Store, UserRecord


class UserCommands:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        threads: StoreThreads,
        states: StateCache,
        turns: TurnEngine,
        audit: AuditLog,
    ) -> None:
        self.settings = settings
        self.store = store
        self.threads = threads
        self.states = states
        self.turns = turns
        self.audit = audit
        self.escalation: Escalation | None = None

    async def user(self, platform: str, user_id: str) -> UserRecord:
        """The person's record (consent, locale, region), created on first contact."""
        return await self.threads.run(self.store.get_or_create_user, platform, user_id, None)

    async def set_consent(self, platform: str, user_id: str, given: bool) -> None:
        user = await self.user(platform, user_id)
        await self.threads.run(self.store.set_consent, user.id, given)

    async def set_locale(self, platform: str, user_id: str, locale: str) -> None:
        user = await self.user(platform, user_id)
        await self.threads.run(self.store.set_locale, user.id, locale)
        state = self.states.get(platform, user_id)
        if state is not None:
            state.locale = locale

    async def set_region(self, platform: str, user_id: str, region: str | None) -> None:
        """The person's own choice of region for their crisis lines; None: decide again from
        their client and the deployment's default."""
        user = await self.user(platform, user_id)
        await self.threads.run(self.store.set_region, user.id, region)
        state = self.states.get(platform, user_id)
        if state is not None:
            state.chosen_region = region

    async def reset(self, platform: str, user_id: str) -> None:
        """Close the open conversation; the next message starts a new one."""
        await self._stop_turn(platform, user_id)
        user = await self.threads.run(self.store.find_user, platform, user_id)
        if user is not None:
            await self.threads.run(self.store.close_conversations, user.id)

    async def forget(self, platform: str, user_id: str) -> ForgetReport:
        """Delete everything stored about this person."""
        await self._stop_turn(platform, user_id)
        return await self.threads.run(self.store.forget_user, platform, user_id)

    async def mark_disclosed(self, platform: str, user_id: str) -> None:
        """The adapter has just shown the AI disclosure itself (the console at start)."""
        now = datetime.now(UTC)
        user = await self.user(platform, user_id)
        await self.threads.run(self.store.mark_ai_disclosed, user.id, now)
        state = self.states.get(platform, user_id)
        if state is not None:
            state.disclosed_at = now

    async def request_human(self, platform: str, user_id: str) -> bool:
        """The person asked for a human (/human). Returns whether an operator was alerted;
        without operators configured nobody can be, and the adapter says so honestly."""
        user = await self.user(platform, user_id)
        conversation_id = await self.threads.run(self.store.open_conversation, user.id)
        await self.threads.run(
            self.audit.append,
            "human_requested",
            subject=f"conversation:{conversation_id}",
            actor="bot",
        )
        if self.escalation is None:
            return False
        state = self.states.get(platform, user_id)
        case_id = await self.escalation.on_risk(
            user_id=user.id,
            conversation_id=conversation_id,
            locale=user.locale or self.settings.default_locale,
            tier=state.risk_tier if state is not None else 0,
            categories=frozenset(),
            excerpt="",
            reason="requested",
        )
        if state is not None:
            state.case_id = case_id
        return True

    async def _stop_turn(self, platform: str, user_id: str) -> None:
        """Forget the cached state and stop its turn, so nothing of it is shown or stored
        after a reset or a deletion."""
        state = self.states.pop(platform, user_id)
        if state is not None:
            await self.turns.cancel(state)
