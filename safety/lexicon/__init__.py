"""The shipped inbound lexicon: English and Chinese rules, kept apart from the engine.

``DEFAULT_RULES`` is what ``LexiconScreen()`` uses. Rule ids are namespaced by language
("en.kill_self", "zh.overdose_taken", "emoji.pill_run") and are what a ``RiskAssessment``
reports as signals. The output filter's rules live in ``safety.lexicon.replies``.
"""

from __future__ import annotations

from safety.lexicon import conditions, cues, danger, emoji, en, medical, zh
from safety.lexicon.cues import COMBINATIONS as DEFAULT_COMBINATIONS
from safety.rules import Rule

DEFAULT_RULES: tuple[Rule, ...] = (
    *en.RULES,
    *zh.RULES,
    *conditions.RULES,
    *cues.RULES,
    *danger.RULES,
    *medical.RULES,
    *emoji.RULES,
)

__all__ = ["DEFAULT_COMBINATIONS", "DEFAULT_RULES"]
