"""Memory that follows the people talking now, not everyone ever seen: a bot that meets a
million people must not keep a million entries."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bots.flood import FloodGuard
from bots.frontdesk import HOLD_FOR_S, MAX_HELD_PEOPLE, FrontDesk
from bots.notices import Notice
from bots.ordering import ArrivalOrder
from bots.recent import RecentKeys
from bots.runtime import open_runtime
from bots.telegram.channel import ChatPacer
from soulchat.config import Settings
from tests.bots.conversation.test_service import RecordingSink

PEOPLE = 100_000


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _ignore(notice: Notice) -> None:
    pass


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 100,000 turns through the front desk: minutes on a busy machine
async def test_a_hundred_thousand_strangers_leave_bounded_state_behind(
    make_settings: Callable[..., Settings],
) -> None:
    """Each writes once and never answers the consent question: their words are held, the
    flood guard counts them; an hour later none of it is left."""
    settings = make_settings(safety={"use_semantic": False})
    window_s = settings.telegram.flood_window_s
    async with open_runtime(settings, embedded_worker=True) as runtime:
        clock = Clock()
        flood = FloodGuard(settings.telegram.flood_messages, window_s, clock=clock)
        desk = FrontDesk(
            runtime.service,
            runtime.safety,
            "telegram",
            flood,
            retention_days=30,
            default_locale="en",
            clock=clock,
        )
        sink, most_held = RecordingSink(), 0
        for person in range(PEOPLE):
            clock.now += 0.01  # 100,000 people in under 17 minutes
            await desk.text(str(person), "hello, is anyone there?", send=_ignore, sink=sink)
            most_held = max(most_held, desk.held_people)
        assert most_held == MAX_HELD_PEOPLE  # the cap held while they came
        assert len(desk.flood) <= 2 * window_s / 0.01  # those of the last window or two
        assert len(runtime.service.states) == 0  # nothing is loaded before consent

        clock.now += HOLD_FOR_S + window_s
        desk.evict_idle()
        desk.flood.check("one more")  # the guard sweeps itself once a window
        assert desk.held_people == 0
        assert len(desk.flood) == 1


async def test_pacer_order_and_hints_forget_chats_that_went_quiet() -> None:
    pacer, order, hinted = ChatPacer(private_s=0.0, group_s=0.0), ArrivalOrder(), RecentKeys()
    for chat in range(PEOPLE):
        async with order.hold(chat), pacer.turn(chat, private=True):
            hinted.first_time(chat)
    async with pacer.turn(-1, private=True):  # a later call sweeps the quiet chats away
        pass
    assert len(pacer) <= 1
    assert order.busy == 0
    assert len(hinted) == hinted.size < PEOPLE
    assert hinted.first_time(PEOPLE - 1) is False  # the newest are still remembered
    assert hinted.first_time(0) is True  # the oldest were forgotten: a hint may come again
