"""One Discord channel (a DM, a thread, a text channel) as a ``ChatChannel`` and a
``NoticeSender``: plain messages that can never ping anyone, buttons as persistent dynamic
items, and discord.py's errors mapped to the reply writer's ``RateLimited``.

discord.py already waits out Discord's rate limits inside its HTTP client; the client is built
with ``max_ratelimit_timeout`` so that a long one surfaces as ``discord.RateLimited`` instead,
and the reply writer decides (skip a progress edit, wait for the final text).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import discord

from bots.chunking import split_message, utf16_length
from bots.notices import Button, Notice
from bots.reply_writer import RateLimited

log = logging.getLogger(__name__)

_T = TypeVar("_T")
DISCORD_LIMIT = 2000
NETWORK_RETRY_S = 1.0
NOTICE_ATTEMPTS = 10
# Nothing the bot writes may ping: model text and relayed user text can hold @everyone.
NO_MENTIONS = discord.AllowedMentions.none()
ACTION_PREFIX = "sc:"


async def translated(call: Callable[[], Awaitable[_T]]) -> _T:
    try:
        return await call()
    except discord.RateLimited as error:
        raise RateLimited(error.retry_after) from None
    except (TimeoutError, aiohttp.ClientError):
        raise RateLimited(NETWORK_RETRY_S) from None
    except discord.HTTPException as error:
        # discord.py retries 5xx and short 429s itself; what still comes out is waited out
        # here too, because the final text must arrive.
        if error.status == 429 or error.status >= 500:
            raise RateLimited(NETWORK_RETRY_S) from None
        raise


class ActionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"sc:(?P<action>[a-z]+:[A-Za-z0-9_:]+)",
):
    """A front-desk or operator button. Its action lives in the custom id, so a button in an
    old message still works after the bot restarts."""

    def __init__(self, action: str, label: str = "…") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                custom_id=f"{ACTION_PREFIX}{action}",
                style=discord.ButtonStyle.secondary,
            )
        )
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: Any,
    ) -> ActionButton:
        return cls(str(match["action"]), getattr(item, "label", None) or "…")

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        handler = getattr(interaction.client, "on_action", None)
        if handler is not None:
            await handler(interaction, self.action)


def button_view(buttons: tuple[Button, ...]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(ActionButton(button.action, button.label))
    return view


class DiscordChannel:
    """Where one turn's reply and notices go. ``reference``: the user's message, which the
    first message of a reply in a server answers (so the thread reads as a conversation)."""

    def __init__(
        self, channel: discord.abc.Messageable, reference: discord.Message | None = None
    ) -> None:
        self.channel = channel
        self.reference = reference

    async def send(self, text: str) -> str:
        message = await translated(lambda: self._send(text, None))
        return str(message.id)

    async def _send(self, text: str, view: discord.ui.View | None) -> discord.Message:
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if view is not None:
            kwargs["view"] = view
        if self.reference is not None:
            kwargs["reference"] = self.reference
            kwargs["mention_author"] = False
            self.reference = None  # one reply arrow per turn is enough
        return await self.channel.send(text, **kwargs)

    async def edit(self, message_id: str, text: str) -> None:
        partial = self._partial(int(message_id))
        await translated(lambda: partial.edit(content=text, allowed_mentions=NO_MENTIONS))

    def _partial(self, message_id: int) -> discord.PartialMessage:
        getter = getattr(self.channel, "get_partial_message", None)
        if getter is None:
            raise TypeError(f"cannot edit messages in {type(self.channel).__name__}")
        partial: discord.PartialMessage = getter(message_id)
        return partial

    async def draft(self, text: str) -> bool:
        return False  # Discord has no drafts: progress is shown by editing one message

    async def typing(self) -> None:
        await translated(self.channel.typing)  # one "typing…" of about ten seconds

    async def notice(self, notice: Notice) -> None:
        """A front-desk notice, split under Discord's limit, its buttons on the last part."""
        parts = split_message(notice.text, DISCORD_LIMIT, utf16_length) or ["…"]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            view = button_view(notice.buttons) if last and notice.buttons else None
            await self._deliver(part, view)

    async def _deliver(self, text: str, view: discord.ui.View | None) -> None:
        for _ in range(NOTICE_ATTEMPTS):
            try:
                await translated(lambda: self._send(text, view))
                return
            except RateLimited as limited:
                await asyncio.sleep(limited.retry_after_s)
        log.error("gave up sending a notice after %d attempts", NOTICE_ATTEMPTS)


class InteractionReplies:
    """Notices answering a slash command or a button: ephemeral follow-ups, seen only by the
    person who asked. The interaction must have been deferred first."""

    def __init__(self, interaction: discord.Interaction[Any], *, ephemeral: bool = True) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral

    async def notice(self, notice: Notice) -> None:
        parts = split_message(notice.text, DISCORD_LIMIT, utf16_length) or ["…"]
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            kwargs: dict[str, Any] = {
                "ephemeral": self.ephemeral,
                "allowed_mentions": NO_MENTIONS,
            }
            if last and notice.buttons:
                kwargs["view"] = button_view(notice.buttons)
            await self.interaction.followup.send(part, **kwargs)
