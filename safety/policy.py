"""The facade the conversation service calls: screen inbound text, decide on a crisis notice,
check model replies and supply the replacement for a blocked one.

Built once at start-up; loading the crisis lines here means a malformed resources file stops
the service before it talks to anyone, rather than when someone is in crisis.
"""

from __future__ import annotations

from pathlib import Path

from safety.output_filter import FilterVerdict, OutputFilter
from safety.resources import CrisisLine, crisis_notice, load_crisis_lines
from safety.screen import LexiconScreen, RiskAssessment


class SafetyPolicy:
    def __init__(self, *, crisis_resources_file: str = "", crisis_notice_tier: int = 2) -> None:
        if not 1 <= crisis_notice_tier <= 4:
            raise ValueError(f"crisis_notice_tier must be 1-4, got {crisis_notice_tier}")
        path = Path(crisis_resources_file) if crisis_resources_file else None
        self._lines: list[CrisisLine] = load_crisis_lines(path)
        self._notice_tier = crisis_notice_tier
        self._screen = LexiconScreen()
        self._filter = OutputFilter()

    @property
    def crisis_lines(self) -> tuple[CrisisLine, ...]:
        return tuple(self._lines)

    def screen_inbound(self, text: str) -> RiskAssessment:
        return self._screen.assess(text)

    def crisis_notice(self, locale: str, assessment: RiskAssessment) -> str | None:
        if assessment.tier < self._notice_tier:
            return None
        return crisis_notice(locale, self._lines, assessment.tier)

    def resources_text(self, locale: str) -> str:
        """The crisis lines for a locale, for disclaimers and /resources."""
        return crisis_notice(locale, self._lines, self._notice_tier)

    def check_reply(self, text: str) -> FilterVerdict:
        return self._filter.check(text)

    def replacement_reply(self, locale: str) -> str:
        return self._filter.replacement(locale)
