"""What an alert about a case carries, for every place alerts go (an operator chat, a
webhook for paging systems). Only what an operator needs to act: tier, categories, locale,
how long ago, and a minimal excerpt; never the user's platform id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

AlertEvent = Literal["alert", "paged", "claimed", "released", "resolved", "human_requested"]


@dataclass(frozen=True)
class Alert:
    case_id: int
    event: AlertEvent
    tier: int
    categories: tuple[str, ...]
    locale: str
    platform: str
    opened_at: datetime
    excerpt: str = ""
    operator: str | None = None  # "telegram:1234" for claimed / released / resolved
    outcome: str | None = None  # for resolved

    def age_s(self, now: datetime) -> int:
        return max(0, int((now - self.opened_at).total_seconds()))


class AlertSink(Protocol):
    async def send(self, alert: Alert) -> bool:
        """Deliver the alert; False when it could not be delivered (already logged)."""
