"""One Telegram chat as a ``ChatChannel``: plain text only (no parse mode, so a reply can never
fail with "can't parse entities"), drafts in private chats, and Telegram's errors mapped to the
reply writer's ``RateLimited`` and ``NotModified``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ChatAction
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bots.chunking import split_message
from bots.notices import Notice
from bots.reply_writer import NotModified, RateLimited

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_draft_ids = itertools.count(1)
# A network hiccup is retried like a rate limit, after a short pause.
NETWORK_RETRY_S = 1.0
NOTICE_ATTEMPTS = 10


def retry_seconds(error: RetryAfter) -> float:
    # PTB 22 warns that the attribute will become a timedelta; both are handled here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return float(value)


async def translated(call: Callable[[], Awaitable[_T]]) -> _T:
    try:
        return await call()
    except RetryAfter as error:
        raise RateLimited(retry_seconds(error)) from None
    except BadRequest as error:
        if "not modified" in error.message.lower():
            raise NotModified() from None
        raise
    except (TimedOut, NetworkError):
        raise RateLimited(NETWORK_RETRY_S) from None


# Telegram allows about one message a second in a chat and twenty a minute in a group;
# edits count. Staying under it avoids 429s rather than waiting them out.
PRIVATE_INTERVAL_S = 1.0
GROUP_INTERVAL_S = 3.0


class _Pace:
    __slots__ = ("lock", "next_at", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.next_at = 0.0  # loop time before which this chat gets nothing more
        self.users = 0  # turns holding or waiting for the lock


class ChatPacer:
    """Spaces a bot's messages and edits per chat, across all the turns writing to it. The
    interval runs from when Telegram answered the previous call, so calls can never arrive
    closer together than the interval, however the network delays them. A chat is forgotten
    once its interval has passed and nobody waits for it, so memory follows the chats being
    written to now."""

    def __init__(self, private_s: float = PRIVATE_INTERVAL_S, group_s: float = GROUP_INTERVAL_S):
        self.private_s = private_s
        self.group_s = group_s
        self._chats: dict[int, _Pace] = {}
        self._swept_at = 0.0

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int, *, private: bool) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        self._sweep(loop.time())
        pace = self._chats.setdefault(chat_id, _Pace())
        pace.users += 1
        try:
            async with pace.lock:
                delay = pace.next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    yield
                finally:
                    interval = self.private_s if private else self.group_s
                    pace.next_at = loop.time() + interval
        finally:
            pace.users -= 1

    def _sweep(self, now: float) -> None:
        """At most once per group interval: a cost spread thinly over many calls."""
        if now - self._swept_at < self.group_s:
            return
        self._swept_at = now
        done = [c for c, pace in self._chats.items() if not pace.users and pace.next_at <= now]
        for chat_id in done:
            del self._chats[chat_id]

    def __len__(self) -> int:
        return len(self._chats)


class TelegramChannel:
    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        *,
        private: bool,
        pacer: ChatPacer,
        reply_to: int | None = None,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.private = private
        self.pacer = pacer
        self.reply_to = reply_to  # in groups, replies thread under the message they answer
        self._draft_id = next(_draft_ids)

    async def send(self, text: str) -> str:
        async with self.pacer.turn(self.chat_id, private=self.private):
            message = await translated(
                lambda: self.bot.send_message(self.chat_id, text, reply_to_message_id=self.reply_to)
            )
        return str(message.message_id)

    async def edit(self, message_id: str, text: str) -> None:
        async with self.pacer.turn(self.chat_id, private=self.private):
            await translated(
                lambda: self.bot.edit_message_text(
                    text, chat_id=self.chat_id, message_id=int(message_id)
                )
            )

    async def draft(self, text: str) -> bool:
        if not self.private:
            return False
        try:
            await translated(
                lambda: self.bot.send_message_draft(self.chat_id, self._draft_id, text)
            )
        except BadRequest:
            log.info("drafts refused in a private chat; falling back to edits")
            return False
        return True

    async def typing(self) -> None:
        await translated(lambda: self.bot.send_chat_action(self.chat_id, ChatAction.TYPING))

    async def notice(self, notice: Notice) -> None:
        """A front-desk notice, with its buttons as an inline keyboard."""
        markup = None
        if notice.buttons:
            row = [InlineKeyboardButton(b.label, callback_data=b.action) for b in notice.buttons]
            markup = InlineKeyboardMarkup([row])
        parts = split_message(notice.text)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await self._deliver_notice(part, markup if last else None)

    async def _deliver_notice(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        for _ in range(NOTICE_ATTEMPTS):
            try:
                async with self.pacer.turn(self.chat_id, private=self.private):
                    await translated(
                        lambda: self.bot.send_message(
                            self.chat_id,
                            text,
                            reply_markup=markup,
                            reply_to_message_id=self.reply_to,
                        )
                    )
                return
            except RateLimited as limited:
                await asyncio.sleep(limited.retry_after_s)
