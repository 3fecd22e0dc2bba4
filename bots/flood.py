"""A per-user flood limit shared by the chat adapters.

Several quick messages are normal for someone in distress, and the conversation service
already merges them into one turn; the limit only stops floods (a stuck key, a script) from
filling the store and the queue. Over the limit, the first rejected message gets one kind
notice and later ones in the same window are dropped quietly, so the bot itself never floods
the chat back.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class FloodVerdict(Enum):
    ACCEPT = "accept"
    REJECT_WITH_NOTICE = "reject_with_notice"
    REJECT_QUIETLY = "reject_quietly"


@dataclass
class _Window:
    arrivals: deque[float] = field(default_factory=deque)
    noticed_at: float | None = None


class FloodGuard:
    def __init__(
        self,
        max_messages: int = 12,
        per_seconds: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_messages < 1 or per_seconds <= 0:
            raise ValueError("the flood limit needs max_messages >= 1 and per_seconds > 0")
        self.max_messages = max_messages
        self.per_seconds = per_seconds
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._swept_at = clock()

    def check(self, key: str) -> FloodVerdict:
        now = self._clock()
        if now - self._swept_at >= self.per_seconds:
            # Once a window: memory follows the people writing now, at a cost spread thinly.
            self._swept_at = now
            self.evict_idle()
        window = self._windows.setdefault(key, _Window())
        while window.arrivals and now - window.arrivals[0] >= self.per_seconds:
            window.arrivals.popleft()
        if len(window.arrivals) < self.max_messages:
            window.arrivals.append(now)
            return FloodVerdict.ACCEPT
        if window.noticed_at is None or now - window.noticed_at >= self.per_seconds:
            window.noticed_at = now
            return FloodVerdict.REJECT_WITH_NOTICE
        return FloodVerdict.REJECT_QUIETLY

    def __len__(self) -> int:
        return len(self._windows)

    def forget(self, key: str) -> None:
        self._windows.pop(key, None)

    def evict_idle(self) -> None:
        """Drop windows with nothing recent, so the guard's memory follows active users."""
        now = self._clock()
        idle = [
            key
            for key, window in self._windows.items()
            if not window.arrivals or now - window.arrivals[-1] >= self.per_seconds
        ]
        for key in idle:
            del self._windows[key]
