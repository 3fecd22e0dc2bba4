"""The per-user flood limit: a burst within the limit passes, a flood gets one notice."""

from __future__ import annotations

import pytest

from bots.flood import FloodGuard, FloodVerdict


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_messages_within_the_limit_pass_and_a_flood_gets_one_notice() -> None:
    clock = Clock()
    guard = FloodGuard(3, 10, clock=clock)
    assert [guard.check("u") for _ in range(3)] == [FloodVerdict.ACCEPT] * 3
    assert guard.check("u") is FloodVerdict.REJECT_WITH_NOTICE
    assert guard.check("u") is FloodVerdict.REJECT_QUIETLY
    assert guard.check("other") is FloodVerdict.ACCEPT  # users are independent


def test_the_window_slides() -> None:
    clock = Clock()
    guard = FloodGuard(2, 10, clock=clock)
    guard.check("u")
    clock.now = 5
    guard.check("u")
    assert guard.check("u") is FloodVerdict.REJECT_WITH_NOTICE
    clock.now = 10  # the first message left the window
    assert guard.check("u") is FloodVerdict.ACCEPT
    assert guard.check("u") is FloodVerdict.REJECT_QUIETLY  # already told in this window
    clock.now = 21
    guard.check("u")
    guard.check("u")
    assert guard.check("u") is FloodVerdict.REJECT_WITH_NOTICE


def test_idle_users_are_evicted_and_forget_clears_one() -> None:
    clock = Clock()
    guard = FloodGuard(1, 10, clock=clock)
    guard.check("a")
    guard.check("b")
    guard.forget("b")
    assert guard.check("b") is FloodVerdict.ACCEPT
    clock.now = 11
    guard.evict_idle()
    assert guard._windows == {}


def test_a_nonsense_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        FloodGuard(0, 10)
