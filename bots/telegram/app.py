"""The Telegram bot: handlers that turn updates into front-desk calls, and the two ways to
receive updates (long polling; a webhook with Telegram's secret-token header checked).

Handlers are small and do one thing each. Private chats: every text is for the bot. Groups:
the bot answers only when mentioned or replied to, and adds once per group that a private chat
is safer for personal matters. Edited messages are taken as a new message (the person
corrected themselves, and the new words deserve an answer); channel posts are ignored.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bots import commands
from bots.notices import Notice
from bots.operators.desk import OperatorDesk, Reply
from bots.recent import RecentKeys
from bots.reply_writer import ReplyWriter
from bots.runtime import Runtime, stop_operator_desk
from bots.telegram.affinity import ChatAffinity
from bots.telegram.channel import ChatPacer, TelegramChannel
from bots.telegram.operators import TelegramOperatorChannel
from bots.telegram.updates import PerChatUpdates
from bots.texts import text as say
from soulchat.config import TelegramSettings
from soulchat.locales import CODES, FALLBACK, from_client_tag

log = logging.getLogger(__name__)

PLATFORM = "telegram"
TELEGRAM_LIMIT = 4096
NOT_TEXT = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.Document.ALL
    | filters.LOCATION
    | filters.CONTACT
)


class TelegramBot:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings: TelegramSettings = runtime.settings.telegram
        self.desk = runtime.front_desk(PLATFORM)
        self._hinted_groups = RecentKeys()
        self.pacer = ChatPacer()
        self.operators: OperatorDesk | None = None

    def build(
        self, token: str, affinity: ChatAffinity | None = None
    ) -> Application[Any, Any, Any, Any, Any, Any]:
        updates = PerChatUpdates(affinity=affinity)
        builder = ApplicationBuilder().token(token).concurrent_updates(updates)
        if self.settings.base_url:
            builder = builder.base_url(self.settings.base_url)
        application = builder.build()
        private_or_group = ~filters.UpdateType.CHANNEL_POSTS
        application.add_handler(MessageHandler(filters.TEXT & private_or_group, self.on_text))
        application.add_handler(MessageHandler(NOT_TEXT & private_or_group, self.on_not_text))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_error_handler(self.on_error)
        return application

    # -- handlers ---------------------------------------------------------------------------
    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        chat = update.effective_chat
        if message is None or user is None or chat is None or message.text is None:
            return
        private = chat.type == ChatType.PRIVATE
        words = message.text
        if self._for_operators(user.id, chat.id, private):
            await self._operator_text(context, chat.id, private, str(user.id), words)
            return
        if not private:
            addressed = self._addressed_text(message, context.bot.username)
            if addressed is None:
                return
            words = addressed
        channel = TelegramChannel(
            context.bot,
            chat.id,
            private=private,
            pacer=self.pacer,
            reply_to=None if private else message.message_id,
        )
        if not self.desk.may_talk(user.id):
            await channel.notice(Notice(self.desk.refusal(user.language_code)))
            return
        if not private and self._hinted_groups.first_time(chat.id):
            locale = await self.desk.locale(str(user.id), user.language_code)
            await channel.notice(Notice(say(locale, "group_hint")))
        message_id = str(message.message_id)
        if update.edited_message is not None and message.edit_date is not None:
            message_id += f"-edited-{int(message.edit_date.timestamp())}"
        writer = ReplyWriter(
            channel, limit=TELEGRAM_LIMIT, min_interval_s=self.settings.edit_interval_s
        )
        await self.desk.text(
            str(user.id),
            words,
            send=channel.notice,
            sink=writer,
            message_id=f"{chat.id}:{message_id}",
            client_locale=user.language_code,
        )

    async def on_not_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or chat.type != ChatType.PRIVATE:
            return  # in groups, pictures are for the people there
        channel = TelegramChannel(context.bot, chat.id, private=True, pacer=self.pacer)
        await self.desk.not_text(
            str(user.id), send=channel.notice, client_locale=user.language_code
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        user = update.effective_user
        chat = update.effective_chat
        if query is None or user is None:
            return
        await query.answer()  # stops the button's spinner
        data = query.data or ""
        if chat is not None and self.operators is not None and data.startswith("case:"):
            reply = await self.operators.button(str(user.id), data)
            if reply is not None:
                await self._answer_operator(context, chat.id, chat.type == ChatType.PRIVATE, reply)
            return
        if chat is None or not self.desk.may_talk(user.id):
            return
        private = chat.type == ChatType.PRIVATE
        channel = TelegramChannel(context.bot, chat.id, private=private, pacer=self.pacer)
        await self.desk.action(
            str(user.id), query.data or "", send=channel.notice, client_locale=user.language_code
        )

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # The exception, never the update: an update carries the user's words.
        log.error("handling a Telegram update failed: %r", context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        if update.effective_user is None or update.effective_user.is_bot:
            return
        # Never silence: say so, with the crisis lines (they need no database or model).
        user, chat = update.effective_user, update.effective_chat
        text = self.desk.apology(from_client_tag(user.language_code), user.language_code)
        message = update.effective_message
        private = chat.type == ChatType.PRIVATE
        channel = TelegramChannel(
            context.bot,
            chat.id,
            private=private,
            pacer=self.pacer,
            reply_to=None if private or message is None else message.message_id,
        )
        try:
            await channel.notice(Notice(text))
        except Exception as error:  # the error handler must not fail in turn
            log.error("could not tell the user about the failure: %r", error)

    # -- operators --------------------------------------------------------------------------
    def _for_operators(self, user_id: int, chat_id: int, private: bool) -> bool:
        """Messages in the operators' group, and operators' private messages, go to the
        operator desk rather than the companion."""
        if self.operators is None:
            return False
        group = self.settings.operators_chat_id
        return chat_id == group or (private and self.operators.is_operator(str(user_id)))

    async def _operator_text(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        private: bool,
        operator_id: str,
        words: str,
    ) -> None:
        assert self.operators is not None
        if words.startswith("/"):
            reply: Reply | None = await self.operators.command(operator_id, words)
        elif private:
            reply = await self.operators.operator_message(operator_id, words)
        else:
            return  # operators talking among themselves in their group
        if reply is not None:
            await self._answer_operator(context, chat_id, private, reply)

    async def _answer_operator(
        self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, private: bool, reply: Reply
    ) -> None:
        channel = TelegramChannel(context.bot, chat_id, private=private, pacer=self.pacer)
        await channel.notice(Notice(reply.text, reply.buttons))

    async def attach_operators(self, bot: object) -> OperatorDesk | None:
        """Start the operator desk when this platform has operators."""
        channel = TelegramOperatorChannel(bot, self.settings.operators_chat_id, self.pacer)  # type: ignore[arg-type]
        self.operators = await self.runtime.start_operator_desk(channel)
        return self.operators

    async def detach_operators(self) -> None:
        await stop_operator_desk(self.operators)

    async def publish_commands(self, bot: Any) -> None:
        """Telegram's command menu, from the command table, in every language."""
        for code in CODES:
            menu = [BotCommand(c.name, c.summary(code)) for c in commands.on(commands.CHAT)]
            try:
                await bot.set_my_commands(menu, language_code=None if code == FALLBACK else code)
            except TelegramError as error:  # a menu is a convenience; the bot works without
                log.warning("could not publish the command menu (%s): %r", code, error)

    # -- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _addressed_text(message: Any, username: str) -> str | None:
        """The text without the mention when the bot is mentioned or replied to; else None."""
        text: str = message.text
        mention = f"@{username}"
        replied = message.reply_to_message
        author = replied.from_user if replied is not None else None
        if author is not None and author.is_bot and author.username == username:
            return text.replace(mention, "").strip() or text
        if mention.lower() in text.lower():
            start = text.lower().index(mention.lower())
            return (text[:start] + text[start + len(mention) :]).strip()
        if text.startswith("/") and text.split()[0].lower().endswith(mention.lower()):
            return text
        return None


