"""Crisis lines: the shipped file, validation of a deployed one, choosing lines by region and
language, and the notice and footer texts."""

from __future__ import annotations

import datetime
import logging
import re
from pathlib import Path

import pytest

from safety import CrisisLine, crisis_notice, load_crisis_lines
from safety.lexicon.t2s import TRADITIONAL_TO_SIMPLIFIED
from safety.policy import SafetyPolicy, stale_lines
from safety.resources import (
    CrisisResources,
    footer_lines,
    region_choices,
    resources_footer,
    select_lines,
)
from soulchat.locales import effective_region, normalize_region, region_from_client_tag

GOOD_ENTRY = """
[[line]]
name = "Test line"
contact = "555"
region = "Testland"
region_codes = ["XA"]
locale = "en"
source = "https://example.org/"
last_verified = 2026-11-25
"""
SHIPPED_REGIONS = {"CN", "US", "GB", "IE", "AU", "CA", "IN", "SG", "HK", "TW"}


@pytest.fixture(scope="module")
def lines() -> list[CrisisLine]:
    return load_crisis_lines()


def test_shipped_file_loads_with_source_and_date(lines: CrisisResources) -> None:
    assert len(lines) >= 9
    for line in lines:
        assert line.source.startswith(("https://", "http://")), line
        assert isinstance(line.last_verified, datetime.date)
        assert "re-check" in line.note.lower()
        assert "not checked online" in line.note.lower()
        assert line.locale in ("en", "zh")
        assert line.region_codes and all(re.fullmatch("[A-Z]{2}", c) for c in line.region_codes)


def test_shipped_file_covers_the_regions(lines: CrisisResources) -> None:
    assert set(lines.regions) == SHIPPED_REGIONS
    assert lines.default_regions == {"en": ("US", "GB", "IE"), "zh": ("CN",)}


@pytest.mark.parametrize("region", sorted(SHIPPED_REGIONS))
def test_every_shipped_region_has_an_emergency_number_in_each_of_its_languages(
    lines: CrisisResources, region: str
) -> None:
    regional = [line for line in lines if region in line.region_codes]
    for locale in {line.locale for line in regional}:
        in_locale = [line for line in regional if line.locale == locale]
        assert any(line.emergency for line in in_locale), (region, locale)
        assert any(not line.emergency for line in in_locale), (region, locale)


def test_no_shipped_crisis_line_is_older_than_180_days(lines: CrisisResources) -> None:
    """This test starts failing 180 days after the last check, on purpose: a crisis number
    that has changed is worse than none. Re-check each line with the organisation, then
    update its last_verified date."""
    stale = stale_lines(lines, datetime.date.today())
    assert not stale, [(line.name, line.region, str(line.last_verified)) for line in stale]


def test_stale_lines_are_found_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    old = datetime.date.today() - datetime.timedelta(days=181)
    path = tmp_path / "lines.toml"
    path.write_text(GOOD_ENTRY.replace("last_verified = 2026-11-25", f"last_verified = {old}"))
    assert [line.name for line in stale_lines(load_crisis_lines(path), datetime.date.today())]
    with caplog.at_level(logging.WARNING, logger="safety.policy"):
        SafetyPolicy(crisis_resources_file=str(path))
    assert "last verified" in caplog.text


