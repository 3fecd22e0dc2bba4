"""Safety layer for SoulChat.

* ``LexiconScreen`` - a bilingual (English / Chinese) lexicon screen for inbound messages,
  returning a ``RiskAssessment`` (tier 0-4, categories, ids of the rules that matched);
* ``OutputFilter`` - blocks model replies with method details, death framed as a solution,
  diagnoses, prescriptions or claims to be human, and supplies a safe replacement;
* ``load_crisis_lines`` / ``crisis_notice`` - crisis lines by region, then language, from a
  TOML file; ``region_from_client_tag`` / ``effective_region`` - which region a person is in;
* ``SafetyPolicy`` - the facade the conversation service uses.

Rules are data (``safety.lexicon``), separate from the engine (``safety.rules``), so later
layers (a classifier, conversation-level state) can sit beside the lexicon without changing
these interfaces.
"""

from safety.output_filter import FilterVerdict, OutputFilter
from safety.policy import SafetyPolicy
from safety.resources import CrisisLine, CrisisResources, crisis_notice, load_crisis_lines
from safety.rules import CATEGORIES, Rule
from safety.screen import LexiconScreen, RiskAssessment
from soulchat.locales import effective_region, region_from_client_tag

__all__ = [
    "CATEGORIES",
    "CrisisLine",
    "CrisisResources",
    "FilterVerdict",
    "LexiconScreen",
    "OutputFilter",
    "RiskAssessment",
    "Rule",
    "SafetyPolicy",
    "crisis_notice",
    "effective_region",
    "load_crisis_lines",
    "region_from_client_tag",
]
