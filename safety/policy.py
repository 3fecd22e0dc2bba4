"""The facade the conversation service calls: screen inbound text, decide on a crisis notice,
check model replies and supply the replacement for a blocked one.

Built once at start-up; loading the crisis lines here means a malformed resources file stops
the service before it talks to anyone, rather than when someone is in crisis.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from safety.classifier import RiskClassifier
from safety.crisis_replies import crisis_reply
from safety.output_filter import FilterVerdict, OutputFilter
from safety.resources import (
    CrisisLine,
    CrisisResources,
    crisis_notice,
    load_crisis_lines,
    region_choices,
    resources_footer,
)
from safety.screen import LexiconScreen, RiskAssessment, RiskScreen
from safety.semantic import SemanticHead, SemanticScreen
from soulchat.locales import effective_region, normalize_region

if TYPE_CHECKING:
    from soulchat.config import SafetySettings

log = logging.getLogger(__name__)
# A crisis line not re-checked for this long may have changed its number.
STALE_AFTER = datetime.timedelta(days=180)


def check_default_region(value: str, lines: CrisisResources) -> str | None:
    """``safety.default_region`` normalised, or None when empty; a ValueError when the
    resources file has no lines for it."""
    if not value.strip():
        return None
    code = normalize_region(value)
    if code is None or code not in lines.regions:
        raise ValueError(
            f"SOULCHAT_SAFETY__DEFAULT_REGION: {value!r} is not a region of the crisis "
            f"resources file (it has {', '.join(lines.regions)})"
        )
    return code


def stale_lines(lines: Sequence[CrisisLine], today: datetime.date) -> list[CrisisLine]:
    return [line for line in lines if today - line.last_verified > STALE_AFTER]


@lru_cache(maxsize=4)
def load_classifier(path: str = "") -> RiskClassifier:
    """The classifier at ``path`` (empty: the shipped one), read once per process."""
    return RiskClassifier.load(Path(path) if path else None)


@lru_cache(maxsize=4)
def load_semantic(path: str = "") -> SemanticScreen:
    """The semantic layer with the head at ``path`` (empty: the shipped one), once per
    process: its encoder holds 70 MB."""
    return SemanticScreen(SemanticHead.load(Path(path) if path else None))


def build_screen(settings: SafetySettings, *, classifier: bool = True) -> RiskScreen:
    """The screen the settings describe (``classifier=False``: the lexicon alone); a bad
    model file is a ValueError naming it."""
    use = classifier and settings.use_classifier
    semantic = classifier and settings.use_semantic
    return RiskScreen(
        LexiconScreen(),
        load_classifier(settings.classifier_file) if use else None,
        load_semantic(settings.semantic_file) if semantic else None,
    )


class SafetyPolicy:
    def __init__(
        self,
        *,
        crisis_resources_file: str = "",
        crisis_notice_tier: int = 2,
        screen: RiskScreen | None = None,
        default_region: str = "",
    ) -> None:
        if not 1 <= crisis_notice_tier <= 4:
            raise ValueError(f"crisis_notice_tier must be 1-4, got {crisis_notice_tier}")
        path = Path(crisis_resources_file) if crisis_resources_file else None
        self._lines: CrisisResources = load_crisis_lines(path)
        self._default_region = check_default_region(default_region, self._lines)
        for line in stale_lines(self._lines, datetime.date.today()):
            log.warning(
                "crisis line %r (%s) was last verified on %s: check it with the organisation "
                "and update the resources file",
                line.name,
                line.region,
                line.last_verified,
            )
        for code in self._lines.regions:
            if not any(line.emergency for line in self._lines if code in line.region_codes):
                log.warning("crisis resources: region %s has no emergency number", code)
        self._notice_tier = crisis_notice_tier
        self._screen = screen or RiskScreen(LexiconScreen(), load_classifier())
        self._filter = OutputFilter()

    @classmethod
    def from_settings(cls, settings: SafetySettings) -> SafetyPolicy:
        return cls(
            crisis_resources_file=settings.crisis_resources_file,
            crisis_notice_tier=settings.crisis_notice_tier,
            screen=build_screen(settings),
            default_region=settings.default_region,
        )

    @property
    def crisis_lines(self) -> tuple[CrisisLine, ...]:
        return tuple(self._lines)

    # -- regions ----------------------------------------------------------------------------
    @property
    def regions(self) -> tuple[str, ...]:
        """The ISO 3166-1 alpha-2 codes the resources file has lines for, in file order."""
        return self._lines.regions

    @property
    def default_region(self) -> str | None:
        """The deployment's default region (``safety.default_region``), None when unset."""
        return self._default_region

    def region_choices(self, locale: str) -> list[tuple[str, str]]:
        """(code, name) of every region with lines, named in the locale's language where the
        file can: what ``/region`` offers."""
        return region_choices(self._lines, locale)

    def known_region(self, code: str | None) -> str | None:
        """``code`` normalised ("au" -> "AU", "UK" -> "GB") if the file has lines for it, else
        None: how ``/region`` checks what the person typed before storing it."""
        normalised = normalize_region(code)
        return normalised if normalised in self._lines.regions else None

    def region_for(self, *, chosen: str | None = None, client_tag: str | None = None) -> str | None:
        """The region whose lines a person gets: their own choice (``UserRecord.region``),
        else the region in their client's language tag (Telegram ``language_code``), else
        ``safety.default_region``; None: the lines of their language."""
        return effective_region(chosen, client_tag, self._default_region)

    def screen_inbound(self, text: str) -> RiskAssessment:
        return self._screen.assess(text)

    @staticmethod
    def assessment(tier: int, categories: frozenset[str], source: str) -> RiskAssessment:
        """An assessment from another layer (the LLM guard, an operator)."""
        return RiskAssessment(tier, categories, (source,), 1.0)

    def screen_conversation(
        self, messages: Sequence[str], *, semantic: bool = True
    ) -> RiskAssessment:
        """The latest of a conversation's user messages, with the recent ones read together;
        ``semantic=False``: without the semantic layer (sub-millisecond)."""
        return self._screen.assess_conversation(messages, semantic=semantic)

    @property
    def has_semantic_layer(self) -> bool:
        return self._screen.semantic is not None

    def crisis_notice(
        self, locale: str, assessment: RiskAssessment, *, region: str | None = None
    ) -> str | None:
        """The crisis lines for the region (``region_for``; None: the language's), from the
        notice tier."""
        if assessment.tier < self._notice_tier:
            return None
        return crisis_notice(locale, self._lines, assessment.tier, region)

    @property
    def notice_tier(self) -> int:
        return self._notice_tier

    def crisis_reply(
        self, locale: str, assessment: RiskAssessment, *, region: str | None = None
    ) -> str:
        """The vetted first reply from tier 3; below that, the crisis notice (or nothing)."""
        if assessment.tier >= 3:
            return crisis_reply(locale, assessment.tier, assessment.categories, self._lines, region)
        return self.crisis_notice(locale, assessment, region=region) or ""

    def resources_footer(self, locale: str, tier: int, *, region: str | None = None) -> str:
        """One line of crisis contacts to go with every reply while someone is at risk: the
        region's lines (None: the language's), never without their emergency number."""
        return resources_footer(locale, self._lines, tier, region)

    def resources_text(self, locale: str, *, region: str | None = None) -> str:
        """The crisis lines for a locale and region, for disclaimers and /resources."""
        return crisis_notice(locale, self._lines, self._notice_tier, region)

    def check_reply(self, text: str) -> FilterVerdict:
        return self._filter.check(text)

    def replacement_reply(self, locale: str) -> str:
        return self._filter.replacement(locale)
