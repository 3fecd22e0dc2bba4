"""Category sets the lexicon rules carry (one definition for every language)."""

from __future__ import annotations

SUICIDE = frozenset({"suicide"})
SELF_HARM = frozenset({"self_harm"})
SUICIDE_SELF_HARM = frozenset({"suicide", "self_harm"})
METHOD = frozenset({"suicide", "method_seeking"})
OVERDOSE = frozenset({"suicide", "medical_emergency"})
MEDICAL = frozenset({"medical_emergency"})
OTHERS = frozenset({"harm_to_others"})
OTHERS_SUICIDE = frozenset({"harm_to_others", "suicide"})
ABUSE = frozenset({"abuse"})
