"""Updates of different chats handled at the same time, those of one chat in order.

python-telegram-bot handles one update at a time by default: a notice waiting out a 429 or the
per-chat pace in one chat would hold up every other chat's messages. Its own concurrent mode
loses order within a chat (a consent button could be handled before the /start it answers).
This processor keeps a queue per chat instead, and, when several bot processes share a
webhook, sends each update to the process that owns its chat (``bots/telegram/affinity.py``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable
from typing import Any

import redis
from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bots.ordering import ArrivalOrder
from bots.telegram.affinity import ChatAffinity

log = logging.getLogger(__name__)

# A few at a time: enough that chats waiting out a 429 do not stall the rest, few enough that
# a burst of messages is admitted gradually. With 32, turns started together fought over the
# CPU and the p99 overhead of benchmarks/telegram.py tripled (4.3 s -> 12.6 s); 8 measured
# the same as one at a time. Updates waiting for their chat hold a slot too.
MAX_CONCURRENT_UPDATES = 8


class PerChatUpdates(BaseUpdateProcessor):
    def __init__(
        self,
        max_concurrent_updates: int = MAX_CONCURRENT_UPDATES,
        affinity: ChatAffinity | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._chats = ArrivalOrder()
        self.affinity = affinity  # several bot processes: a chat's updates go to its owner

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            await coroutine
            return
        forwarded = self.affinity is not None and isinstance(update, Update)
        if forwarded and await self._forwarded(key, update):  # type: ignore[arg-type]
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # the owner handles it; this process never will
            return
        async with self._chats.hold(key):
            await coroutine

    async def _forwarded(self, chat_id: int, update: Update) -> bool:
        """Send the update to the process that owns its chat, if that is another one."""
        assert self.affinity is not None
        try:
            owner = await self.affinity.owner_elsewhere(chat_id)
            if owner is None:
                return False
            await self.affinity.forward(owner, update.to_dict())
        except redis.RedisError as error:
            # Answering from here risks a second reply; dropping the update loses words.
            log.warning("chat ownership unavailable (%r); answering here", error)
            return False
        return True

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def busy_chats(self) -> int:
        return self._chats.busy


def _chat_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None
