"""The operator desk: crisis cases between the conversation service and human operators.

* The service reports risk at or above ``operators.alert_tier`` and requests for a human; the
  desk opens (or raises) a case and alerts the operators' chat and the optional webhook: tier,
  categories, locale, how long ago, a minimal excerpt, buttons Claim / Resolve.
* Claim latches the conversation to that operator: the service stays silent, the person's
  messages are relayed to the operator, the operator's replies reach the person marked as
  from a human volunteer. Release hands back to the bot; Resolve records an outcome code and
  clears the latched risk.
* A tier 4 alert nobody acknowledges within ``ack_target_t4_s`` (tier 3: ``ack_target_t3_s``)
  pages the backup operators, exactly once per case, however many bot processes run.
* Every step goes to the hash-chained audit log; no message text does.

The desk is platform-neutral: an adapter gives it an ``OperatorChannel`` (post to the
operators' chat, message one operator, message a user) and routes operators' commands,
buttons and direct messages to it. It reaches the conversation only through
``ConversationControl`` and is reached only through ``Escalation`` (``bots/conversation/
ports.py``); ``bots/runtime.py`` wires the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bots.conversation.blocking import StoreThreads
from bots.conversation.ports import ConversationControl, HeldBy
from bots.notices import Button
from bots.operators.alerts import Alert, AlertEvent, AlertSink
from bots.texts import text as say
from safety.audit import AuditLog
from soulchat.config import ChatPlatformSettings, OperatorSettings
from soulchat.store.cases import OUTCOMES, CaseRecord, CaseStore

log = logging.getLogger(__name__)

PAGE_CHECK_S = 5.0


class OperatorChannel(Protocol):
    platform: str

    async def post_alert(self, text: str, buttons: tuple[Button, ...]) -> bool:
        """To the operators' group; False when there is none (the desk then writes to each
        operator directly)."""

    async def to_operator(
        self, operator_id: str, text: str, buttons: tuple[Button, ...] = ()
    ) -> bool:
        """A direct message to one operator; False if it could not be delivered."""

    async def to_user(self, platform_user_id: str, text: str) -> None:
        """A message to a user, outside any reply (relays, hand-over notices)."""


@dataclass(frozen=True)
class Reply:
    """What the desk answers an operator's command or button."""

    text: str
    buttons: tuple[Button, ...] = ()


