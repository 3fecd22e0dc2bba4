"""The facade the conversation service calls."""

from __future__ import annotations

from pathlib import Path

import pytest

import safety
from safety import RiskAssessment, SafetyPolicy


@pytest.fixture(scope="module")
def policy() -> SafetyPolicy:
    return SafetyPolicy()


def test_public_api_is_exported() -> None:
    for name in (
        "LexiconScreen",
        "RiskAssessment",
        "OutputFilter",
        "FilterVerdict",
        "CrisisLine",
        "load_crisis_lines",
        "crisis_notice",
        "SafetyPolicy",
    ):
        assert name in safety.__all__
        assert hasattr(safety, name)


def test_screen_inbound(policy: SafetyPolicy) -> None:
    assert policy.screen_inbound("I want to kill myself").tier == 2
    assert policy.screen_inbound("今晚吃火锅").tier == 0


def test_notice_only_from_the_configured_tier(policy: SafetyPolicy) -> None:
    assert policy.crisis_notice("en", policy.screen_inbound("no reason to live")) is None
    notice = policy.crisis_notice("en", policy.screen_inbound("I want to kill myself"))
    assert notice is not None and "988" in notice
    zh_notice = policy.crisis_notice("zh", policy.screen_inbound("我想自杀"))
    assert zh_notice is not None and "12356" in zh_notice


def test_imminent_notice_puts_emergency_first(policy: SafetyPolicy) -> None:
    assessment = policy.screen_inbound("我已经吃了一整瓶安眠药")
    assert assessment.tier == 4
    notice = policy.crisis_notice("zh", assessment)
    assert notice is not None
    assert notice.splitlines()[1].endswith("110")


def test_custom_notice_tier() -> None:
    strict = SafetyPolicy(crisis_notice_tier=1)
    assert strict.crisis_notice("en", RiskAssessment(1, frozenset({"suicide"}), ("x",)))
    lenient = SafetyPolicy(crisis_notice_tier=3)
    assert lenient.crisis_notice("en", RiskAssessment(2, frozenset({"suicide"}), ("x",))) is None


@pytest.mark.parametrize("tier", [0, 5])
def test_notice_tier_out_of_range(tier: int) -> None:
    with pytest.raises(ValueError, match="crisis_notice_tier"):
        SafetyPolicy(crisis_notice_tier=tier)


def test_custom_resources_file(tmp_path: Path) -> None:
    path = tmp_path / "lines.toml"
    path.write_text(
        '[[line]]\nname = "Local line"\ncontact = "555-0100"\nregion = "Here"\nlocale = "en"\n'
        'source = "https://example.org/"\nlast_verified = 2026-11-25\n',
        encoding="utf-8",
    )
    policy = SafetyPolicy(crisis_resources_file=str(path))
    notice = policy.crisis_notice("en", RiskAssessment(3, frozenset({"suicide"}), ("x",)))
    assert notice is not None and "555-0100" in notice and "988" not in notice


def test_malformed_resources_file_fails_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[line]]\nname = 'half an entry'\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"broken\.toml"):
        SafetyPolicy(crisis_resources_file=str(path))


def test_reply_checks_and_replacement(policy: SafetyPolicy) -> None:
    assert policy.check_reply("Would you like to tell me more?").allowed
    blocked = policy.check_reply("The lethal dose is 10 grams.")
    assert not blocked.allowed and blocked.reasons == ("method_detail",)
    assert policy.check_reply(policy.replacement_reply("en")).allowed
    assert policy.check_reply(policy.replacement_reply("zh")).allowed
    assert policy.replacement_reply("zh") != policy.replacement_reply("en")
