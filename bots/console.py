"""The console adapter: ``soulchat chat``.

Interactive in a terminal; with piped standard input each line is one message and each reply
is printed before the next line is sent, so a conversation can be scripted:

    printf 'I feel lonely\\nNobody calls me\\n' | soulchat chat
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from dataclasses import dataclass
from typing import TextIO

from bots.runtime import open_service
from bots.service import ConversationService, Inbound
from bots.texts import text as say
from soulchat.config import Settings

PLATFORM = "console"


@dataclass
class ConsoleSink:
    """Prints notices and streams replies as they grow."""

    out: TextIO
    printed: str = ""

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    async def notice(self, text: str) -> None:
        self._write(("\n" if self.printed else "") + f"[SoulChat] {text}\n")
        self.printed = ""

    async def typing(self) -> None:
        pass

    async def reply_progress(self, text: str) -> None:
        if not self.printed:
            self._write("soulchat> ")
        if text.startswith(self.printed):
            self._write(text[len(self.printed) :])
        else:
            self._write("\n" + text)
        self.printed = text

    async def reply_restarted(self) -> None:
        self._write("\n")
        self.printed = ""

    async def reply_final(self, text: str, *, replaced: bool) -> None:
        if self.printed and text.startswith(self.printed) and not replaced:
            self._write(text[len(self.printed) :] + "\n")
        else:
            self._write(("\n" if self.printed else "") + f"soulchat> {text}\n")
        self.printed = ""


def console_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "console"


def console_locale(requested: str | None, settings: Settings) -> str:
    if requested:
        return requested
    lang = os.environ.get("LANG", "")
    return "zh" if lang.startswith("zh") else settings.default_locale


async def _handle_command(
    line: str, service: ConversationService, user: str, locale: str, out: TextIO
) -> bool:
    """Run a /command; return False when the user wants to leave."""
    command = line.split()[0].lower()
    if command in ("/quit", "/exit"):
        return False
    if command == "/reset":
        await service.reset(PLATFORM, user)
        out.write(f"[SoulChat] {say(locale, 'reset')}\n")
    elif command == "/forget":
        report = await service.forget(PLATFORM, user)
        out.write(
            "[SoulChat] "
            + say(locale, "forgotten", messages=report.messages, conversations=report.conversations)
            + "\n"
        )
    elif command == "/resources":
        out.write(f"[SoulChat] {service.safety.resources_text(locale)}\n")
    elif command == "/human":
        if not await service.request_human(PLATFORM, user):
            unavailable = say(locale, "human_unavailable")
            out.write(f"[SoulChat] {unavailable}\n{service.safety.resources_text(locale)}\n")
    else:
        out.write(f"[SoulChat] {say(locale, 'help')}\n")
    return True


async def chat(
    settings: Settings,
    *,
    locale: str | None = None,
    user: str | None = None,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
) -> None:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    user = user or console_user()
    locale = console_locale(locale, settings)
    interactive = stdin.isatty()

    def loading() -> None:
        out.write("[SoulChat] loading the model…\n")
        out.flush()

    async with open_service(settings, on_loading=loading) as service:
        out.write(f"[SoulChat] {say(locale, 'disclaimer')}\n")
        await service.mark_disclosed(PLATFORM, user)
        out.write(f"[SoulChat] {service.safety.resources_text(locale)}\n")
        if interactive:
            out.write(f"[SoulChat] {say(locale, 'help')}\n")
        out.flush()
        sink = ConsoleSink(out)
        while True:
            if interactive:
                out.write("you> ")
                out.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line:  # end of input
                break
            line = line.rstrip("\n")
            if line.startswith("/") and line[1:2].isalpha():
                if not await _handle_command(line, service, user, locale, out):
                    break
                continue
            inbound = Inbound(PLATFORM, user, line, locale=locale)
            await service.receive(inbound, sink)
            await service.wait_idle(PLATFORM, user)