def _age(since: datetime, now: datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


class OperatorDesk:
    def __init__(
        self,
        settings: OperatorSettings,
        team: ChatPlatformSettings,
        conversation: ConversationControl,
        channel: OperatorChannel,
        *,
        cases: CaseStore,
        audit: AuditLog,
        threads: StoreThreads,
        webhook: AlertSink | None = None,
    ) -> None:
        self.settings = settings
        self.team = team  # who the operators are: the platform's own settings
        self.conversation = conversation
        self.channel = channel
        self.cases = cases
        self.audit = audit
        self.threads = threads
        self.webhook = webhook
        self.locale = settings.operator_locale
        self._pager: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._pager = asyncio.create_task(self._page_forever(), name="soulchat-pager")

    async def stop(self) -> None:
        if self._pager is not None:
            self._pager.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pager

    def is_operator(self, operator_id: str) -> bool:
        return operator_id in self.team.may_act_on_cases()

    def _say(self, key: str, /, **values: object) -> str:
        return say(self.locale, f"operator.{key}", **values)

    def _ref(self, operator_id: str) -> str:
        return f"operator:{self.channel.platform}:{operator_id}"

    # -- from the conversation service ---------------------------------------------------------
    async def on_risk(
        self,
        *,
        user_id: int,
        conversation_id: int,
        locale: str,
        tier: int,
        categories: frozenset[str],
        excerpt: str,
        reason: str = "risk",
    ) -> int:
        """Open or raise the person's case; alert when it is new or its tier rose."""
        case, news = await self.threads.run(
            self.cases.open_or_raise,
            user_id=user_id,
            conversation_id=conversation_id,
            platform=self.channel.platform,
            locale=locale,
            tier=tier,
            categories=sorted(categories),
            reason=reason,
        )
        if news:
            event = "case_opened" if case.tier == tier and reason == "risk" else "tier_changed"
            await self._audit(event, case)
            await self._alert(
                case, "human_requested" if reason == "requested" else "alert", excerpt
            )
        return case.id

    def case_of(self, user_id: int) -> HeldBy | None:
        case = self.cases.active_for_user(user_id)
        if case is None:
            return None
        return HeldBy(case.id, case.operator if case.status == "claimed" else None)

    async def relay_from_user(self, user_id: int, text: str) -> None:
        case = await self.threads.run(self.cases.active_for_user, user_id)
        if case is None or case.operator is None:
            return
        operator_id = case.operator.rsplit(":", 1)[-1]
        await self.channel.to_operator(operator_id, self._say("relay", case=case.id, text=text))

    # -- alerts --------------------------------------------------------------------------------
    async def _alert(self, case: CaseRecord, event: AlertEvent, excerpt: str) -> None:
        now = datetime.now(UTC)
        clipped = excerpt[: self.settings.excerpt_chars].strip()
        await self._broadcast(self._alert_text(case, event, clipped, now), self._buttons(case))
        if self.webhook is not None:
            await self.webhook.send(
                Alert(
                    case_id=case.id,
                    event=event,
                    tier=case.tier,
                    categories=case.categories,
                    locale=case.locale,
                    platform=case.platform,
                    opened_at=case.opened_at,
                    excerpt=clipped,
                )
            )
        await self._audit("alert_sent", case, {"event": event})

    async def _broadcast(self, text: str, buttons: tuple[Button, ...]) -> None:
        """To the operators' group, or, without one, to every operator directly."""
        if await self.channel.post_alert(text, buttons):
            return
        for operator in self.team.operator_ids:
            await self.channel.to_operator(str(operator), text, buttons)

    def _alert_text(self, case: CaseRecord, event: AlertEvent, excerpt: str, now: datetime) -> str:
        values = {
            "icon": "🔴" if case.tier >= 4 else "🟠" if case.tier == 3 else "🟡",
            "case": case.id,
            "tier": case.tier,
            "tier_name": self._say_tier(case.tier),
            "categories": ", ".join(case.categories) or "-",
            "locale": case.locale,
            "platform": case.platform,
            "age": _age(case.opened_at, now),
        }
        text = self._say("requested" if event == "human_requested" else "alert", **values)
        if excerpt:
            text += "\n" + self._say("excerpt", excerpt=excerpt)
        return text

    def _say_tier(self, tier: int) -> str:
        return say(self.locale, f"tier.{tier}") if 1 <= tier <= 4 else ""

    def _buttons(self, case: CaseRecord) -> tuple[Button, ...]:
        return (
            Button(self._say("claim"), f"case:claim:{case.id}"),
            Button(self._say("resolve"), f"case:resolve:{case.id}"),
        )

    async def _audit(
        self,
        event: str,
        case: CaseRecord,
        detail: dict[str, str | int | bool | None] | None = None,
        actor: str = "bot",
    ) -> None:
        try:
            await self.threads.run(
                self.audit.append,
                event,
                subject=f"case:{case.id}",
                case_id=case.id,
                tier=case.tier,
                categories=list(case.categories),
                actor=actor,
                detail=detail,
            )
        except Exception:
            log.exception("audit append failed (%s, case %s)", event, case.id)

    # -- paging --------------------------------------------------------------------------------
    async def _page_forever(self) -> None:
        while True:
            try:
                await self.page_overdue()
            except Exception:
                log.exception("paging check failed")
            await asyncio.sleep(PAGE_CHECK_S)

    async def page_overdue(self, now: datetime | None = None) -> list[int]:
        """Page the backups for every overdue case; returns the case ids paged."""
        moment = now or datetime.now(UTC)
        targets = {
            4: timedelta(seconds=self.settings.ack_target_t4_s),
            3: timedelta(seconds=self.settings.ack_target_t3_s),
        }
        overdue = await self.threads.run(self.cases.overdue, moment, targets)
        paged = []
        for case in overdue:
            if await self.threads.run(self.cases.mark_paged, case.id):
                await self._page(case, moment)
                paged.append(case.id)
        return paged

    async def _page(self, case: CaseRecord, now: datetime) -> None:
        text = self._say("paged", case=case.id, tier=case.tier, age=_age(case.opened_at, now))
        buttons = self._buttons(case)
        backups = self.team.backup_operator_ids
        for backup in backups:
            await self.channel.to_operator(str(backup), text, buttons)
        await self._broadcast(text, buttons)
        if self.webhook is not None:
            await self.webhook.send(
                Alert(
                    case.id,
                    "paged",
                    case.tier,
                    case.categories,
                    case.locale,
                    case.platform,
                    case.opened_at,
                )
            )
        await self._audit("paged", case, {"backups": len(backups)}, "system")

    # -- from operators --------------------------------------------------------------------------
    async def command(self, operator_id: str, words: str) -> Reply:
        """/cases, /claim N, /release N, /resolve N [outcome] from an operator."""
        if not self.is_operator(operator_id):
            return Reply(self._say("not_operator"))
        name, *args = words.split()
        name = name.lower().split("@")[0]
        if name == "/cases":
            return await self._list()
        if name in ("/claim", "/release", "/resolve") and args and args[0].lstrip("#").isdigit():
            number = int(args[0].lstrip("#"))
            if name == "/claim":
                return await self.claim(operator_id, number)
            if name == "/release":
                return await self.release(operator_id, number)
            outcome = args[1] if len(args) > 1 else ""
            return await self.resolve(operator_id, number, outcome)
        return Reply(self._say("help", outcomes=", ".join(OUTCOMES)))

    async def button(self, operator_id: str, action: str) -> Reply | None:
        """case:claim:N, case:release:N, case:resolve:N, case:outcome:N:code."""
        parts = action.split(":")
        if len(parts) < 3 or parts[0] != "case" or not parts[2].isdigit():
            return None
        if not self.is_operator(operator_id):
            return Reply(self._say("not_operator"))
        verb, number = parts[1], int(parts[2])
        if verb == "claim":
            return await self.claim(operator_id, number)
        if verb == "release":
            return await self.release(operator_id, number)
        if verb == "resolve":
            return self._outcome_choice(number)
        if verb == "outcome" and len(parts) == 4:
            return await self.resolve(operator_id, number, parts[3])
        return None

    def _outcome_choice(self, case_id: int) -> Reply:
        buttons = tuple(
            Button(say(self.locale, f"outcome.{code}"), f"case:outcome:{case_id}:{code}")
            for code in OUTCOMES
        )
        return Reply(self._say("choose_outcome", case=case_id), buttons)

    async def claim(self, operator_id: str, case_id: int) -> Reply:
        ref = self._ref(operator_id)
        before = await self.threads.run(self.cases.get, case_id)
        if before is not None and before.status == "claimed" and before.operator == ref:
            return Reply(self._say("claimed", case=case_id))  # already theirs
        case = await self.threads.run(self.cases.claim, case_id, ref)
        if case is None:
            gone = before is None or before.status == "resolved"
            return Reply(self._say("gone" if gone else "claimed_by_other", case=case_id))
        if before is not None and before.acknowledged_at is None:
            await self._audit("acknowledged", case, actor=ref)
        await self._audit("claimed", case, actor=ref)
        await self.conversation.latch(case.platform, case.platform_user_id, ref)
        await self.channel.to_user(case.platform_user_id, say(case.locale, "handover.joined"))
        release = Button(self._say("release"), f"case:release:{case.id}")
        resolve = Button(self._say("resolve"), f"case:resolve:{case.id}")
        await self.channel.to_operator(
            operator_id, self._say("claimed", case=case.id), (release, resolve)
        )
        return Reply(self._say("claimed", case=case.id), (release, resolve))

    async def release(self, operator_id: str, case_id: int) -> Reply:
        ref = self._ref(operator_id)
        case = await self.threads.run(self.cases.release, case_id, ref)
        if case is None:
            return Reply(self._say("gone", case=case_id))
        await self.conversation.unlatch(case.platform, case.platform_user_id)
        await self._audit("released", case, actor=ref)
        await self.channel.to_user(case.platform_user_id, say(case.locale, "handover.handed_back"))
        return Reply(self._say("released", case=case.id))

    async def resolve(self, operator_id: str, case_id: int, outcome: str) -> Reply:
        if outcome not in OUTCOMES:
            return self._outcome_choice(case_id)
        ref = self._ref(operator_id)
        before = await self.threads.run(self.cases.get, case_id)
        case = await self.threads.run(self.cases.resolve, case_id, ref, outcome)
        if case is None:
            gone = before is None or before.status == "resolved"
            return Reply(self._say("gone" if gone else "claimed_by_other", case=case_id))
        await self._audit("resolved", case, {"outcome": outcome}, actor=ref)
        await self.conversation.resolve_risk(case.platform, case.platform_user_id)
        if before is not None and before.status == "claimed":
            await self.conversation.unlatch(case.platform, case.platform_user_id)
            await self.channel.to_user(
                case.platform_user_id, say(case.locale, "handover.handed_back")
            )
        label = say(self.locale, f"outcome.{outcome}")
        return Reply(self._say("resolved", case=case.id, outcome=label))

    async def operator_message(self, operator_id: str, text: str) -> Reply | None:
        """An operator's direct message: relayed to the person of their latest claimed case."""
        if not self.is_operator(operator_id):
            return Reply(self._say("not_operator"))
        claimed = await self.threads.run(self.cases.claimed_by, self._ref(operator_id))
        if not claimed:
            return Reply(self._say("no_case"))
        case = claimed[0]
        await self.channel.to_user(
            case.platform_user_id, say(case.locale, "handover.from_human", text=text)
        )
        await self.conversation.store_operator_message(case.platform, case.platform_user_id, text)
        return None

    async def _list(self) -> Reply:
        now = datetime.now(UTC)
        cases: Sequence[CaseRecord] = await self.threads.run(self.cases.unresolved)
        if not cases:
            return Reply(self._say("none_open"))
        lines = [
            self._say(
                "list_item",
                case=case.id,
                tier=case.tier,
                status=case.status,
                categories=", ".join(case.categories) or "-",
                age=_age(case.opened_at, now),
            )
            for case in cases
        ]
        return Reply("\n".join(lines))
