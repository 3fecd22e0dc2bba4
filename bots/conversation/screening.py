"""The safety screen off the event loop, with a bounded backlog.

The semantic layer costs tens of milliseconds of CPU a message, so it runs on a thread of its
own (one: the encoder already spreads one text over every core). When ``SCREEN_BACKLOG``
messages already wait for it, a new one gets the fast layers alone, at once: under a flood, a
bounded delay with the screen that served before the semantic layer beats an unbounded queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from safety import SafetyPolicy
from safety.screen import RiskAssessment

log = logging.getLogger(__name__)

# At 40-60 ms a message, about half a second at most: small beside a reply that takes seconds,
# and enough for a burst of a dozen people writing at once (benchmarks/discord.py).
SCREEN_BACKLOG = 12
SHED_WARNING_EVERY_S = 60.0


class Screener:
    def __init__(self, safety: SafetyPolicy, backlog: int = SCREEN_BACKLOG) -> None:
        self.safety = safety
        self.backlog = backlog
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="soulchat-screen")
        self._waiting = 0
        self._warned_at = -3600.0
        self.shed = 0  # messages screened without the semantic layer (overload)

    async def screen(self, messages: Sequence[str]) -> RiskAssessment:
        """The screen on a person's latest messages (the last one is the new one)."""
        if not self.safety.has_semantic_layer:
            return self.safety.screen_conversation(messages)
        if self._waiting >= self.backlog:
            self._count_shed()
            return self.safety.screen_conversation(messages, semantic=False)
        self._waiting += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._thread, self.safety.screen_conversation, list(messages)
            )
        finally:
            self._waiting -= 1

    def _count_shed(self) -> None:
        self.shed += 1
        now = time.monotonic()
        if now - self._warned_at > SHED_WARNING_EVERY_S:
            self._warned_at = now
            log.warning(
                "screening backlog: %d messages screened without the semantic layer so far; "
                "this process takes more messages than one core can encode",
                self.shed,
            )

    def shutdown(self) -> None:
        self._thread.shutdown(wait=True)