@pytest.mark.parametrize(
    ("region", "contact", "locale", "emergency"),
    [
        ("CN", "12356", "zh", False),
        ("CN", "400-161-9995", "zh", False),
        ("CN", "110", "zh", True),
        ("CN", "120", "zh", True),
        ("US", "988", "en", False),
        ("US", "741741", "en", False),
        ("US", "911", "en", True),
        ("GB", "116 123", "en", False),
        ("IE", "116 123", "en", False),
        ("GB", "999", "en", True),
        ("IE", "112", "en", True),
        ("AU", "13 11 14", "en", False),
        ("AU", "1300 659 467", "en", False),
        ("AU", "000", "en", True),
        ("CA", "988", "en", False),
        ("CA", "1-800-668-6868", "en", False),
        ("CA", "911", "en", True),
        ("IN", "14416", "en", False),
        ("IN", "1-800-891-4416", "en", False),
        ("IN", "112", "en", True),
        ("SG", "1767", "en", False),
        ("SG", "6389 2222", "en", False),
        ("SG", "995", "en", True),
        ("SG", "999", "en", True),
        ("HK", "2389 2222", "en", False),
        ("HK", "2896 0000", "en", False),
        ("HK", "999", "en", True),
        ("HK", "2389 2222", "zh", False),
        ("HK", "2896 0000", "zh", False),
        ("HK", "999", "zh", True),
        ("TW", "1925", "zh", False),
        ("TW", "1995", "zh", False),
        ("TW", "1980", "zh", False),
        ("TW", "119", "zh", True),
        ("TW", "110", "zh", True),
        ("TW", "1925", "en", False),
        ("TW", "119", "en", True),
        ("TW", "110", "en", True),
    ],
)
def test_shipped_file_has_the_known_lines(
    lines: CrisisResources, region: str, contact: str, locale: str, emergency: bool
) -> None:
    number = re.compile(rf"(?<![\d-]){re.escape(contact)}(?![\d-])")
    matching = [
        line
        for line in lines
        if region in line.region_codes and line.locale == locale and number.search(line.contact)
    ]
    assert matching, (region, contact, locale)
    assert all(line.emergency == emergency for line in matching)


def test_hong_kong_and_taiwan_have_traditional_chinese_entries(lines: CrisisResources) -> None:
    names = {
        code: [line.name for line in lines if code in line.region_codes and line.locale == "zh"]
        for code in ("HK", "TW")
    }
    assert "香港撒瑪利亞防止自殺會" in names["HK"]
    assert "衛生福利部安心專線" in names["TW"]
    table = TRADITIONAL_TO_SIMPLIFIED
    simplified_only = {s for t, s in table.items() if s != t} - set(table)
    for line in lines:
        if line.locale == "zh" and set(line.region_codes) & {"HK", "TW"}:
            text = line.name + line.region
            assert not simplified_only & set(text), line.name
            assert any(table.get(char, char) != char for char in text), line.name


def test_explicit_path_loads(tmp_path: Path) -> None:
    path = tmp_path / "lines.toml"
    path.write_text(GOOD_ENTRY, encoding="utf-8")
    (line,) = load_crisis_lines(path)
    assert line == CrisisLine(
        "Test line",
        "555",
        "Testland",
        "en",
        "https://example.org/",
        datetime.date(2026, 11, 25),
        region_codes=("XA",),
    )


ENTRY = r"line entry 1 \('Test line'\): "
FUTURE = datetime.date.today() + datetime.timedelta(days=30)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[[line]\nname = 1", "not valid TOML"),
        ("title = 'no lines'", r"\[\[line\]\]"),
        (GOOD_ENTRY.replace('source = "https://example.org/"\n', ""), ENTRY + "missing source"),
        (
            GOOD_ENTRY.replace("last_verified = 2026-11-25", 'last_verified = "soon"'),
            ENTRY + "last_verified must be a date",
        ),
        (GOOD_ENTRY.replace("2026-11-25", "2026-11-25T10:00:00"), ENTRY + "last_verified"),
        (GOOD_ENTRY.replace("2026-11-25", str(FUTURE)), ENTRY + "last_verified .* future"),
        (GOOD_ENTRY.replace('locale = "en"', 'locale = "fr"'), ENTRY + "locale 'fr'"),
        (GOOD_ENTRY.replace("https://example.org/", "example.org"), ENTRY + "source .*web address"),
        (GOOD_ENTRY.replace('contact = "555"', 'contact = ""'), ENTRY + "contact"),
        (GOOD_ENTRY.replace('contact = "555"', 'contact = "  "'), ENTRY + "contact"),
        (GOOD_ENTRY + "sorce = 'typo'\n", ENTRY + "unknown field sorce"),
        (GOOD_ENTRY + "emergency = 'yes'\n", ENTRY + "emergency must be true or false"),
        (GOOD_ENTRY.replace('region_codes = ["XA"]\n', ""), ENTRY + "missing region_codes"),
        (GOOD_ENTRY.replace('["XA"]', '["au"]'), ENTRY + "region_codes 'au' is not an ISO"),
        (GOOD_ENTRY.replace('["XA"]', '["AUS"]'), ENTRY + "region_codes 'AUS' is not an ISO"),
        (GOOD_ENTRY.replace('["XA"]', '["UK"]'), ENTRY + "region_codes .*'GB'"),
        (GOOD_ENTRY.replace('["XA"]', '"XA"'), ENTRY + "region_codes must be a list"),
        (GOOD_ENTRY.replace('["XA"]', "[]"), ENTRY + "region_codes must be a list"),
        (GOOD_ENTRY.replace('["XA"]', '["XA", "XA"]'), ENTRY + "region_codes lists a region twice"),
        ('[default_regions]\nfr = ["XA"]\n' + GOOD_ENTRY, "default_regions 'fr' is not one of"),
        ('[default_regions]\nen = ["xa"]\n' + GOOD_ENTRY, "default_regions 'xa' is not an ISO"),
        ('[default_regions]\nzh = ["XA"]\n' + GOOD_ENTRY, "default_regions: zh lists 'XA'"),
        ('[default_regions]\nen = ["XB"]\n' + GOOD_ENTRY, "default_regions: en lists 'XB'"),
        ("colour = 'blue'\n" + GOOD_ENTRY, "unknown field colour"),
    ],
)
def test_malformed_file_raises_naming_file_entry_and_field(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=problem) as raised:
        load_crisis_lines(path)
    assert str(raised.value).startswith(f"{path}: ")


