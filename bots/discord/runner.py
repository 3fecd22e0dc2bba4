"""``soulchat discord``: the token, the service and the bot, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bots.diagnostics import stop_on_signals
from bots.secrets import read_secret
from soulchat.config import ConfigError, DiscordSettings, Settings

log = logging.getLogger(__name__)


def read_token(settings: DiscordSettings) -> str:
    """The bot token from the settings or the secret file; the error never contains it."""
    token = read_secret(
        settings.token,
        settings.token_file,
        group="discord",
        hint="Discord bot token (from the developer portal: your application, Bot, Token)",
    )
    if len(token.split(".")) != 3:
        raise ConfigError("the Discord bot token does not look like a token (three dot-parts)")
    return token


def describe(settings: DiscordSettings) -> str:
    return "Discord bot starting"


async def serve(settings: Settings) -> None:
    import aiohttp
    import discord

    from bots.discord.app import SoulChatDiscord
    from bots.runtime import open_runtime

    token = read_token(settings.discord)
    stop = stop_on_signals(asyncio.get_running_loop())
    async with open_runtime(settings) as runtime:
        bot = SoulChatDiscord(runtime)
        async with bot:
            runner = asyncio.create_task(bot.start(token), name="soulchat-discord")
            waiter = asyncio.create_task(stop.wait())
            try:
                done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
                if runner in done:
                    runner.result()  # a login or intent refusal: raise it
            except discord.LoginFailure:
                raise ConfigError("Discord refused the bot token (LoginFailure)") from None
            except (aiohttp.ClientError, OSError) as exc:
                # Once connected, discord.py reconnects by itself; at start, say so and exit,
                # so the supervisor restarts the bot when the network is back.
                raise ConfigError(
                    f"cannot reach Discord ({type(exc).__name__}); check the network or proxy"
                ) from None
            except discord.PrivilegedIntentsRequired:
                raise ConfigError(
                    "discord.message_content is on, but the Message Content intent is not "
                    "enabled for this bot in the developer portal"
                ) from None
            finally:
                waiter.cancel()
                await bot.close()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await runner
