"""The inbound screen: a bilingual lexicon that turns a user message into a risk tier.

Tiers follow C-SSRS practice: 0 normal; 1 elevated (hopelessness, passive wish to be dead);
2 at risk (active ideation without a plan, self-harm, method-seeking); 3 high (intent, plan,
means at hand, preparation, recent attempt); 4 imminent (attempt in progress, time set,
overdose taken).

Words about means and timing are the strongest signals (Crisis Text Line ranks on them), so
besides the signal rules there are modifier rules - a method or means, a time, a goodbye -
that never fire alone but escalate any suicide, self-harm or harm-to-others signal:

* a tier 3 signal with a time or a goodbye becomes 4 (the time is set);
* tier 2 gains one step per kind of modifier present (method, time, goodbye), up to 4;
* tier 1 likewise, but at most to 3;
* a means and a goodbye with no other signal ("💊💊💊 goodbye") count as tier 2 suicide.

The assessment holds rule ids only, never the user's words, so it can be logged and stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from safety.lexicon import DEFAULT_RULES
from safety.normalize import normalize
from safety.rules import Rule, RuleSet

# Signals of these categories are escalated by means / timing / farewell context.
_ESCALATED = frozenset({"suicide", "self_harm", "harm_to_others"})
_MODIFIER_ROLES = ("means", "timing", "farewell")


@dataclass(frozen=True)
class RiskAssessment:
    tier: int
    categories: frozenset[str]
    signals: tuple[str, ...]  # ids of the lexicon rules that matched, never the user's text


NO_RISK = RiskAssessment(tier=0, categories=frozenset(), signals=())


class LexiconScreen:
    """Screens one message at a time; cheap enough to run on every inbound message."""

    def __init__(self, rules: Iterable[Rule] | None = None) -> None:
        chosen = tuple(DEFAULT_RULES if rules is None else rules)
        seen: set[str] = set()
        for rule in chosen:
            rule.validate()
            if rule.id in seen:
                raise ValueError(f"duplicate lexicon rule id {rule.id!r}")
            seen.add(rule.id)
        self._rules = RuleSet(chosen)

    def assess(self, text: str) -> RiskAssessment:
        hits = self._rules.matches(normalize(text))
        if not hits:
            return NO_RISK
        signals = [rule for rule in hits if rule.role == "signal"]
        roles: set[str] = {rule.role for rule in hits if rule.role != "signal"}
        categories = frozenset().union(*(rule.categories for rule in signals))
        tier = max((rule.tier for rule in signals), default=0)
        escalatable = max((r.tier for r in signals if r.categories & _ESCALATED), default=0)
        tier = max(tier, _escalate(escalatable, roles))
        if tier == 0 and {"means", "farewell"} <= roles:
            tier, categories = 2, frozenset({"suicide"})
        if tier == 0:
            return NO_RISK
        return RiskAssessment(tier, categories, tuple(rule.id for rule in hits))


def _escalate(tier: int, roles: set[str]) -> int:
    if tier == 0:
        return 0
    if tier >= 3:
        return 4 if roles & {"timing", "farewell"} else tier
    steps = sum(1 for role in _MODIFIER_ROLES if role in roles)
    return min(tier + steps, 4 if tier == 2 else 3)
