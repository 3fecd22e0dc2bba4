"""A conversation's risk over time: maximum of signals, decay of tiers 1-2, latch of 3-4."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from safety.conversation import ConversationRisk, RiskSignal

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SUICIDE = frozenset({"suicide"})
DAY = timedelta(hours=24)


def signal(tier: int, hours: float = 0.0, categories: frozenset[str] = SUICIDE) -> RiskSignal:
    return RiskSignal(tier, categories, T0 + timedelta(hours=hours))


def test_the_risk_is_the_highest_signal() -> None:
    risk = ConversationRisk(decay=DAY)
    risk.add(signal(1))
    risk.add(signal(2, 0.1, frozenset({"self_harm"})))
    risk.add(signal(1, 0.2))
    assert risk.tier(T0 + timedelta(hours=1)) == 2
    assert risk.categories(T0 + timedelta(hours=1)) == {"suicide", "self_harm"}


def test_tier_two_fades_to_one_then_to_nothing() -> None:
    risk = ConversationRisk(decay=DAY)
    risk.add(signal(2))
    assert risk.tier(T0 + timedelta(hours=23)) == 2
    assert risk.tier(T0 + timedelta(hours=25)) == 1
    assert risk.tier(T0 + timedelta(hours=49)) == 0
    assert risk.categories(T0 + timedelta(hours=49)) == frozenset()


def test_tier_one_fades_after_the_decay() -> None:
    risk = ConversationRisk(decay=timedelta(hours=2))
    risk.add(signal(1))
    assert risk.tier(T0 + timedelta(hours=1)) == 1
    assert risk.tier(T0 + timedelta(hours=3)) == 0


def test_high_tiers_never_fade_by_time_or_by_later_calm_messages() -> None:
    risk = ConversationRisk(decay=DAY)
    risk.add(signal(4))
    risk.add(signal(0, 0.1))  # "jk lol" screens as nothing
    risk.add(signal(1, 0.2))
    assert risk.latched
    assert risk.tier(T0 + timedelta(days=400)) == 4


def test_resolving_clears_what_came_before_and_new_signals_count_again() -> None:
    risk = ConversationRisk(decay=DAY)
    risk.add(signal(3))
    risk.resolve(T0 + timedelta(hours=1))
    assert risk.tier(T0 + timedelta(hours=2)) == 0
    assert not risk.latched
    risk.add(signal(2, 3))
    assert risk.tier(T0 + timedelta(hours=4)) == 2


def test_rebuilt_from_history_after_a_restart() -> None:
    history = [signal(2, 5), signal(3, 1), signal(1, 2)]
    risk = ConversationRisk.from_history(history, resolved_at=None, decay=DAY)
    assert risk.tier(T0 + timedelta(days=30)) == 3
    resolved = ConversationRisk.from_history(history, T0 + timedelta(hours=3), DAY)
    assert resolved.tier(T0 + timedelta(hours=6)) == 2  # only the signal after resolution


def test_many_low_signals_do_not_grow_without_bound_but_latched_ones_stay() -> None:
    risk = ConversationRisk(decay=DAY)
    risk.add(signal(3))
    for minute in range(500):
        risk.add(signal(1, minute / 60 + 1))
    assert len(risk.signals) <= 21
    assert risk.tier(T0 + timedelta(days=10)) == 3
