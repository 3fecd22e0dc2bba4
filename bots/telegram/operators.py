"""The operators' side on Telegram: where alerts go (a group of operators, their private chats
with the bot) and how operators' commands, buttons and messages reach the operator desk.

Operators are listed by Telegram user id (``telegram.operator_ids`` and
``telegram.backup_operator_ids``); anyone else who presses a case button or writes a case command is
refused. In an operator's private chat with the bot, a plain message goes to the person of
their latest claimed case; in the operators' group, only commands and buttons are for the bot.
An operator has to have started a private chat with the bot once, or Telegram will not let
the bot write to them there (relays then go nowhere, and the group sees that in the log).
"""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bots.notices import Button, Notice
from bots.telegram.channel import ChatPacer, TelegramChannel

log = logging.getLogger(__name__)


class TelegramOperatorChannel:
    platform = "telegram"

    def __init__(self, bot: Bot, group_id: int | None, pacer: ChatPacer) -> None:
        self.bot = bot
        self.group_id = group_id
        self.pacer = pacer

    def _channel(self, chat_id: int, *, private: bool) -> TelegramChannel:
        return TelegramChannel(self.bot, chat_id, private=private, pacer=self.pacer)

    async def post_alert(self, text: str, buttons: tuple[Button, ...]) -> bool:
        if self.group_id is None:
            return False
        try:
            await self._channel(self.group_id, private=False).notice(Notice(text, buttons))
        except TelegramError as error:
            log.error("could not post an alert to the operators' group: %r", error)
        return True

    async def to_operator(
        self, operator_id: str, text: str, buttons: tuple[Button, ...] = ()
    ) -> bool:
        try:
            await self._channel(int(operator_id), private=True).notice(Notice(text, buttons))
        except Forbidden:
            log.error("operator %s has not started a private chat with the bot", operator_id)
            return False
        except TelegramError as error:
            log.error("could not message operator %s: %r", operator_id, error)
            return False
        return True

    async def to_user(self, platform_user_id: str, text: str) -> None:
        await self._channel(int(platform_user_id), private=True).notice(Notice(text))
