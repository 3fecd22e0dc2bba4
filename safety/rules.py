"""Lexicon rules and the matcher both the inbound screen and the output filter use.

A rule is data: a regular expression over *normalised* text (see ``safety.normalize``), plus an
optional ``exclude`` expression for idioms, negations and accidents ("kill the process",
"I cut myself shaving", "想死你了"). An exclusion only cancels a hit it overlaps, so "I don't
know why, I want to kill myself" still matches while "I don't want to kill myself" does not.

Every pattern and exclusion is linear in the length of the text by construction, and a rule
that is not is refused when it is compiled (``safety.regex_shape`` reads this from the
pattern's structure): each quantifier has a maximum, so one match attempt reads at most
``MAX_REACH`` characters from where it starts, and no repeated group can split the same text
into its repetitions in two ways. Python's ``re`` backtracks; that is what bounds its work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from safety.regex_shape import Shape, shape

# "abuse" is always present for abuse; a subtype joins it when the message says which.
CATEGORIES: frozenset[str] = frozenset(
    {
        "suicide",
        "self_harm",
        "harm_to_others",
        "abuse",
        "abuse_child",
        "abuse_domestic",
        "abuse_sexual",
        "medical_emergency",
        "psychosis_mania",
        "eating_disorder",
        "method_seeking",
    }
)

# signal: stands on its own and carries a tier and categories.
# means / timing / farewell: context that never raises a tier by itself, but escalates a
# signal (a method or means at hand, a time set, a goodbye) - see LexiconScreen.
# qualifier: no tier; adds its categories when a signal shares one of them ("abuse" plus
# "abuse_sexual" when the abuse described is sexual).
# The cue roles of ``safety.lexicon.cues`` likewise never fire alone; its combinations of
# them do.
Role = Literal[
    "signal",
    "means",
    "timing",
    "farewell",
    "qualifier",
    "possession",
    "overdose",
    "ingestion",
    "symptom",
    "location",
    "preparation",
    "resolve",
    "despair",
    "question",
    "weapon",
    "target",
    "abuse_now",
    "third_party",
    "lethal_means",
    "together",
    "abuser_returns",
]
ROLES: frozenset[str] = frozenset(Role.__args__)  # type: ignore[attr-defined]

# How far either side of a hit an exclusion may look. Exclusions are short phrases, so a
# small window keeps matching cheap on long messages.
_EXCLUDE_WINDOW = 60
# The most characters one match attempt of a pattern or an exclusion may read from where it
# starts, lookaheads included. Words are read up to 40 characters (``\w{1,40}``), numbers up
# to nine digits, and a rule that pairs two phrases looks at most 200 characters from the one
# to the other (``.{0,200}``); the longest rule reads about 540.
MAX_REACH = 600


@dataclass(frozen=True)
class Rule:
    """One lexicon entry. ``tier`` and ``categories`` only matter for role "signal"."""

    id: str
    pattern: str
    tier: int = 0
    categories: frozenset[str] = frozenset()
    role: Role = "signal"
    exclude: str = ""

    def validate(self) -> None:
        if not self.id:
            raise ValueError("rule without an id")
        if self.role not in ROLES:
            raise ValueError(f"rule {self.id}: unknown role {self.role!r}")
        if not 0 <= self.tier <= 4:
            raise ValueError(f"rule {self.id}: tier {self.tier} is outside 0-4")
        unknown = self.categories - CATEGORIES
        if unknown:
            raise ValueError(f"rule {self.id}: unknown categories {sorted(unknown)}")
        if self.role == "signal" and (self.tier == 0 or not self.categories):
            raise ValueError(f"rule {self.id}: a signal needs a tier >= 1 and a category")
        if self.role == "qualifier" and (self.tier or len(self.categories) < 2):
            raise ValueError(f"rule {self.id}: a qualifier has no tier and two or more categories")
        if self.role not in ("signal", "qualifier") and (self.tier or self.categories):
            raise ValueError(f"rule {self.id}: a {self.role} rule carries no tier or category")


@dataclass(frozen=True)
class _Compiled:
    rule: Rule
    pattern: re.Pattern[str]
    exclude: re.Pattern[str] | None


def _compile(rule: Rule) -> _Compiled:
    try:
        pattern = re.compile(rule.pattern)
        exclude = re.compile(rule.exclude) if rule.exclude else None
    except re.error as exc:
        raise ValueError(f"rule {rule.id}: invalid regular expression: {exc}") from exc
    for part, source in (("pattern", rule.pattern), ("exclude", rule.exclude)):
        problem = nonlinear(source) if source else ""
        if problem:
            raise ValueError(f"rule {rule.id}: {part} {problem}")
    # A pattern that matches nothing at all would fire on every message.
    if pattern.search("") is not None:
        raise ValueError(f"rule {rule.id}: pattern matches the empty string")
    return _Compiled(rule, pattern, exclude)


@lru_cache(maxsize=1024)
def pattern_shape(source: str) -> Shape:
    """The shape of a rule's pattern or exclusion (``safety.regex_shape``), computed once."""
    return shape(source)


def nonlinear(source: str) -> str:
    """Why matching ``source`` could cost more than linear time, or "" if it cannot."""
    found = pattern_shape(source)
    if found.reach is None:
        return "has an unbounded quantifier (*, + or {n,}): give it a maximum, e.g. {0,40}"
    if found.reach > MAX_REACH:
        return f"reads up to {found.reach} characters from one position (at most {MAX_REACH})"
    if found.hazards:
        return f"can split the same text in more than one way: {found.hazards[0]}"
    return ""


class RuleSet:
    """Compiled rules; ``matches`` returns the rules that hit, in rule order."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._compiled = [_compile(rule) for rule in rules]

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(c.rule for c in self._compiled)

    def matches(self, normalised: str) -> list[Rule]:
        return [c.rule for c in self._compiled if _hits(c, normalised)]


def _hits(compiled: _Compiled, text: str) -> bool:
    for match in compiled.pattern.finditer(text):
        if compiled.exclude is None or not _excluded(compiled.exclude, text, match):
            return True
    return False


def _excluded(exclude: re.Pattern[str], text: str, match: re.Match[str]) -> bool:
    offset = max(0, match.start() - _EXCLUDE_WINDOW)
    window = text[offset : match.end() + _EXCLUDE_WINDOW]
    for hit in exclude.finditer(window):
        if hit.start() + offset < match.end() and hit.end() + offset > match.start():
            return True
    return False