def test_every_problem_of_an_entry_is_named_at_once(tmp_path: Path) -> None:
    path = tmp_path / "lines.toml"
    broken = GOOD_ENTRY.replace('source = "https://example.org/"\n', "")
    path.write_text(broken.replace('["XA"]', '["xa"]'), encoding="utf-8")
    with pytest.raises(ValueError, match=r"region_codes 'xa' .*; missing source$"):
        load_crisis_lines(path)


def test_malformed_entry_is_named(tmp_path: Path) -> None:
    second = GOOD_ENTRY.replace("Test line", "Second line").replace('region = "Testland"\n', "")
    path = tmp_path / "lines.toml"
    path.write_text(GOOD_ENTRY + second, encoding="utf-8")
    with pytest.raises(ValueError, match=r"entry 2 \('Second line'\): missing region$"):
        load_crisis_lines(path)


def test_missing_file_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.toml"):
        load_crisis_lines(tmp_path / "missing.toml")


def _known(lines: CrisisResources, region: str | None, locale: str) -> set[str]:
    """The contacts of a region's lines (None: the language's default regions)."""
    codes = {region} if region else set(lines.default_regions[locale])
    return {
        line.contact
        for line in lines
        if codes & set(line.region_codes) and (region or line.locale == locale)
    }


def test_english_notice_without_a_region_is_the_us_and_uk_lines(lines: CrisisResources) -> None:
    notice = crisis_notice("en", lines, 2)
    assert "988" in notice
    assert "741741" in notice
    assert "116 123" in notice
    assert "local emergency number" in notice
    assert "12356" not in notice
    for other in ("13 11 14", "14416", "1767", "2389 2222", "1925"):
        assert other not in notice  # a region's lines need the region


def test_chinese_notice_without_a_region_is_the_mainland_lines(lines: CrisisResources) -> None:
    notice = crisis_notice("zh", lines, 2)
    assert "12356" in notice
    assert "988" not in notice
    assert "2389 2222" not in notice and "1925" not in notice
    assert crisis_notice("zh-CN", lines, 2) == notice


def test_unsupported_locale_falls_back_to_english(lines: CrisisResources) -> None:
    assert crisis_notice("fr", lines, 3) == crisis_notice("en", lines, 3)


def test_chinese_falls_back_to_english_when_no_chinese_lines(lines: CrisisResources) -> None:
    english_only = CrisisResources(
        [line for line in lines if line.locale == "en"], {"en": ("US", "GB")}
    )
    assert crisis_notice("zh", english_only, 2) == crisis_notice("en", english_only, 2)


def test_a_file_without_default_regions_shows_all_lines_of_the_language(
    lines: CrisisResources,
) -> None:
    plain = list(lines)  # a plain list has no [default_regions]: every line of the language
    rows = _listed(crisis_notice("en", plain, 2))
    assert len(rows) == sum(1 for line in lines if line.locale == "en")


def _listed(notice: str) -> list[str]:
    return [row for row in notice.splitlines() if row.startswith("•")]


