"""What every chat adapter does before and around the conversation: commands, consent, the
flood limit and language, the same on Telegram, Discord and any later platform.

An adapter turns platform events into three calls: ``text`` for a person's words (commands
included), ``action`` for a button press, ``not_text`` for a sticker, photo or file. It gets
back ``Notice`` objects to show (with buttons, if any) through its own ``NoticeSender``, and
gives a ``ReplySink`` for the model's streamed reply.

Consent comes first: no message is stored and no model reply is generated before the person
agrees. Messages written before that are held in memory, screened (someone in crisis sees
crisis lines at once, consent or not) and answered once the person agrees; they are dropped
if the person declines, and after an hour without an answer.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

from bots import commands
from bots.conversation import ConversationService, Inbound, ReplySink
from bots.flood import FloodGuard, FloodVerdict
from bots.notices import Button, Notice, NoticeSender
from bots.texts import text as say
from safety import SafetyPolicy
from soulchat.locales import CODES, from_client_tag, is_supported, region_from_client_tag
from soulchat.store import UserRecord
from soulchat.text import clean_text

log = logging.getLogger(__name__)

# Held messages per person before consent: enough for someone who writes in several lines.
MAX_HELD = 10
# People whose messages are held at once, and for how long: someone who never answers the
# consent question must not keep their words in this process's memory for ever.
MAX_HELD_PEOPLE = 10_000
HOLD_FOR_S = 3600.0


@dataclass
class _Held:
    messages: list[Inbound] = field(default_factory=list)
    sink: ReplySink | None = None
    since: float = 0.0  # the person's last message


@dataclass(frozen=True)
class Request:
    """One command as the front desk handles it."""

    user_id: str
    argument: str
    locale: str
    region: str | None  # whose crisis lines this person gets
    send: NoticeSender
    surface: commands.Surface = commands.CHAT


class FrontDesk:
    def __init__(
        self,
        service: ConversationService,
        safety: SafetyPolicy,
        platform: str,
        flood: FloodGuard,
        *,
        retention_days: int,
        default_locale: str,
        allowed_user_ids: Collection[int] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.account = service.commands
        self.safety = safety
        self.platform = platform
        self.flood = flood
        self.retention_days = retention_days
        self.default_locale = default_locale
        self.allowed_user_ids = frozenset(allowed_user_ids)
        self._clock = clock
        self._held: OrderedDict[str, _Held] = OrderedDict()
        self._handlers: dict[str, Callable[[Request], Awaitable[None]]] = {
            "start": self._start,
            "reset": self._reset,
            "forget": self._forget,
            "resources": self._resources,
            "human": self._human,
            "lang": self._lang,
            "region": self._region,
            "help": self._help,
        }
        # Every command of the table has a handler here (the console's /quit is the console's).
        missing = ({c.name for c in commands.COMMANDS} - {"quit"}) ^ set(self._handlers)
        assert not missing, f"commands without a handler, or handlers without a command: {missing}"

    # -- what a person sends ----------------------------------------------------------------
    async def text(
        self,
        user_id: str,
        raw: str | bytes,
        *,
        send: NoticeSender,
        sink: ReplySink,
        message_id: str | None = None,
        client_locale: str | None = None,
    ) -> None:
        user = await self.account.user(self.platform, user_id)  # one store trip per message
        locale = self._locale_of(user, client_locale)
        region = self.safety.region_for(chosen=user.region, client_tag=client_locale)
        verdict = self.flood.check(user_id)
        if verdict is not FloodVerdict.ACCEPT:
            if verdict is FloodVerdict.REJECT_WITH_NOTICE:
                await send(Notice(say(locale, "flood")))
            return
        words = clean_text(raw)
        parsed = commands.parse(words)
        if parsed is not None:
            await self._command(Request(user_id, parsed[1], locale, region, send), parsed[0])
            return
        hinted = region_from_client_tag(client_locale)
        inbound = Inbound(self.platform, user_id, words, message_id, locale, hinted)
        if user.consent_at is None:
            await self._hold(user_id, inbound, locale, region, send=send, sink=sink)
            return
        await self.service.receive(inbound, sink)

    async def not_text(
        self, user_id: str, *, send: NoticeSender, client_locale: str | None
    ) -> None:
        locale, _ = await self._where(user_id, client_locale)
        if self.flood.check(user_id) is FloodVerdict.ACCEPT:
            await send(Notice(say(locale, "not_text")))

    async def command(
        self,
        user_id: str,
        words: str,
        *,
        send: NoticeSender,
        client_locale: str | None,
        surface: commands.Surface = commands.CHAT,
    ) -> None:
        """A command from a platform's own command UI (Discord's slash commands, the
        console)."""
        locale, region = await self._where(user_id, client_locale)
        name, argument = commands.parse(words) or ("help", "")
        await self._command(Request(user_id, argument, locale, region, send, surface), name)

    async def _command(self, request: Request, name: str) -> None:
        known = commands.find(name, request.surface)
        handler = self._handlers.get(name) if known is not None else None
        await (handler or self._help)(request)

    # -- the commands (one handler per entry of bots/commands.py) ---------------------------
    async def _start(self, request: Request) -> None:
        await request.send(self.welcome(request.locale, request.region))

    async def _reset(self, request: Request) -> None:
        await self.account.reset(self.platform, request.user_id)
        await request.send(Notice(say(request.locale, "reset")))

    async def _forget(self, request: Request) -> None:
        buttons = (
            Button(say(request.locale, "forget_yes"), "forget:yes"),
            Button(say(request.locale, "forget_no"), "forget:no"),
        )
        await request.send(Notice(say(request.locale, "forget_confirm"), buttons))

    async def _resources(self, request: Request) -> None:
        lines = self.safety.resources_text(request.locale, region=request.region)
        await request.send(Notice(lines))

    async def _human(self, request: Request) -> None:
        user = await self.account.user(self.platform, request.user_id)
        # Before consent nothing is stored, so no case can be opened either.
        alerted = user.consent_at is not None and await self.account.request_human(
            self.platform, request.user_id
        )
        if alerted:
            await request.send(Notice(say(request.locale, "handover.human_requested")))
            return
        resources = self.safety.resources_text(request.locale, region=request.region)
        await request.send(Notice(say(request.locale, "human_unavailable") + "\n\n" + resources))

    async def _lang(self, request: Request) -> None:
        wanted = request.argument.lower()
        if not is_supported(wanted):
            choices = self._choices("lang", request)
            await request.send(Notice(say(request.locale, "language_choose", choices=choices)))
            return
        await self.account.set_locale(self.platform, request.user_id, wanted)
        await request.send(Notice(say(wanted, "language_set")))

    async def _region(self, request: Request) -> None:
        wanted = request.argument.strip()
        if wanted.lower() == commands.AUTO:
            await self.account.set_region(self.platform, request.user_id, None)
            await request.send(Notice(say(request.locale, "region_auto")))
            return
        code = self.safety.known_region(wanted)
        if code is None:
            choices = self._choices("region", request)
            await request.send(Notice(say(request.locale, "region_choose", choices=choices)))
            return
        await self.account.set_region(self.platform, request.user_id, code)
        name = dict(self.safety.region_choices(request.locale))[code]
        lines = self.safety.resources_text(request.locale, region=code)
        await request.send(Notice(say(request.locale, "region_set", region=name) + "\n\n" + lines))

    def _choices(self, name: str, request: Request) -> str:
        command = commands.find(name, request.surface)
        assert command is not None
        return commands.choices_text(command, self.safety, request.locale)

    async def _help(self, request: Request) -> None:
        await request.send(Notice(commands.help_text(request.locale, request.surface)))

    def welcome(self, locale: str, region: str | None) -> Notice:
        days = self.retention_days
        retention = say(locale, "retention", days=days) if days else ""
        text = say(locale, "welcome", retention=retention)
        text += "\n\n" + self.safety.resources_text(locale, region=region)
        buttons = (
            Button(say(locale, "consent_accept"), "consent:yes"),
            Button(say(locale, "consent_decline"), "consent:no"),
        )
        return Notice(text, buttons)

    # -- buttons ----------------------------------------------------------------------------
    async def action(
        self, user_id: str, action: str, *, send: NoticeSender, client_locale: str | None = None
    ) -> None:
        locale, region = await self._where(user_id, client_locale)
        if action == "consent:yes":
            await self.account.set_consent(self.platform, user_id, True)
            await send(Notice(say(locale, "consent_given")))
            await self._release(user_id)
        elif action == "consent:no":
            self._held.pop(user_id, None)
            await self.account.forget(self.platform, user_id)  # not even the user id stays
            text = say(locale, "consent_declined") + "\n\n"
            await send(Notice(text + self.safety.resources_text(locale, region=region)))
        elif action == "forget:yes":
            self._held.pop(user_id, None)
            self.flood.forget(user_id)
            report = await self.account.forget(self.platform, user_id)
            values = {"messages": report.messages, "conversations": report.conversations}
            await send(Notice(say(locale, "forgotten", **values)))
        elif action == "forget:no":
            await send(Notice(say(locale, "forget_kept")))
        else:
            log.info("unknown button action from %s ignored", self.platform)

    # -- before consent -----------------------------------------------------------------------
    async def _hold(
        self,
        user_id: str,
        inbound: Inbound,
        locale: str,
        region: str | None,
        *,
        send: NoticeSender,
        sink: ReplySink,
    ) -> None:
        self.evict_idle()
        held = self._held.pop(user_id, None) or _Held()
        held.since = self._clock()
        self._held[user_id] = held  # in order of their last message: the newest at the end
        while len(self._held) > MAX_HELD_PEOPLE:
            self._held.popitem(last=False)
        first = not held.messages
        if inbound.text and len(held.messages) < MAX_HELD:
            held.messages.append(inbound)
        held.sink = sink
        assessment = await self.service.screen([str(inbound.text)])
        notice = self.safety.crisis_notice(locale, assessment, region=region)
        if notice:  # a person at risk sees help before any consent question
            await send(Notice(notice))
        welcome = self.welcome(locale, region)
        await send(welcome if first else Notice(say(locale, "consent_needed")))

    async def _release(self, user_id: str) -> None:
        held = self._held.pop(user_id, None)
        if held is None or held.sink is None or not held.messages:
            return
        # One message and one turn: they were written as one thought, waiting for an answer.
        last = held.messages[-1]
        words = "\n".join(str(inbound.text) for inbound in held.messages)
        merged = Inbound(
            last.platform, last.user_id, words, last.message_id, last.locale, last.region
        )
        await self.service.receive(merged, held.sink)

    def evict_idle(self) -> None:
        """Drop what people who never answered the consent question wrote, an hour after
        their last message (the flood guard forgets quiet people by itself)."""
        deadline = self._clock() - HOLD_FOR_S
        while self._held and next(iter(self._held.values())).since < deadline:
            self._held.popitem(last=False)

    @property
    def held_people(self) -> int:
        return len(self._held)

    # -- who may talk, and what to say when something breaks ---------------------------------
    def may_talk(self, user_id: int) -> bool:
        """Everyone, unless the platform's allowed_user_ids lists who is invited."""
        return not self.allowed_user_ids or user_id in self.allowed_user_ids

    def refusal(self, client_locale: str | None) -> str:
        """For someone not invited; in every language when the platform does not say."""
        locale = from_client_tag(client_locale)
        if locale is not None:
            return say(locale, "not_invited")
        return " ".join(say(code, "not_invited") for code in CODES)

    def apology(self, locale: str | None, client_tag: str | None = None) -> str:
        """Never silence: something went wrong here, with the crisis lines (they need no
        database or model)."""
        chosen = locale or self.default_locale
        region = self.safety.region_for(client_tag=client_tag)
        lines = self.safety.resources_text(chosen, region=region)
        return say(chosen, "failed_here") + "\n\n" + lines

    # -- language ---------------------------------------------------------------------------
    async def locale(self, user_id: str, client_locale: str | None) -> str:
        return (await self._where(user_id, client_locale))[0]

    async def _where(self, user_id: str, client_locale: str | None) -> tuple[str, str | None]:
        """The person's language, and the region whose crisis lines they get."""
        user = await self.account.user(self.platform, user_id)
        region = self.safety.region_for(chosen=user.region, client_tag=client_locale)
        return self._locale_of(user, client_locale), region

    def _locale_of(self, user: UserRecord, client_locale: str | None) -> str:
        if user.locale:
            return user.locale
        return from_client_tag(client_locale) or self.default_locale
