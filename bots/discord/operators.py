"""The operators' side on Discord: alerts in an operators' channel, operators' DMs with the
bot, and the ``/case`` command.

Operators are listed by Discord user id (``discord.operator_ids`` and
``discord.backup_operator_ids``); anyone else who presses a case button or runs ``/case`` is
refused.
In an operator's DM with the bot, a plain message goes to the person of their latest claimed
case. In the operators' channel the bot reads nothing (it needs no message-content intent
there): operators act with the buttons on each alert and with ``/case``.
"""

from __future__ import annotations

import logging

import discord

from bots.discord.channel import DiscordChannel
from bots.notices import Button, Notice

log = logging.getLogger(__name__)


class DiscordOperatorChannel:
    platform = "discord"

    def __init__(self, client: discord.Client, channel_id: int | None) -> None:
        self.client = client
        self.channel_id = channel_id

    async def post_alert(self, text: str, buttons: tuple[Button, ...]) -> bool:
        if self.channel_id is None:
            return False
        try:
            channel = self.client.get_channel(self.channel_id) or await self.client.fetch_channel(
                self.channel_id
            )
            if not isinstance(channel, discord.abc.Messageable):
                log.error("discord.operators_chat_id %s is not a text channel", self.channel_id)
                return False
            await DiscordChannel(channel).notice(Notice(text, buttons))
        except discord.HTTPException as error:
            log.error("could not post an alert to the operators' channel: %r", error)
        return True

    async def to_operator(
        self, operator_id: str, text: str, buttons: tuple[Button, ...] = ()
    ) -> bool:
        try:
            await (await self._dm(operator_id)).notice(Notice(text, buttons))
        except discord.Forbidden:
            log.error("operator %s does not accept DMs from the bot", operator_id)
            return False
        except discord.HTTPException as error:
            log.error("could not message operator %s: %r", operator_id, error)
            return False
        return True

    async def to_user(self, platform_user_id: str, text: str) -> None:
        await (await self._dm(platform_user_id)).notice(Notice(text))

    async def _dm(self, user_id: str) -> DiscordChannel:
        user = self.client.get_user(int(user_id)) or await self.client.fetch_user(int(user_id))
        channel = user.dm_channel or await user.create_dm()
        return DiscordChannel(channel)
