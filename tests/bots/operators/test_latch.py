"""While a human operator holds a conversation, the bot says nothing, whatever the order of
events: messages arriving mid-reply, claims during a streaming reply, releases and re-claims in
quick succession. Property-style: many seeded random orders against the real service."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from bots.conversation import ConversationService, Inbound
from bots.notices import Button
from bots.operators.desk import OperatorDesk
from bots.runtime import open_runtime, stop_operator_desk
from soulchat.config import Settings
from soulchat.store.cases import CaseStore
from tests.bots.conversation.test_service import ScriptedBackend

OPERATOR = "900"


@dataclass
class FakeOperatorChannel:
    platform: str = "telegram"  # users and operators (OPERATOR) are on Telegram
    has_group: bool = True
    alerts: list[str] = field(default_factory=list)
    to_operators: list[tuple[str, str]] = field(default_factory=list)
    to_users: list[tuple[str, str]] = field(default_factory=list)

    async def post_alert(self, text: str, buttons: tuple[Button, ...]) -> bool:
        if self.has_group:
            self.alerts.append(text)
        return self.has_group

    async def to_operator(
        self, operator_id: str, text: str, buttons: tuple[Button, ...] = ()
    ) -> bool:
        self.to_operators.append((operator_id, text))
        return True

    async def to_user(self, platform_user_id: str, text: str) -> None:
        self.to_users.append((platform_user_id, text))


@dataclass
class TimedSink:
    events: list[tuple[float, str]] = field(default_factory=list)

    def _add(self, kind: str) -> None:
        self.events.append((time.monotonic(), kind))

    async def notice(self, text: str) -> None:
        self._add("notice")

    async def typing(self) -> None:
        self._add("typing")

    async def reply_progress(self, text: str) -> None:
        self._add("progress")

    async def reply_restarted(self) -> None:
        self._add("restarted")

    async def reply_final(self, text: str, *, replaced: bool) -> None:
        self._add("final")


@dataclass
class Opened:
    service: ConversationService
    desk: OperatorDesk
    channel: FakeOperatorChannel
    periods: list[list[float]]


@pytest.fixture
async def opened(make_settings: Callable[..., Settings]) -> AsyncIterator[Opened]:
    settings = make_settings(telegram={"operator_ids": [int(OPERATOR)]})
    backend = ScriptedBackend(latency_s=0.15)
    async with open_runtime(settings, embedded_worker=True, backend=backend) as runtime:
        service = runtime.service
        channel = FakeOperatorChannel()
        desk = await runtime.start_operator_desk(channel)
        assert desk is not None
        periods: list[list[float]] = []
        latch, unlatch = service.latch, service.unlatch

        async def timed_latch(platform: str, user_id: str, operator: str) -> None:
            if not periods or periods[-1][1] != float("inf"):
                periods.append([time.monotonic(), float("inf")])
            await latch(platform, user_id, operator)

        async def timed_unlatch(platform: str, user_id: str) -> None:
            await unlatch(platform, user_id)
            if periods and periods[-1][1] == float("inf"):
                periods[-1][1] = time.monotonic()

        service.latch = timed_latch  # type: ignore[method-assign]
        service.unlatch = timed_unlatch  # type: ignore[method-assign]
        try:
            yield Opened(service, desk, channel, periods)
        finally:
            await stop_operator_desk(desk)


async def _scenario(opened: Opened, seed: int) -> TimedSink:
    rng = random.Random(seed)
    service, desk = opened.service, opened.desk
    user, sink = f"user{seed}", TimedSink()
    opened.periods.clear()
    await service.receive(Inbound("telegram", user, "hello, rough week", locale="en"), sink)
    account = await service.commands.user("telegram", user)
    case_id = await desk.on_risk(
        user_id=account.id,
        conversation_id=1,
        locale="en",
        tier=2,
        categories=frozenset({"suicide"}),
        excerpt="",
    )
    for step in range(10):
        choice = rng.choice(["message", "message", "claim", "release", "wait"])
        if choice == "message":
            text = f"message {step}"
            await service.receive(Inbound("telegram", user, text, locale="en"), sink)
        elif choice == "claim":
            await desk.claim(OPERATOR, case_id)
        elif choice == "release":
            await desk.release(OPERATOR, case_id)
        await asyncio.sleep(rng.uniform(0, 0.25))
    await desk.release(OPERATOR, case_id)
    await asyncio.wait_for(service.wait_idle("telegram", user), 30)
    return sink


async def test_no_bot_message_while_latched_in_any_order(opened: Opened) -> None:
    latched_any = 0
    for seed in range(12):
        sink = await _scenario(opened, seed)
        for start, end in opened.periods:
            latched_any += 1
            inside = [kind for at, kind in sink.events if start <= at < end]
            assert inside == [], (seed, inside)
    assert latched_any >= 5  # the scenarios did exercise the latch


async def test_messages_while_latched_reach_the_operator_not_the_model(opened: Opened) -> None:
    service, desk, channel = opened.service, opened.desk, opened.channel
    sink = TimedSink()
    await service.receive(Inbound("telegram", "ana", "hi", locale="en"), sink)
    await service.wait_idle("telegram", "ana")
    account = await service.commands.user("telegram", "ana")
    case_id = await desk.on_risk(
        user_id=account.id,
        conversation_id=1,
        locale="en",
        tier=3,
        categories=frozenset({"suicide"}),
        excerpt="",
    )
    await desk.claim(OPERATOR, case_id)
    finals = sum(1 for _, kind in sink.events if kind == "final")
    await service.receive(Inbound("telegram", "ana", "are you still there", locale="en"), sink)
    await asyncio.sleep(0.5)
    assert any("are you still there" in text for _, text in channel.to_operators)
    assert sum(1 for _, kind in sink.events if kind == "final") == finals
    record = CaseStore(service.store.engine).get(case_id)
    assert record is not None and record.status == "claimed"


async def test_claims_are_exclusive_and_paging_happens_once(opened: Opened) -> None:
    desk = opened.desk
    desk.team = desk.team.model_copy(update={"operator_ids": [900, 901]})
    desk.settings = desk.settings.model_copy(update={"ack_target_t4_s": 0.01})
    account = await opened.service.commands.user("telegram", "bo")
    case_id = await desk.on_risk(
        user_id=account.id,
        conversation_id=1,
        locale="en",
        tier=4,
        categories=frozenset({"suicide"}),
        excerpt="",
    )
    await asyncio.sleep(0.05)
    first, second = await asyncio.gather(desk.page_overdue(), desk.page_overdue())
    assert sorted(first + second) == [case_id]
    results = await asyncio.gather(desk.claim("900", case_id), desk.claim("901", case_id))
    assert sum("is yours" in r.text for r in results) == 1
    assert sum("already claimed" in r.text for r in results) == 1
    record = CaseStore(opened.service.store.engine).get(case_id)
    assert record is not None and record.operator is not None
    other = "901" if record.operator.endswith(":900") else "900"
    refused = await desk.resolve(other, case_id, "safe_plan")
    assert "already claimed" in refused.text


async def test_without_a_group_every_operator_gets_the_alert_directly(opened: Opened) -> None:
    opened.channel.has_group = False
    account = await opened.service.commands.user("telegram", "cy")
    await opened.desk.on_risk(
        user_id=account.id,
        conversation_id=1,
        locale="zh",
        tier=3,
        categories=frozenset({"self_harm"}),
        excerpt="x" * 500,
    )
    direct = [text for operator, text in opened.channel.to_operators if operator == OPERATOR]
    assert len(direct) == 1 and "Case #" in direct[0] and "tier 3" in direct[0]
    assert "x" * 161 not in direct[0]  # the excerpt is clipped to excerpt_chars


async def test_a_claim_made_in_another_process_stops_the_reply_in_flight(
    opened: Opened,
) -> None:
    """Another bot process claims through the database only; this process learns of it before
    it shows or stores the reply it was generating."""
    service = opened.service
    sink = TimedSink()
    await service.receive(
        Inbound("telegram", "di", "I have a plan to kill myself", locale="en"), sink
    )
    await service.wait_idle("telegram", "di")
    account = await service.commands.user("telegram", "di")
    case = CaseStore(service.store.engine).active_for_user(account.id)
    assert case is not None  # opened by the service itself, at tier 3
    finals = sum(1 for _, kind in sink.events if kind == "final")
    await service.receive(Inbound("telegram", "di", "still there?", locale="en"), sink)
    CaseStore(service.store.engine).claim(case.id, "operator:telegram:900")  # the other process
    await asyncio.wait_for(service.wait_idle("telegram", "di"), 30)
    assert sum(1 for _, kind in sink.events if kind == "final") == finals