@pytest.mark.parametrize(("locale", "first"), [("en", "911"), ("zh", "110")])
def test_imminent_notice_lists_emergency_numbers_first(
    lines: CrisisResources, locale: str, first: str
) -> None:
    rows = _listed(crisis_notice(locale, lines, 4))
    shown = select_lines(lines, locale).lines
    emergency = [line.contact for line in shown if line.emergency]
    assert len(emergency) == 2
    assert rows[0].endswith(first)
    assert all(any(row.endswith(c) for row in rows[: len(emergency)]) for c in emergency)


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_lower_tiers_list_crisis_lines_first(lines: CrisisResources, locale: str) -> None:
    rows = _listed(crisis_notice(locale, lines, 2))
    first = next(line for line in lines if line.locale == locale and line.contact in rows[0])
    assert not first.emergency
    assert len(rows) == len(_known(lines, None, locale))


# -- by region ----------------------------------------------------------------------------------


def _notice_for_tag(lines: CrisisResources, locale: str, tag: str, tier: int = 2) -> str:
    return crisis_notice(locale, lines, tier, region_from_client_tag(tag))


def test_english_speaker_in_australia_gets_lifeline_and_000(lines: CrisisResources) -> None:
    notice = _notice_for_tag(lines, "en", "en-AU")
    assert "Lifeline Australia" in notice and "13 11 14" in notice
    assert "000" in notice
    assert "988" not in notice and "911" not in notice and "116 123" not in notice
    urgent = _listed(_notice_for_tag(lines, "en", "en-AU", tier=4))
    assert "000" in urgent[0]


def test_english_speaker_in_india_gets_tele_manas_and_112(lines: CrisisResources) -> None:
    notice = _notice_for_tag(lines, "en", "en-IN")
    assert "Tele-MANAS" in notice and "14416" in notice
    assert any(row.endswith(": 112") for row in _listed(notice))
    assert "988" not in notice and "911" not in notice


def test_english_speaker_in_canada_gets_988_canada_and_911(lines: CrisisResources) -> None:
    notice = _notice_for_tag(lines, "en", "en-CA")
    assert "9-8-8 Suicide Crisis Helpline (Canada)" in notice and "911" in notice
    assert "United States" not in notice and "741741" not in notice


def test_taiwan_gets_the_taiwan_line_in_chinese(lines: CrisisResources) -> None:
    notice = _notice_for_tag(lines, "zh", "zh-TW")
    assert "衛生福利部安心專線（臺灣）：1925" in notice
    assert "119" in notice and "110" in notice
    assert "12356" not in notice and "120" not in notice  # not the mainland's lines
    assert notice.startswith("你不必独自承受这些")


def test_hong_kong_in_chinese_and_in_english(lines: CrisisResources) -> None:
    chinese = _notice_for_tag(lines, "zh", "zh-hk")
    assert "香港撒瑪利亞防止自殺會（香港）：2389 2222" in chinese
    assert "香港撒瑪利亞會（香港）：2896 0000" in chinese
    assert "999" in chinese and "12356" not in chinese
    english = _notice_for_tag(lines, "en", "zh-HK")  # an English notice for a zh-HK client
    assert "The Samaritans Hong Kong (Hong Kong): 2896 0000" in english
    assert "香港" not in english


def test_a_region_without_lines_in_the_language_shows_its_english_lines(
    lines: CrisisResources,
) -> None:
    notice = crisis_notice("zh", lines, 2, "SG")
    assert notice.startswith("你不必独自承受这些")  # the person's language around them
    assert "Samaritans of Singapore（Singapore）：1767" in notice
    assert "995" in notice and "999" in notice
    assert "12356" not in notice


def test_a_region_keeps_its_emergency_number_from_another_language() -> None:
    base = dict(source="https://example.org/", last_verified=datetime.date(2026, 12, 1))
    only_english_emergency = CrisisResources(
        [
            CrisisLine("本地热线", "555", "某地", "zh", region_codes=("XA",), **base),
            CrisisLine(
                "Emergency", "000", "Someland", "en", emergency=True, region_codes=("XA",), **base
            ),
        ]
    )
    selection = select_lines(only_english_emergency, "zh", "XA")
    assert [line.contact for line in selection.lines] == ["555", "000"]
    assert "000" in resources_footer("zh", only_english_emergency, 4, "XA")


