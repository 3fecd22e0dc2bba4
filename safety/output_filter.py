"""The output filter: checks model replies (partial while streaming, then final) and supplies
a safe replacement when one is blocked.

It blocks method / means / lethality details, death framed as a solution, diagnoses,
prescriptions, and claims to be a human or a clinician (rules in ``safety.lexicon.replies``).
It is deliberately narrow: replies that name suicide, ask about safety directly, point to a
crisis line or mention that a doctor can help are what the model should be writing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from safety.lexicon.replies import RULES as DEFAULT_REPLY_RULES
from safety.normalize import normalize
from safety.rules import Rule, RuleSet
from soulchat.locales import language_of

REPLACEMENTS: dict[str, str] = {
    "en": (
        "I want to be careful here: I'm an AI companion, not a doctor or a therapist, so I can't "
        "diagnose, advise on medication, or share anything that could put you in danger. I'm "
        "still here with you, though. How are you feeling right now, and are you safe? If you "
        "might be in danger, please contact a crisis line or your local emergency number."
    ),
    "zh": (
        "这里我需要谨慎一些：我是一个人工智能陪伴助手，不是医生或心理治疗师，不能做诊断、给用药建议，"
        "也不会提供任何可能让你陷入危险的信息。但我还在这里陪着你。你现在感觉怎么样？你现在安全吗？"
        "如果你可能有危险，请联系心理援助热线或拨打当地的急救电话。"
    ),
}


@dataclass(frozen=True)
class FilterVerdict:
    allowed: bool
    reasons: tuple[str, ...]  # rule ids, e.g. "method_detail", "diagnosis"


ALLOWED = FilterVerdict(allowed=True, reasons=())


class OutputFilter:
    """Cheap enough to run on every streamed chunk: a few dozen precompiled expressions."""

    def __init__(self, rules: Iterable[Rule] | None = None) -> None:
        chosen = tuple(DEFAULT_REPLY_RULES if rules is None else rules)
        if any(not rule.id for rule in chosen):
            raise ValueError("output filter rule without an id")
        self._rules = RuleSet(chosen)

    def check(self, text: str) -> FilterVerdict:
        hits = self._rules.matches(normalize(text))
        if not hits:
            return ALLOWED
        # Several rules share a reason id; report each reason once, in rule order.
        return FilterVerdict(allowed=False, reasons=tuple(dict.fromkeys(r.id for r in hits)))

    def replacement(self, locale: str) -> str:
        return REPLACEMENTS[language_of(locale)]
