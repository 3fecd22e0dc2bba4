"""The console adapter: ``soulchat chat``.

Interactive in a terminal; with piped standard input each line is one message and each reply
is printed before the next line is sent, so a conversation can be scripted:

    printf 'I feel lonely\\nNobody calls me\\n' | soulchat chat

Commands come from the same table as on Telegram and Discord (``bots/commands.py``), through
the same front desk; a notice's buttons are printed as numbered choices, and a line with just
that number presses one. The person at the keyboard has already agreed by starting it, so the
console asks no consent question.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from dataclasses import dataclass, field
from typing import TextIO

from bots import commands
from bots.conversation import Inbound
from bots.notices import Button, Notice
from bots.runtime import open_runtime
from bots.texts import text as say
from soulchat.config import Settings
from soulchat.locales import from_client_tag, region_from_client_tag

PLATFORM = "console"


@dataclass
class ConsoleSink:
    """Prints notices and streams replies as they grow."""

    out: TextIO
    printed: str = ""
    choices: tuple[Button, ...] = field(default=())  # the latest notice's buttons, numbered

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    async def notice(self, text: str) -> None:
        self._write(("\n" if self.printed else "") + f"[SoulChat] {text}\n")
        self.printed = ""

    async def show(self, notice: Notice) -> None:
        """A front-desk notice; its buttons become numbered choices."""
        await self.notice(notice.text)
        self.choices = notice.buttons
        for number, button in enumerate(notice.buttons, 1):
            self._write(f"  {number}) {button.label}\n")

    def choice(self, line: str) -> str | None:
        """The action of the button whose number ``line`` is, once; else None."""
        buttons, self.choices = self.choices, ()
        if line.strip().isdigit() and 1 <= int(line) <= len(buttons):
            return buttons[int(line) - 1].action
        return None

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
    return requested or from_client_tag(os.environ.get("LANG")) or settings.default_locale


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

    async with open_runtime(settings, on_loading=loading) as runtime:
        service, desk = runtime.service, runtime.front_desk(PLATFORM)
        await service.commands.set_locale(PLATFORM, user, locale)
        out.write(f"[SoulChat] {say(locale, 'disclaimer')}\n")
        await service.commands.mark_disclosed(PLATFORM, user)
        tag = os.environ.get("LANG")  # "en_AU.UTF-8" says where, for the crisis lines
        region = runtime.safety.region_for(client_tag=tag)
        out.write(f"[SoulChat] {runtime.safety.resources_text(locale, region=region)}\n")
        if interactive:
            out.write(f"[SoulChat] {commands.help_text(locale, commands.CONSOLE)}\n")
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
            parsed = commands.parse(line)
            if parsed is not None and parsed[0] in ("quit", "exit"):
                break
            action = sink.choice(line)
            if action is not None:
                await desk.action(user, action, send=sink.show, client_locale=tag)
            elif parsed is not None:
                await desk.command(
                    user, line, send=sink.show, client_locale=tag, surface=commands.CONSOLE
                )
            else:
                hinted = region_from_client_tag(tag)
                inbound = Inbound(PLATFORM, user, line, locale=locale, region=hinted)
                await service.receive(inbound, sink)
                await service.wait_idle(PLATFORM, user)
