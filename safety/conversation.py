"""A conversation's risk over time: the maximum of its signals, with rules for how it falls.

* Every screened message, the multi-message window and the optional LLM guard add signals.
* Tier 1 and 2 signals fade: a tier 2 signal counts as 2 for ``decay`` and as 1 for another
  ``decay``; a tier 1 signal counts for ``decay``. Someone who said they feel hopeless two
  days ago and talks about exams today should not get crisis lines with every reply.
* Tier 3 and 4 never fade by time or by anything the user says ("jk", "forget it"): they hold
  until an operator resolves the case (``resolve``). C-SSRS treats intent or a plan in the past
  month as high risk; a retraction right after a disclosure is common and is not safety.
* Resolving clears what came before it; a new signal after it counts again in full.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

LATCHED_TIER = 3  # from this tier, only an operator lowers the risk


@dataclass(frozen=True)
class RiskSignal:
    tier: int
    categories: frozenset[str]
    at: datetime
    source: str = "screen"  # "screen", "window", "guard", "operator"


@dataclass
class ConversationRisk:
    decay: timedelta = timedelta(hours=24)
    signals: list[RiskSignal] = field(default_factory=list)
    resolved_at: datetime | None = None

    def add(self, signal: RiskSignal) -> None:
        if signal.tier > 0:
            self.signals.append(signal)
            self._compact()

    def resolve(self, at: datetime) -> None:
        """An operator closed the case: earlier signals, latched ones included, stop counting."""
        self.resolved_at = at
        self.signals = [s for s in self.signals if s.at > at]

    def tier(self, now: datetime) -> int:
        return max((self._effective(s, now) for s in self.signals), default=0)

    def categories(self, now: datetime) -> frozenset[str]:
        """Categories of every signal still counting at the current tier or above 0."""
        live = [s for s in self.signals if self._effective(s, now) > 0]
        return frozenset().union(*(s.categories for s in live))

    @property
    def latched(self) -> bool:
        return any(s.tier >= LATCHED_TIER for s in self.signals)

    def _effective(self, signal: RiskSignal, now: datetime) -> int:
        if signal.tier >= LATCHED_TIER:
            return signal.tier
        age = now - signal.at
        if age < self.decay:
            return signal.tier
        if signal.tier == 2 and age < 2 * self.decay:
            return 1
        return 0

    def _compact(self) -> None:
        """Keep what can still matter: every latched signal and the latest few others."""
        latched = [s for s in self.signals if s.tier >= LATCHED_TIER]
        others = [s for s in self.signals if s.tier < LATCHED_TIER][-20:]
        self.signals = sorted([*latched, *others], key=lambda s: s.at)

    @classmethod
    def from_history(
        cls,
        signals: Iterable[RiskSignal],
        resolved_at: datetime | None,
        decay: timedelta,
    ) -> ConversationRisk:
        risk = cls(decay=decay)
        for signal in sorted(signals, key=lambda s: s.at):
            risk.add(signal)
        if resolved_at is not None:
            risk.resolve(resolved_at)
        return risk
