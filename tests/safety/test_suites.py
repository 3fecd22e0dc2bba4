"""The issue's targets on the project's bilingual suites (tests/safety/suites): every tier 3-4
case scored 3 or above, at most 5% of benign look-alikes scored 2 or above."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from safety.evaluation import (
    Case,
    Scored,
    false_alarms,
    load_cases,
    load_cases_from,
    missed,
    score,
)
from safety.policy import build_screen
from safety.rules import CATEGORIES
from soulchat.config import SafetySettings

SUITES = Path(__file__).parent / "suites"
# Must-catch cases the screen still scores below tier 3, each a known gap, not a target met.
# (mc-zh-077, deleting photos and contacts with nothing else said, left the list when the
# semantic layer came.)
KNOWN_MISSES: set[str] = set()


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases(SUITES)


@pytest.fixture(scope="module")
def scored(cases: list[Case]) -> list[Scored]:
    """The screen as shipped: lexicon, classifier and semantic layer."""
    return score(build_screen(SafetySettings()), cases)


def test_the_suites_are_the_size_the_issue_asks_for(cases: list[Case]) -> None:
    suites = Counter(case.suite for case in cases)
    assert suites["must_catch"] >= 200 and suites["benign"] >= 200
    for suite in ("must_catch", "benign"):
        languages = Counter(case.lang for case in cases if case.suite == suite)
        assert languages["en"] >= 100 and languages["zh"] >= 100
    must = [case for case in cases if case.suite == "must_catch"]
    assert all(case.tier >= 3 for case in must)
    covered = Counter(category for case in must for category in case.categories)
    assert set(covered) == CATEGORIES
    tags = Counter(tag for case in must for tag in case.tags)
    for tag in ("indirect", "emoji", "dose", "pact", "method_seeking", "multi_turn"):
        assert tags[tag] >= 10, tag
    assert len({case.id for case in cases}) == len(cases)


def test_no_high_risk_case_is_scored_below_tier_3(scored: list[Scored]) -> None:
    misses = {s.case.id: (s.assessment.tier, s.case.messages) for s in missed(scored)}
    assert set(misses) <= KNOWN_MISSES, {k: v for k, v in misses.items() if k not in KNOWN_MISSES}


def test_the_known_misses_are_still_misses(scored: list[Scored]) -> None:
    """A known miss that is now caught should leave the list, so the list stays true."""
    assert {s.case.id for s in missed(scored)} == KNOWN_MISSES


def test_at_most_five_percent_of_benign_look_alikes_reach_tier_2(scored: list[Scored]) -> None:
    benign = [s for s in scored if s.case.suite == "benign"]
    alarms = false_alarms(scored)
    assert len(alarms) / len(benign) <= 0.05, [s.case.messages for s in alarms]


def test_the_screen_finds_the_category_of_most_high_risk_cases(scored: list[Scored]) -> None:
    must = [s for s in scored if s.case.suite == "must_catch"]
    found = sum(1 for s in must if s.case.categories & s.assessment.categories)
    assert found / len(must) >= 0.9


@pytest.mark.parametrize("name", ["holdout", "holdout2"])
def test_the_held_out_suites_are_there_and_well_formed(name: str) -> None:
    """Written independently after the screen was built; their figures are reported by
    benchmarks/safety.py, never asserted here, so that nobody tunes the screen to them."""
    held = load_cases(Path(__file__).parent / name)
    suites = Counter(case.suite for case in held)
    assert suites["must_catch"] >= 100 and suites["benign"] >= 100
    assert all(case.tier >= 3 for case in held if case.suite == "must_catch")
    assert not {case.id for case in held} & {case.id for case in load_cases(SUITES)}


def test_the_second_development_set_is_well_formed() -> None:
    dev2 = load_cases_from(Path(__file__).parent / "dev2", ("must_catch", "benign"))
    assert sum(case.suite == "must_catch" for case in dev2) >= 150
    assert all(case.tier >= 3 for case in dev2 if case.suite == "must_catch")
    assert all(case.tier <= 1 for case in dev2 if case.suite == "benign")
