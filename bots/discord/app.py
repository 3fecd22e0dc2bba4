"""The Discord bot: events and slash commands turned into front-desk calls.

* DMs: every message is for the bot, with the same consent and disclosure flow as Telegram.
* Servers: the bot answers when mentioned or replied to, in a thread it opens for that
  message, so a channel is not flooded; once per server it suggests DMs for personal matters.
  In the bot's threads a message needs a mention or a reply to the bot, unless the privileged
  message-content intent is on (``discord.message_content``): without it Discord sends the
  bot no text for other messages.
* Slash commands, made from the command table (``bots/commands.py``): deferred at once
  (Discord wants an answer within 3 s, and each touches the store), answered ephemerally.
* Buttons (consent, forget, operators' case buttons) are dynamic items: their action is in the
  custom id, so they work after a restart.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bots import commands
from bots.chunking import utf16_length
from bots.discord.channel import (
    DISCORD_LIMIT,
    ActionButton,
    DiscordChannel,
    InteractionReplies,
)
from bots.discord.operators import DiscordOperatorChannel
from bots.notices import Notice, NoticeSender
from bots.operators.desk import OperatorDesk, Reply
from bots.ordering import ArrivalOrder
from bots.recent import RecentKeys
from bots.reply_writer import ReplyWriter
from bots.runtime import Runtime, stop_operator_desk
from bots.texts import text as say
from soulchat.config import DiscordSettings
from soulchat.locales import from_client_tag
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
    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings.discord
        # SoulChat never joins voice: no warning about missing voice libraries at each start.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=intents_for(settings),
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT_S,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.runtime = runtime
        self.settings = settings
        self.desk = runtime.front_desk(PLATFORM)
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self._on_command_error  # type: ignore[method-assign]
        self._arrivals = ArrivalOrder()
        self._hinted_guilds = RecentKeys()
        self._hinted_threads = RecentKeys()
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
        # discord.py gives every event its own task: without this, two quick messages could
        # be stored and answered in the wrong order.
        async with self._arrivals.hold(message.channel.id):
            try:
                await self._on_message(message)
            except Exception as error:
                # The exception, never the message: it carries the user's words.
                log.error("handling a Discord message failed: %r", error)
                await self._apologise(message.channel, None)

    async def _apologise(self, where: Any, locale: str | None) -> None:
        """Never silence: say it went wrong, with the crisis lines (they need no database or
        model)."""
        text = self.desk.apology(locale)
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
        if not self.desk.may_talk(author.id):
            await DiscordChannel(message.channel, message).notice(Notice(self.desk.refusal(None)))
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
        if not self.desk.may_talk(author.id):
            await channel.notice(Notice(self.desk.refusal(None)))
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
        )
        if not unheard or not self._hinted_threads.first_time(channel.id):
            return
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
        if guild is None or not self._hinted_guilds.first_time(guild.id):
            return
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
        """Start the operator desk when Discord has operators."""
        if self.operators is None:
            channel = DiscordOperatorChannel(self, self.settings.operators_chat_id)
            self.operators = await self.runtime.start_operator_desk(channel)
        return self.operators

    async def close(self) -> None:
        await stop_operator_desk(self.operators)
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
        if not self.desk.may_talk(user.id):
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
        if not self.desk.may_talk(interaction.user.id):
            locale = _client_locale(interaction)
            await InteractionReplies(interaction).notice(Notice(self.desk.refusal(locale)))
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


def _client_locale(interaction: discord.Interaction[Any]) -> str | None:
    return from_client_tag(str(interaction.locale.value)) if interaction.locale else None


def add_commands(bot: SoulChatDiscord) -> None:
    """The person's slash commands, made from the command table; each a thin call into the
    front desk. Then the operators' /case."""
    tree = bot.tree
    for command in commands.on(commands.CHAT):
        tree.add_command(_slash(bot, command))

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


def _slash(bot: SoulChatDiscord, command: commands.Command) -> app_commands.Command[Any, ..., None]:
    """One slash command; its option (if any) with the table's choices."""
    summary = command.summary("en")
    if command.argument is None:

        async def plain(interaction: discord.Interaction[Any]) -> None:
            await bot.slash(interaction, f"/{command.name}")

        return app_commands.Command(name=command.name, description=summary, callback=plain)

    async def with_argument(interaction: discord.Interaction[Any], argument: str) -> None:
        await bot.slash(interaction, f"/{command.name} {argument}")

    offered = command.argument.choices(bot.runtime.safety, "en")
    choices = [app_commands.Choice(name=c.label, value=c.value) for c in offered]
    callback = app_commands.rename(argument=command.argument.name)(with_argument)
    callback = app_commands.describe(argument=summary)(callback)
    callback = app_commands.choices(argument=choices)(callback)
    return app_commands.Command(name=command.name, description=summary, callback=callback)
