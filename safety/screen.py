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

``RiskScreen`` puts the project's trained classifier (``safety.classifier``) beside the
lexicon and screens a conversation's recent messages together, so that risk built up over
several messages ("I've been saving my pills" ... "I don't want to be here anymore") is seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from safety.classifier import RiskClassifier
from safety.lexicon import DEFAULT_COMBINATIONS, DEFAULT_RULES
from safety.lexicon.cues import Combination
from safety.normalize import normalize
from safety.rules import Rule, RuleSet
from safety.semantic import SemanticScreen

# Signals of these categories are escalated by means / timing / farewell context.
_ESCALATED = frozenset({"suicide", "self_harm", "harm_to_others"})
_MODIFIER_ROLES = ("means", "timing", "farewell")


@dataclass(frozen=True)
class RiskAssessment:
    tier: int
    categories: frozenset[str]
    signals: tuple[str, ...]  # ids of the lexicon rules that matched, never the user's text
    # How sure the screen is of the tier: 1.0 when a lexicon rule gives it, else the
    # classifier's probability. Tier first, then score, ranks who needs help first.
    score: float = 0.0

    def stronger(self, other: RiskAssessment) -> RiskAssessment:
        """The more severe of two assessments, with the categories and signals of both."""
        if other.tier == 0:
            return self
        if self.tier == 0:
            return other
        top = max(self, other, key=lambda a: (a.tier, a.score))
        return RiskAssessment(
            tier=top.tier,
            categories=self.categories | other.categories,
            signals=tuple(dict.fromkeys((*self.signals, *other.signals))),
            score=top.score,
        )


NO_RISK = RiskAssessment(tier=0, categories=frozenset(), signals=())


class LexiconScreen:
    """Screens one message at a time; cheap enough to run on every inbound message."""

    def __init__(
        self,
        rules: Iterable[Rule] | None = None,
        combinations: Iterable[Combination] | None = None,
    ) -> None:
        chosen = tuple(DEFAULT_RULES if rules is None else rules)
        self._combinations = tuple(DEFAULT_COMBINATIONS if combinations is None else combinations)
        seen: set[str] = set()
        for rule in chosen:
            rule.validate()
            if rule.id in seen:
                raise ValueError(f"duplicate lexicon rule id {rule.id!r}")
            seen.add(rule.id)
        self._rules = RuleSet(chosen)

    def assess(self, text: str) -> RiskAssessment:
        return self.assess_with_cues(text)[0]

    def assess_with_cues(self, text: str) -> tuple[RiskAssessment, frozenset[str]]:
        """The assessment, and the roles of every rule that matched (a cue may match without
        making a tier: "pills" alone)."""
        hits = self._rules.matches(normalize(text))
        return self._assess(hits), frozenset(rule.role for rule in hits)

    def _assess(self, hits: list[Rule]) -> RiskAssessment:
        if not hits:
            return NO_RISK
        signals = [rule for rule in hits if rule.role == "signal"]
        roles: set[str] = {rule.role for rule in hits if rule.role != "signal"}
        # Combinations may also ask for a kind of signal: "category:abuse".
        roles |= {f"category:{c}" for rule in signals for c in rule.categories}
        combos = [c for c in self._combinations if _complete(c, roles)]
        categories = frozenset().union(
            *(rule.categories for rule in signals), *(c.categories for c in combos)
        )
        found = [(rule.tier, rule.categories) for rule in signals]
        found += [(c.tier, c.categories) for c in combos]
        tier = max((t for t, _ in found), default=0)
        escalatable = max((t for t, cats in found if cats & _ESCALATED), default=0)
        tier = max(tier, _escalate(escalatable, roles))
        if tier == 0 and {"means", "farewell"} <= roles:
            tier, categories = 2, frozenset({"suicide"})
        if tier == 0:
            return NO_RISK
        for rule in hits:
            if rule.role == "qualifier" and rule.categories & categories:
                categories |= rule.categories
        ids = (*(rule.id for rule in hits), *(f"combo.{c.id}" for c in combos))
        return RiskAssessment(tier, categories, ids, 1.0)


def _complete(combination: Combination, roles: set[str]) -> bool:
    if not combination.needs <= roles:
        return False
    return not combination.with_any or bool(combination.with_any & roles)


