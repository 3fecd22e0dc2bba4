"""The facade the conversation service calls."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import safety
from safety import RiskAssessment, SafetyPolicy

LOCAL_LINE = (
    '[[line]]\nname = "Local line"\ncontact = "555-0100"\nregion = "Here"\n'
    'region_codes = ["XA"]\nlocale = "en"\nsource = "https://example.org/"\n'
    "last_verified = 2026-11-25\n"
)
HIGH = RiskAssessment(3, frozenset({"suicide"}), ("x",))
IMMINENT = RiskAssessment(4, frozenset({"suicide"}), ("x",))


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
        "CrisisResources",
        "load_crisis_lines",
        "crisis_notice",
        "SafetyPolicy",
        "region_from_client_tag",
        "effective_region",
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
        LOCAL_LINE,
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


# -- regions ----------------------------------------------------------------------------------


def test_region_keywords_are_optional_and_default_to_the_language(policy: SafetyPolicy) -> None:
    assert policy.resources_text("en") == policy.resources_text("en", region=None)
    assert policy.resources_footer("en", 2) == policy.resources_footer("en", 2, region=None)
    assert policy.crisis_reply("en", HIGH) == policy.crisis_reply("en", HIGH, region=None)
    assert policy.crisis_notice("en", HIGH) == policy.crisis_notice("en", HIGH, region=None)


def test_an_english_speaker_tagged_en_au_gets_lifeline_and_000(policy: SafetyPolicy) -> None:
    region = policy.region_for(client_tag="en-AU")
    assert region == "AU"
    notice = policy.crisis_notice("en", HIGH, region=region)
    assert notice is not None and "13 11 14" in notice and "000" in notice and "988" not in notice
    footer = policy.resources_footer("en", 2, region=region)
    assert "13 11 14" in footer and "000" in footer and "988" not in footer
    text = policy.resources_text("en", region=region)
    assert "Lifeline Australia" in text and "911" not in text


def test_an_english_speaker_tagged_en_in_gets_tele_manas_and_112(policy: SafetyPolicy) -> None:
    region = policy.region_for(client_tag="en-IN")
    reply = policy.crisis_reply("en", IMMINENT, region=region)
    assert "Tele-MANAS" in reply and "14416" in reply
    listed = [row for row in reply.splitlines() if row.startswith("•")]
    assert listed[0].endswith(": 112")  # imminent: the emergency number first
    assert "988" not in reply and "911" not in reply


def test_zh_tw_gets_the_taiwan_line_in_chinese(policy: SafetyPolicy) -> None:
    region = policy.region_for(client_tag="zh-TW")
    reply = policy.crisis_reply("zh", HIGH, region=region)
    assert "衛生福利部安心專線（臺灣）：1925" in reply and "12356" not in reply
    footer = policy.resources_footer("zh", 4, region=region)
    assert footer.startswith("如果你需要现在就和人聊聊：救護車、消防 (臺灣): 119")


def test_a_region_without_lines_falls_back_to_the_language(policy: SafetyPolicy) -> None:
    region = policy.region_for(client_tag="en-FR")
    assert region == "FR"
    assert policy.resources_text("en", region=region) == policy.resources_text("en")
    assert policy.resources_footer("en", 4, region=region) == policy.resources_footer("en", 4)


def test_the_deployment_default_applies_when_the_tag_has_no_region() -> None:
    policy = SafetyPolicy(default_region="sg")
    assert policy.default_region == "SG"
    assert policy.region_for(client_tag="en") == "SG"
    assert policy.region_for(client_tag=None) == "SG"
    assert policy.region_for(client_tag="zh-hans") == "SG"
    assert policy.region_for(client_tag="en-AU") == "AU"  # the tag says more
    assert policy.region_for(chosen="CA", client_tag="en-AU") == "CA"  # the person says most
    notice = policy.resources_text("en", region=policy.region_for(client_tag="en"))
    assert "1767" in notice and "995" in notice and "988" not in notice


def test_without_a_default_the_language_decides(policy: SafetyPolicy) -> None:
    assert policy.default_region is None
    assert policy.region_for() is None
    assert policy.region_for(client_tag="en") is None


@pytest.mark.parametrize("value", ["XX", "Australia", "AUS"])
def test_an_unknown_default_region_fails_at_start_up(value: str) -> None:
    with pytest.raises(ValueError, match=rf"DEFAULT_REGION: {value!r} is not a region"):
        SafetyPolicy(default_region=value)


def test_the_default_region_is_checked_against_the_deployed_file(tmp_path: Path) -> None:
    path = tmp_path / "lines.toml"
    path.write_text(LOCAL_LINE, encoding="utf-8")
    assert SafetyPolicy(crisis_resources_file=str(path), default_region="XA").default_region
    with pytest.raises(ValueError, match="it has XA"):
        SafetyPolicy(crisis_resources_file=str(path), default_region="AU")


def test_regions_and_choices_for_a_region_command(policy: SafetyPolicy) -> None:
    assert set(policy.regions) == {"CN", "US", "GB", "IE", "AU", "CA", "IN", "SG", "HK", "TW"}
    assert ("AU", "Australia") in policy.region_choices("en")
    assert ("TW", "臺灣") in policy.region_choices("zh-TW")
    assert policy.known_region(" au ") == "AU"
    assert policy.known_region("UK") == "GB"
    assert policy.known_region("FR") is None
    assert policy.known_region("") is None


def test_a_region_without_an_emergency_number_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "lines.toml"
    path.write_text(LOCAL_LINE, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="safety.policy"):
        SafetyPolicy(crisis_resources_file=str(path))
    assert "region XA has no emergency number" in caplog.text