async def run(runtime: Runtime, token: str, stop: asyncio.Event) -> None:
    """Receive updates until ``stop`` is set."""
    settings = runtime.settings.telegram
    bot = TelegramBot(runtime)
    affinity = _affinity(settings, runtime.settings.queue.reply_url)
    application = bot.build(token, affinity)
    async with application:
        if affinity is not None:
            await affinity.start(partial(_enqueue, application))
        await bot.attach_operators(application.bot)
        await bot.publish_commands(application.bot)
        await application.start()
        updater = application.updater
        assert updater is not None
        try:
            if settings.mode == "webhook":
                secret = settings.webhook_secret
                await updater.start_webhook(
                    listen=settings.listen,
                    port=settings.port,
                    webhook_url=settings.webhook_url,
                    secret_token=secret.get_secret_value() if secret else None,
                    allowed_updates=Update.ALL_TYPES,
                )
            else:
                await updater.start_polling(allowed_updates=Update.ALL_TYPES)
            await stop.wait()
        finally:  # also when cancelled: an application left running cannot shut down
            if updater.running:
                await updater.stop()
            if application.running:
                await application.stop()
            if affinity is not None:
                await affinity.stop()
            await bot.detach_operators()


def _affinity(settings: TelegramSettings, url: str) -> ChatAffinity | None:
    """Chat ownership through Redis in webhook mode, where several processes may share the
    webhook; long polling has exactly one receiver and needs none."""
    if settings.mode != "webhook":
        return None
    if not url.startswith(("redis://", "rediss://")):
        log.warning("webhook mode without Redis: run only one bot process for this token")
        return None
    return ChatAffinity(url)


async def _enqueue(application: Application[Any, Any, Any, Any, Any, Any], data: Any) -> None:
    """A forwarded update, handled as if Telegram had sent it here."""
    update = Update.de_json(data, application.bot)
    if update is not None:
        await application.update_queue.put(update)
