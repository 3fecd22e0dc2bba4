"""Messages of one chat handled in the order they arrived, different chats at the same time.

Platform libraries hand each event to a task of its own (discord.py always; Telegram's
``PerChatUpdates`` when updates run concurrently). Two quick messages from one person would
then race through the awaits before they are stored, and could be stored, screened and
answered in the wrong order. ``ArrivalOrder.hold(key)`` is a FIFO lock per key; taken before
the first ``await``, it keeps a chat's events in arrival order. A key's lock exists only while
someone holds or waits for it, so memory follows the chats that are busy now, not every chat
ever seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class _Queue:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()  # FIFO: waiters get it in the order they asked
        self.users = 0


class ArrivalOrder:
    def __init__(self) -> None:
        self._queues: dict[Hashable, _Queue] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        queue = self._queues.setdefault(key, _Queue())
        queue.users += 1
        try:
            async with queue.lock:
                yield
        finally:
            queue.users -= 1
            if queue.users == 0:
                del self._queues[key]

    @property
    def busy(self) -> int:
        """Keys held or waited for now."""
        return len(self._queues)
