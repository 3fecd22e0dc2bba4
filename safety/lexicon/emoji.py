"""Language-neutral emoji rules: a pill emoji is among the strongest signals there is."""

from __future__ import annotations

from safety.rules import Rule

RULES: list[Rule] = [
    # Several pills in a row reads as an overdose, not as "time for my meds 💊".
    Rule("emoji.pill_run", r"(?:💊 ?){3}", 2, frozenset({"suicide"})),
    Rule("emoji.means", r"💊|🔪|🔫|🪢|🩸|⚰|🪦", role="means"),
]
