"""The commands a person can give, in one table: the console, Telegram's command menu and
Discord's slash commands are all made from it, and the help text lists it.

A command here is data (its name, where it exists, its argument); what it does is the front
desk's handler of the same name (``bots/frontdesk.py``), and what it is called in each
language is ``command.<name>`` in the message catalogue (``bots/texts/``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bots.texts import text as say
from safety import SafetyPolicy
from soulchat.locales import LANGUAGES

Surface = str  # "console" or "chat" (every chat platform)
CONSOLE, CHAT = "console", "chat"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Argument:
    name: str  # as Discord shows the option
    # What may be given, in a language; read when menus are built (regions come from the
    # crisis resources file the safety policy loaded).
    choices: Callable[[SafetyPolicy, str], tuple[Choice, ...]]


@dataclass(frozen=True)
class Command:
    name: str
    surfaces: frozenset[Surface] = frozenset({CONSOLE, CHAT})
    argument: Argument | None = None

    def summary(self, locale: str) -> str:
        return say(locale, f"command.{self.name}")


AUTO = "auto"  # /region auto: decide from the client and the deployment again


def _languages(safety: SafetyPolicy, locale: str) -> tuple[Choice, ...]:
    return tuple(Choice(language.code, language.native) for language in LANGUAGES)


def _regions(safety: SafetyPolicy, locale: str) -> tuple[Choice, ...]:
    regions = tuple(Choice(code, name) for code, name in safety.region_choices(locale))
    return (*regions, Choice(AUTO, say(locale, "region_auto_label")))


COMMANDS: tuple[Command, ...] = (
    Command("start", frozenset({CHAT})),
    Command("reset"),
    Command("forget"),
    Command("resources"),
    Command("human"),
    Command("lang", argument=Argument("language", _languages)),
    Command("region", argument=Argument("region", _regions)),
    Command("help"),
    Command("quit", frozenset({CONSOLE})),
)


def on(surface: Surface) -> tuple[Command, ...]:
    """The commands that exist on ``surface``, in menu order."""
    return tuple(command for command in COMMANDS if surface in command.surfaces)


def find(name: str, surface: Surface) -> Command | None:
    return next((command for command in on(surface) if command.name == name), None)


def parse(words: str) -> tuple[str, str] | None:
    """ "/lang@SoulChatBot zh" -> ("lang", "zh"); None when the words are not a command."""
    if not (words.startswith("/") and words[1:2].isalpha()):
        return None
    head, _, argument = words.partition(" ")
    return head[1:].split("@")[0].lower(), argument.strip()


def help_text(locale: str, surface: Surface) -> str:
    lines = [say(locale, "help.intro")]
    lines += [f"/{command.name} – {command.summary(locale)}" for command in on(surface)]
    return "\n".join(lines)


def choices_text(command: Command, safety: SafetyPolicy, locale: str) -> str:
    """ "/lang en (English), /lang zh (中文)": how to give the argument."""
    assert command.argument is not None
    choices = command.argument.choices(safety, locale)
    return ", ".join(f"/{command.name} {choice.value} ({choice.label})" for choice in choices)