def _escalate(tier: int, roles: set[str]) -> int:
    if tier == 0:
        return 0
    if tier >= 3:
        return 4 if roles & {"timing", "farewell"} else tier
    steps = sum(1 for role in _MODIFIER_ROLES if role in roles)
    return min(tier + steps, 4 if tier == 2 else 3)


# Messages screened together as one window: enough for a disclosure spread over a few lines.
WINDOW_MESSAGES = 6
# Each earlier message joins the window by its last characters only: what links messages is
# near their ends ("... and the pills" / "goodbye"), and screening cost grows with length
# (about 5 µs a character), so six long messages must not cost six times one.
WINDOW_CHARS = 400


# The classifier's tier counts in full only beside a lexicon cue that speaks of risk itself
# (a signal, despair, a decision, preparation, a place, an overdose, a method question, a
# weapon, a symptom, who the abuser is ...). Beside none, or only cues that are everyday
# words on their own (a time, "I have", a bridge, a goodbye, "together"), it may say
# "elevated" but no more: its mistakes there are ordinary farewells, grief and drama.
# Chosen on two development sets (tests/safety/suites and tests/safety/dev2): this set of
# everyday cues missed 78 of dev2's 160 high-risk cases where a stricter one missed 104, for
# 2 more false alarms out of 200 there and 13 of 280 (4.6%) on the suites.
UNCUED_CLASSIFIER_CAP = 1
EVERYDAY_CUES = frozenset(
    {"timing", "possession", "means", "farewell", "target", "together", "abuser_returns"}
)


class RiskScreen:
    """Lexicon, classifier and semantic layer together, for one message or a conversation's
    recent ones.

    The tier is the highest any layer gives (the classifier capped at
    ``UNCUED_CLASSIFIER_CAP`` when no lexicon rule matched at all, the semantic layer's below
    tier 3 at 1); the lexicon's categories and signals are kept, the classifier adds its own as
    ``clf.t<tier>``, the semantic layer as ``sem.t<tier>``. The semantic layer reads each
    message on its own: it costs tens of milliseconds a text, and a conversation's risk
    already keeps what earlier messages showed (``safety.conversation``)."""

    def __init__(
        self,
        lexicon: LexiconScreen | None = None,
        classifier: RiskClassifier | None = None,
        semantic: SemanticScreen | None = None,
    ) -> None:
        self.lexicon = lexicon or LexiconScreen()
        self.classifier = classifier
        self.semantic = semantic

    def assess(self, text: str) -> RiskAssessment:
        return self._semantic(text, self._fast(text))

    def _semantic(self, text: str, assessment: RiskAssessment) -> RiskAssessment:
        if self.semantic is None:
            return assessment
        found = self.semantic.assess(text)
        if found.tier <= assessment.tier:
            return assessment
        return assessment.stronger(
            RiskAssessment(found.tier, found.categories, (f"sem.t{found.tier}",), found.score)
        )

    def _fast(self, text: str) -> RiskAssessment:
        """Lexicon and classifier: well under a millisecond for a chat message."""
        assessment, cues = self.lexicon.assess_with_cues(text)
        if self.classifier is None:
            return assessment
        verdict = self.classifier.assess(text)
        risky = cues - EVERYDAY_CUES
        tier = verdict.tier if risky else min(verdict.tier, UNCUED_CLASSIFIER_CAP)
        if tier == 0:
            return assessment
        learned = RiskAssessment(tier, verdict.categories, (f"clf.t{tier}",), verdict.score)
        if learned.tier <= assessment.tier:
            return assessment  # the lexicon already knows as much, and says why
        return learned.stronger(assessment)

    def assess_conversation(
        self, messages: Sequence[str], *, semantic: bool = True
    ) -> RiskAssessment:
        """The latest message, and the recent ones read together (oldest first);
        ``semantic=False`` leaves the slow layer out (the service sheds it under overload)."""
        if not messages:
            return NO_RISK
        latest = self._fast(messages[-1])
        window = [m[-WINDOW_CHARS:] for m in messages[-WINDOW_MESSAGES:] if m.strip()]
        if len(window) >= 2:
            latest = latest.stronger(self._fast("\n".join(window)))
        return self._semantic(messages[-1], latest) if semantic else latest
