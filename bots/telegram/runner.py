"""``soulchat telegram``: the token, the service and the bot, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio

from bots.diagnostics import stop_on_signals
from bots.secrets import read_secret
from soulchat.config import ConfigError, Settings, TelegramSettings


def read_token(settings: TelegramSettings) -> str:
    """The bot token from the settings or the secret file; the error never contains it."""
    token = read_secret(
        settings.token,
        settings.token_file,
        group="telegram",
        hint="Telegram bot token (the token comes from @BotFather)",
    )
    if ":" not in token or not token.split(":", 1)[0].isdigit():
        raise ConfigError("the Telegram bot token does not look like <digits>:<secret>")
    if settings.mode == "webhook" and not settings.webhook_url:
        raise ConfigError("telegram.mode webhook needs SOULCHAT_TELEGRAM__WEBHOOK_URL")
    return token


def describe(settings: TelegramSettings) -> str:
    return f"Telegram bot starting ({settings.mode})"


async def serve(settings: Settings) -> None:
    from bots.runtime import open_runtime
    from bots.telegram.app import run

    token = read_token(settings.telegram)
    stop = stop_on_signals(asyncio.get_running_loop())
    async with open_runtime(settings) as runtime:
        await run(runtime, token, stop)
