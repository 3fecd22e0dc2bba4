"""Showing a streamed reply in a chat whose platform limits how often a bot may write.

``ReplyWriter`` is the ``ReplySink`` of one conversation turn on a chat platform. The adapter
supplies a ``ChatChannel`` (send, edit, draft, typing) and translates its platform's errors
into ``RateLimited`` and ``NotModified``. The writer:

* shows progress by editing one message (or updating a draft, where the platform has drafts)
  at most once per ``min_interval_s``; a progress update that hits a rate limit is skipped,
  because a newer one will follow;
* delivers the final text always: it waits out every ``RateLimited`` (up to ``give_up_s``),
  splits text over the platform's limit at sentence boundaries, and puts the first part in the
  progress message so the user is not left with a half-reply above the full one;
* sends notices (slow model, the reply was replaced) as their own messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Protocol

from bots.chunking import Length, split_message, utf16_length

log = logging.getLogger(__name__)

PREVIEW_SUFFIX = " …"


class RateLimited(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"rate limited for {retry_after_s}s")
        self.retry_after_s = retry_after_s


class NotModified(Exception):
    """The edit would not change the message (the platform refuses such edits)."""


class ChatChannel(Protocol):
    async def send(self, text: str) -> str:
        """Send a new message; return its id."""

    async def edit(self, message_id: str, text: str) -> None: ...

    async def draft(self, text: str) -> bool:
        """Show ``text`` as a draft being typed; False where the chat has no drafts."""

    async def typing(self) -> None: ...


class ReplyWriter:
    def __init__(
        self,
        channel: ChatChannel,
        *,
        limit: int,
        length: Length = utf16_length,
        min_interval_s: float = 1.0,
        give_up_s: float = 300.0,
    ) -> None:
        self.channel = channel
        self.limit = limit
        self.length = length
        self.min_interval_s = min_interval_s
        self.give_up_s = give_up_s
        self._progress_id: str | None = None
        # No preview in the first interval: a quick reply arrives as one message, not as a
        # preview and an edit a second later.
        self._last_update = time.monotonic()
        self._drafts = True

    async def notice(self, text: str) -> None:
        for part in split_message(text, self.limit, self.length):
            await self._deliver(partial(self.channel.send, part))

    async def typing(self) -> None:
        with contextlib.suppress(RateLimited):  # only a courtesy
            await self.channel.typing()

    async def reply_progress(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last_update < self.min_interval_s:
            return
        self._last_update = now
        preview = self._preview(text)
        try:
            if self._drafts and await self.channel.draft(preview):
                return
            self._drafts = False
            if self._progress_id is None:
                self._progress_id = await self.channel.send(preview)
            else:
                await self.channel.edit(self._progress_id, preview)
        except (RateLimited, NotModified):
            pass  # a newer update follows, and the final text is always delivered

    async def reply_restarted(self) -> None:
        self._last_update = 0.0  # the next progress shows at once, over the void text

    async def reply_final(self, text: str, *, replaced: bool) -> None:
        parts = split_message(text, self.limit, self.length) or ["…"]
        first, rest = parts[0], parts[1:]
        if self._progress_id is not None:
            await self._deliver(partial(self.channel.edit, self._progress_id, first))
        else:
            await self._deliver(partial(self.channel.send, first))
        for part in rest:
            await self._deliver(partial(self.channel.send, part))
        self._progress_id = None

    def _preview(self, text: str) -> str:
        if self.length(text) + len(PREVIEW_SUFFIX) <= self.limit:
            return text + PREVIEW_SUFFIX
        head = split_message(text, self.limit - len(PREVIEW_SUFFIX) - 1, self.length)[0]
        return head + PREVIEW_SUFFIX

    async def _deliver(self, call: Callable[[], Awaitable[object]]) -> None:
        """Run a send/edit until it goes through, waiting out rate limits."""
        deadline = time.monotonic() + self.give_up_s
        while True:
            try:
                await call()
                return
            except NotModified:
                return  # already showing exactly this
            except RateLimited as limited:
                if time.monotonic() + limited.retry_after_s > deadline:
                    log.warning("gave up delivering a message after rate limits")
                    raise
                await asyncio.sleep(limited.retry_after_s)
