"""The chat platforms SoulChat runs on, one entry each: ``soulchat <name>`` is made from this
table. A new platform is its folder (``bots/<name>/`` with a ``runner.py`` that has
``read_token`` and ``serve``), its settings group in ``soulchat/config.py`` (derived from
``ChatPlatformSettings``), and one line here."""

from __future__ import annotations

import importlib
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, cast

from soulchat.config import ChatPlatformSettings, Settings


class Runner(Protocol):
    """What ``bots/<name>/runner.py`` offers."""

    def read_token(self, settings: Any) -> str: ...

    def serve(self, settings: Settings) -> Coroutine[Any, Any, None]: ...

    def describe(self, settings: Any) -> str: ...


@dataclass(frozen=True)
class ChatPlatform:
    name: str  # the settings group, the store's platform, the command
    title: str

    def runner(self) -> Runner:
        """Imported when the platform runs: its library is only needed then."""
        return cast(Runner, importlib.import_module(f"bots.{self.name}.runner"))

    def settings(self, settings: Settings) -> ChatPlatformSettings:
        return settings.chat_platforms()[self.name]


PLATFORMS: tuple[ChatPlatform, ...] = (
    ChatPlatform("telegram", "Telegram"),
    ChatPlatform("discord", "Discord"),
)


def find(name: str) -> ChatPlatform | None:
    return next((platform for platform in PLATFORMS if platform.name == name), None)