@pytest.mark.parametrize("region", ["FR", "XX", "", None, "Australia", "12"])
def test_a_region_without_lines_falls_back_to_the_language(
    lines: CrisisResources, region: str | None
) -> None:
    for locale in ("en", "zh"):
        assert crisis_notice(locale, lines, 2, region) == crisis_notice(locale, lines, 2)
        assert resources_footer(locale, lines, 4, region) == resources_footer(locale, lines, 4)
        assert select_lines(lines, locale, region).region is None


def test_region_codes_are_normalised(lines: CrisisResources) -> None:
    assert crisis_notice("en", lines, 2, "au") == crisis_notice("en", lines, 2, "AU")
    assert crisis_notice("en", lines, 2, "UK") == crisis_notice("en", lines, 2, "GB")


@pytest.mark.parametrize("region", sorted(SHIPPED_REGIONS))
@pytest.mark.parametrize("locale", ["en", "zh"])
@pytest.mark.parametrize("tier", [2, 3, 4])
def test_the_footer_of_every_region_has_its_emergency_number_and_only_its_lines(
    lines: CrisisResources, region: str, locale: str, tier: int
) -> None:
    footer = resources_footer(locale, lines, tier, region)
    assert "\n" not in footer
    selection = select_lines(lines, locale, region)
    assert selection.region == region
    shown = footer_lines(selection, tier)
    emergency = [line for line in selection.lines if line.emergency]
    assert emergency and all(line in shown for line in emergency)
    assert all(f": {line.contact}" in footer for line in emergency)
    assert any(not line.emergency for line in shown)  # and a crisis line
    assert all(region in line.region_codes for line in shown)
    assert len(shown) <= max(4, len(emergency) + 1)
    if tier >= 4:
        assert shown[0].emergency


@pytest.mark.parametrize("locale", ["en", "zh"])
@pytest.mark.parametrize("tier", [2, 4])
def test_the_footer_without_a_region_keeps_every_emergency_number(
    lines: CrisisResources, locale: str, tier: int
) -> None:
    footer = resources_footer(locale, lines, tier)
    emergency = [line for line in select_lines(lines, locale).lines if line.emergency]
    assert all(f": {line.contact}" in footer for line in emergency)
    if locale == "en":  # a crisis line of each region, not the first four of the language
        assert "988" in footer and "116 123" in footer and "999 or 112" in footer
    assert footer.startswith("If you need someone now" if locale == "en" else "如果你需要")


def test_region_choices_name_regions_in_the_language(lines: CrisisResources) -> None:
    english = dict(region_choices(lines, "en"))
    chinese = dict(region_choices(lines, "zh"))
    assert set(english) == SHIPPED_REGIONS
    assert english["AU"] == "Australia" and english["HK"] == "Hong Kong"
    assert chinese["HK"] == "香港" and chinese["TW"] == "臺灣" and chinese["AU"] == "Australia"


# -- where the person is --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "region"),
    [
        ("en-AU", "AU"),
        ("en-au", "AU"),
        ("en_IN", "IN"),
        ("zh-TW", "TW"),
        ("zh-hk", "HK"),
        ("zh-Hant-TW", "TW"),
        ("zh-Hans-SG", "SG"),
        ("en-GB", "GB"),
        ("en-UK", "GB"),
        ("en_AU.UTF-8", "AU"),
        ("en", None),
        ("zh", None),
        ("zh-hans", None),
        ("zh-Hant", None),
        ("es-419", None),
        ("en-x-ca", None),
        ("", None),
        (None, None),
    ],
)
def test_region_from_client_tag(tag: str | None, region: str | None) -> None:
    assert region_from_client_tag(tag) == region


def test_normalize_region() -> None:
    assert normalize_region(" au ") == "AU"
    assert normalize_region("UK") == "GB"
    assert normalize_region("AUS") is None
    assert normalize_region("") is None


def test_effective_region_order() -> None:
    assert effective_region("CA", "en-AU", "IN") == "CA"  # the person's choice first
    assert effective_region(None, "en-AU", "IN") == "AU"  # then the client's tag
    assert effective_region(None, "en", "IN") == "IN"  # then the deployment's default
    assert effective_region(None, None, "") is None  # then the language decides
    assert effective_region("", "zh-hans", None) is None
