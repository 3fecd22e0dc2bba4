"""Crisis lines: the shipped file, validation of a deployed one, and the notice text."""

from __future__ import annotations

import datetime
import logging
import re
from pathlib import Path

import pytest

from safety import CrisisLine, crisis_notice, load_crisis_lines
from safety.policy import SafetyPolicy, stale_lines

GOOD_ENTRY = """
[[line]]
name = "Test line"
contact = "555"
region = "Testland"
locale = "en"
source = "https://example.org/"
last_verified = 2026-11-25
"""


@pytest.fixture(scope="module")
def lines() -> list[CrisisLine]:
    return load_crisis_lines()


def test_shipped_file_loads_with_source_and_date(lines: list[CrisisLine]) -> None:
    assert len(lines) >= 9
    for line in lines:
        assert line.source.startswith(("https://", "http://")), line
        assert isinstance(line.last_verified, datetime.date)
        assert "re-check" in line.note.lower()
        assert line.locale in ("en", "zh")


def test_no_shipped_crisis_line_is_older_than_180_days(lines: list[CrisisLine]) -> None:
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
    ("contact", "locale", "emergency"),
    [
        ("12356", "zh", False),
        ("400-161-9995", "zh", False),
        ("110", "zh", True),
        ("120", "zh", True),
        ("988", "en", False),
        ("741741", "en", False),
        ("911", "en", True),
        ("116 123", "en", False),
        ("999", "en", True),
        ("112", "en", True),
    ],
)
def test_shipped_file_has_the_known_lines(
    lines: list[CrisisLine], contact: str, locale: str, emergency: bool
) -> None:
    number = re.compile(rf"(?<![\d-]){re.escape(contact)}(?![\d-])")
    matching = [line for line in lines if number.search(line.contact)]
    assert matching, contact
    assert all(line.locale == locale and line.emergency == emergency for line in matching)


def test_explicit_path_loads(tmp_path: Path) -> None:
    path = tmp_path / "lines.toml"
    path.write_text(GOOD_ENTRY, encoding="utf-8")
    (line,) = load_crisis_lines(path)
    assert line == CrisisLine(
        "Test line", "555", "Testland", "en", "https://example.org/", datetime.date(2026, 11, 25)
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[[line]\nname = 1", "not valid TOML"),
        ("title = 'no lines'", r"\[\[line\]\]"),
        (GOOD_ENTRY.replace('source = "https://example.org/"\n', ""), "missing source"),
        (GOOD_ENTRY.replace("last_verified = 2026-11-25", 'last_verified = "soon"'), "date"),
        (GOOD_ENTRY.replace("2026-11-25", "2026-11-25T10:00:00"), "date"),
        (GOOD_ENTRY.replace('locale = "en"', 'locale = "fr"'), "locale"),
        (GOOD_ENTRY.replace("https://example.org/", "example.org"), "web address"),
        (GOOD_ENTRY.replace('contact = "555"', 'contact = ""'), "contact"),
        (GOOD_ENTRY + "sorce = 'typo'\n", "unknown field"),
        (GOOD_ENTRY + "emergency = 'yes'\n", "emergency"),
    ],
)
def test_malformed_file_raises_naming_file_and_problem(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=problem) as raised:
        load_crisis_lines(path)
    assert "broken.toml" in str(raised.value)


def test_malformed_entry_is_named(tmp_path: Path) -> None:
    second = GOOD_ENTRY.replace("Test line", "Second line").replace('region = "Testland"\n', "")
    path = tmp_path / "lines.toml"
    path.write_text(GOOD_ENTRY + second, encoding="utf-8")
    with pytest.raises(ValueError, match=r"entry 2 \('Second line'\): missing region"):
        load_crisis_lines(path)


def test_missing_file_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.toml"):
        load_crisis_lines(tmp_path / "missing.toml")


def test_english_notice(lines: list[CrisisLine]) -> None:
    notice = crisis_notice("en", lines, 2)
    assert "988" in notice
    assert "741741" in notice
    assert "116 123" in notice
    assert "local emergency number" in notice
    assert "12356" not in notice


def test_chinese_notice(lines: list[CrisisLine]) -> None:
    notice = crisis_notice("zh", lines, 2)
    assert "12356" in notice
    assert "988" not in notice
    assert crisis_notice("zh-CN", lines, 2) == notice


def test_unsupported_locale_falls_back_to_english(lines: list[CrisisLine]) -> None:
    assert crisis_notice("fr", lines, 3) == crisis_notice("en", lines, 3)


def test_chinese_falls_back_to_english_when_no_chinese_lines(lines: list[CrisisLine]) -> None:
    english_only = [line for line in lines if line.locale == "en"]
    assert crisis_notice("zh", english_only, 2) == crisis_notice("en", english_only, 2)


def _listed(notice: str) -> list[str]:
    return [row for row in notice.splitlines() if row.startswith("•")]


@pytest.mark.parametrize(("locale", "first"), [("en", "911"), ("zh", "110")])
def test_imminent_notice_lists_emergency_numbers_first(
    lines: list[CrisisLine], locale: str, first: str
) -> None:
    rows = _listed(crisis_notice(locale, lines, 4))
    emergency = [line.contact for line in lines if line.emergency and line.locale == locale]
    assert rows[0].endswith(first)
    assert all(any(row.endswith(c) for row in rows[: len(emergency)]) for c in emergency)


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_lower_tiers_list_crisis_lines_first(lines: list[CrisisLine], locale: str) -> None:
    rows = _listed(crisis_notice(locale, lines, 2))
    first = next(line for line in lines if line.locale == locale and line.contact in rows[0])
    assert not first.emergency
    assert len(rows) == sum(1 for line in lines if line.locale == locale)
