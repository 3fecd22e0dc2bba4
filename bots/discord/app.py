"""The Discord bot: events and slash commands turned into front-desk calls.

* DMs: every message is for the bot, with the same consent and disclosure flow as Telegram.
* Servers: the bot answers when mentioned or replied to, in a thread it opens for that
  message, so a channel is not flooded; once per server it suggests DMs for personal matters.
  In the bot's threads a message needs a mention or a reply to the bot, unless the privileged
  message-content intent is on (``discord.message_content``): without it Discord sends the
  bot no text for other messages.
* Slash commands ``/start /reset /forget /resources /lang /help /human``: deferred at once
  (Discord wants an answer within 3 s, and each touches the store), answered ephemerally.
* Buttons (consent, forget, operators' case buttons) are dynamic items: their action is in the
  custom id, so they work after a restart.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bots.chunking import utf16_length
from bots.discord.channel import (
    DISCORD_LIMIT,
    ActionButton,
    DiscordChannel,
    InteractionReplies,
)
from bots.discord.operators import DiscordOperatorChannel
from bots.flood import FloodGuard
from bots.frontdesk import FrontDesk, Notice, NoticeSender, locale_from_client
from bots.operators.desk import OperatorDesk, Reply
from bots.operators.webhook import WebhookAlerter
from bots.reply_writer import ReplyWriter
from bots.service import ConversationService
from bots.texts import text as say
from soulchat.config import DiscordSettings
from soulchat.store.cases import OUTCOMES

log = logging.getLogger(__name__)

PLATFORM = "discord"
CASE_VERBS = ("list", "claim", "release", "resolve")
THREAD_NAME = "SoulChat"
# Long rate limits surface as discord.RateLimited, so the reply writer decides what waits.
MAX_RATELIMIT_WAIT_S = 10.0


def intents_for(settings: DiscordSettings) -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = settings.message_content  # privileged: off unless asked for
    return intents


class SoulChatDiscord(discord.Client):
    def __init__(self, settings: DiscordSettings, service: ConversationService) -> None:
        # SoulChat never joins voice: no warning about missing voice libraries at each start.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=intents_for(settings),
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT_S,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings
        self.service = service
        self.desk = FrontDesk(
            service, PLATFORM, FloodGuard(settings.flood_messages, settings.flood_window_s)
        )
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self._on_command_error  # type: ignore[method-assign]
        self._hinted_guilds: set[int] = set()
        self._hinted_threads: set[int] = set()
        self.operators: OperatorDesk | None = None
        add_commands(self)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)
        await self.attach_operators()
        if self.settings.command_guild_ids:
            for guild_id in self.settings.command_guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    # -- messages -----------------------------------------------------------------------------
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None or message.author.id == self.user.id:
            return
        try:
            await self._on_message(message)
        except Exception as error:
            # The exception, never the message: it carries the user's words.
            log.error("handling a Discord message failed: %r", error)
            await self._apologise(message.channel, None)

    async def _apologise(self, where: Any, locale: str | None) -> None:
        """Never silence: say it went wrong, with the crisis lines (they need no database or
        model)."""
        chosen = locale or self.service.settings.default_locale
        text = say(chosen, "failed_here") + "\n\n" + self.service.safety.resources_text(chosen)
        try:
            if isinstance(where, discord.Interaction):
                await InteractionReplies(where).notice(Notice(text))
            else:
                await DiscordChannel(where).notice(Notice(text))
        except Exception as error:  # the apology must not fail in turn
            log.error("could not tell the user about the failure: %r", error)

    async def _on_message(self, message: discord.Message) -> None:
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return
        author = message.author
        if isinstance(message.channel, discord.DMChannel):
            if self.operators is not None and self.operators.is_operator(str(author.id)):
                await self._from_operator(message)
                return
            await self._from_user(message, DiscordChannel(message.channel), message.content)
            return
        words = self._addressed_text(message)
        if words is None:
            await self._hint_mention(message)
            return
        if not self._allowed(author.id):
            await DiscordChannel(message.channel, message).notice(Notice(self._refusal()))
            return
        where = await self._thread_for(message)
        await self._guild_hint(message, where)
        # A reply arrow only where the message is: a new thread starts from it already.
        reference = message if where is message.channel else None
        await self._from_user(message, DiscordChannel(where, reference), words)

    async def _from_user(
        self, message: discord.Message, channel: DiscordChannel, words: str
    ) -> None:
        author = message.author
        if not self._allowed(author.id):
            await channel.notice(Notice(self._refusal()))
            return
        user_id = str(author.id)
        if not words.strip() and (message.attachments or message.stickers):
            await self.desk.not_text(user_id, send=channel.notice, client_locale=None)
            return
        writer = ReplyWriter(
            channel,
            limit=DISCORD_LIMIT,
            length=utf16_length,
            min_interval_s=self.settings.edit_interval_s,
        )
        await self.desk.text(
            user_id,
            words,
            send=channel.notice,
            sink=writer,
            message_id=f"{message.channel.id}:{message.id}",
            client_locale=None,
        )

    def _addressed_text(self, message: discord.Message) -> str | None:
        """The text without the bot's mention when a server message is for the bot: it
        mentions the bot, replies to it, or is in a thread the bot opened. Else None."""
        assert self.user is not None
        mentioned = self.user in message.mentions
        reference = message.reference
        replied = reference is not None and isinstance(reference.resolved, discord.Message)
        to_bot = replied and reference.resolved.author.id == self.user.id  # type: ignore[union-attr]
        in_own_thread = (
            isinstance(message.channel, discord.Thread)
            and message.channel.owner_id == self.user.id
            and bool(message.content)
        )
        if not (mentioned or to_bot or in_own_thread):
            return None
        words = message.content
        for form in (f"<@{self.user.id}>", f"<@!{self.user.id}>"):
            words = words.replace(form, " ")
        return words.strip()

    async def _hint_mention(self, message: discord.Message) -> None:
        """In one of the bot's threads, a message Discord sent without its text (no mention,
        no message-content intent) is someone talking to the bot unheard: say so, once."""
        assert self.user is not None
        channel = message.channel
        unheard = (
            isinstance(channel, discord.Thread)
            and channel.owner_id == self.user.id
            and not message.content
            and channel.id not in self._hinted_threads
        )
        if not unheard:
            return
        self._hinted_threads.add(channel.id)
        locale = await self.desk.locale(str(message.author.id), None)
        await DiscordChannel(channel).notice(Notice(say(locale, "mention_needed")))

    async def _thread_for(self, message: discord.Message) -> discord.abc.Messageable:
        """The thread to answer in: the one the message is in, else a new one opened from it
        (where the bot may not open threads, the channel itself)."""
        if isinstance(message.channel, discord.Thread):
            return message.channel
        name = f"{THREAD_NAME} · {message.author.display_name}"[:100]
        try:
            return await message.create_thread(name=name, auto_archive_duration=1440)
        except discord.HTTPException as error:
            log.info("could not open a thread (%s); answering in the channel", error.status)
            return message.channel

    async def _guild_hint(self, message: discord.Message, where: discord.abc.Messageable) -> None:
        guild = message.guild
        if guild is None or guild.id in self._hinted_guilds:
            return
        self._hinted_guilds.add(guild.id)
        locale = await self.desk.locale(str(message.author.id), None)
        await DiscordChannel(where).notice(Notice(say(locale, "group_hint")))

    # -- operators ----------------------------------------------------------------------------
    async def _from_operator(self, message: discord.Message) -> None:
        """An operator's DM: relayed to the person of their latest claimed case."""
        assert self.operators is not None
        reply = await self.operators.operator_message(str(message.author.id), message.content)
        if reply is not None:
            await DiscordChannel(message.channel).notice(Notice(reply.text, reply.buttons))

    async def case_command(self, interaction: discord.Interaction[Any], words: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        replies = InteractionReplies(interaction)
        if self.operators is None:
            await replies.notice(Notice("No operator desk is configured for Discord."))
            return
        reply: Reply = await self.operators.command(str(interaction.user.id), words)
        await replies.notice(Notice(reply.text, reply.buttons))

    async def attach_operators(self) -> OperatorDesk | None:
        """Start the operator desk when Discord operators are configured."""
        settings = self.service.settings.operators
        if not settings.enabled_for(PLATFORM) or self.operators is not None:
            return self.operators
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        webhook = (
            WebhookAlerter(settings.webhook_url, secret=secret) if settings.webhook_url else None
        )
        channel = DiscordOperatorChannel(self, settings.discord_channel_id)
        self.operators = OperatorDesk(settings, self.service, channel, webhook)
        self.service.attach_operators(self.operators)
        await self.operators.start()
        return self.operators

    async def close(self) -> None:
        if self.operators is not None:
            await self.operators.stop()
            if isinstance(self.operators.webhook, WebhookAlerter):
                await self.operators.webhook.aclose()
            self.operators = None
        await super().close()

    # -- buttons ------------------------------------------------------------------------------
    async def on_action(self, interaction: discord.Interaction[Any], action: str) -> None:
        """A button press: acknowledged at once, answered by follow-ups."""
        await interaction.response.defer(ephemeral=interaction.guild is not None, thinking=False)
        user = interaction.user
        send = self._interaction_sender(interaction)
        if action.startswith("case:"):
            reply = None
            if self.operators is not None:
                reply = await self.operators.button(str(user.id), action)
            if reply is not None:
                await send(Notice(reply.text, reply.buttons))
            return
        if not self._allowed(user.id):
            return
        await self.desk.action(
            str(user.id), action, send=send, client_locale=_client_locale(interaction)
        )

    def _interaction_sender(self, interaction: discord.Interaction[Any]) -> NoticeSender:
        """In a DM, notices are ordinary messages; in a server, only the person sees them."""
        if interaction.guild is None and interaction.channel is not None:
            return DiscordChannel(interaction.channel).notice  # type: ignore[arg-type]
        return InteractionReplies(interaction).notice

    # -- slash commands -----------------------------------------------------------------------
    async def slash(self, interaction: discord.Interaction[Any], words: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        if not self._allowed(interaction.user.id):
            await InteractionReplies(interaction).notice(Notice(self._refusal()))
            return
        await self.desk.command(
            str(interaction.user.id),
            words,
            send=InteractionReplies(interaction).notice,
            client_locale=_client_locale(interaction),
        )

    async def _on_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        log.error("a Discord slash command failed: %r", error)
        if not interaction.response.is_done():
            await interaction.response.defer(ephemeral=True, thinking=True)
        await self._apologise(interaction, _client_locale(interaction))

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        # The event's name, never its arguments: they carry the user's words.
        log.exception("handling the Discord event %s failed", event_method)

    # -- helpers ------------------------------------------------------------------------------
    def _allowed(self, user_id: int) -> bool:
        allowed = self.settings.allowed_user_ids
        return not allowed or user_id in allowed

    def _refusal(self) -> str:
        return (
            "Sorry, this bot is only open to invited users for now. "
            "抱歉，这个机器人目前只对受邀用户开放。"
        )


def _client_locale(interaction: discord.Interaction[Any]) -> str | None:
    return locale_from_client(str(interaction.locale.value)) if interaction.locale else None


def add_commands(bot: SoulChatDiscord) -> None:
    """The user's slash commands, each a thin call into the front desk."""
    tree = bot.tree

    @tree.command(name="start", description="Start, or see the consent question again")
    async def start(interaction: discord.Interaction[Any]) -> None:
        await bot.slash(interaction, "/start")

    @tree.command(name="reset", description="Start a new conversation")
    async def reset(interaction: discord.Interaction[Any]) -> None:
        await bot.slash(interaction, "/reset")

    @tree.command(name="forget", description="Delete everything stored about you")
    async def forget(interaction: discord.Interaction[Any]) -> None:
        await bot.slash(interaction, "/forget")

    @tree.command(name="resources", description="Crisis lines you can call or text now")
    async def resources(interaction: discord.Interaction[Any]) -> None:
        await bot.slash(interaction, "/resources")

    @tree.command(name="help", description="What SoulChat is and how to use it")
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await bot.slash(interaction, "/help")

    @tree.command(name="human", description="Ask for a human volunteer")
    async def human(interaction: discord.Interaction[Any]) -> None:
        await bot.slash(interaction, "/human")

    @tree.command(name="lang", description="Change the language: en or zh")
    @app_commands.describe(language="en (English) or zh (中文)")
    @app_commands.choices(
        language=[
            app_commands.Choice(name="English", value="en"),
            app_commands.Choice(name="中文", value="zh"),
        ]
    )
    async def lang(interaction: discord.Interaction[Any], language: str) -> None:
        await bot.slash(interaction, f"/lang {language}")

    @tree.command(name="case", description="Operators only: list, claim, release or resolve")
    @app_commands.describe(
        action="What to do", number="The case number", outcome="How it ended (resolve)"
    )
    @app_commands.choices(
        action=[app_commands.Choice(name=verb, value=verb) for verb in CASE_VERBS],
        outcome=[app_commands.Choice(name=code, value=code) for code in OUTCOMES],
    )
    async def case(
        interaction: discord.Interaction[Any],
        action: str,
        number: int | None = None,
        outcome: str | None = None,
    ) -> None:
        verb = "/cases" if action == "list" else f"/{action}"
        words = " ".join(str(part) for part in (verb, number, outcome) if part is not None)
        await bot.case_command(interaction, words)
