"""What every chat adapter does before and around the conversation: commands, consent, the
flood limit and language, the same on Telegram, Discord and any later platform.

An adapter turns platform events into three calls: ``text`` for a user's words (commands
included), ``action`` for a button press, ``not_text`` for a sticker, photo or file. It gets
back ``Notice`` objects to show (with buttons, if any) through its own ``NoticeSender``, and
gives a ``ReplySink`` for the model's streamed reply.

Consent comes first: no message is stored and no model reply is generated before the user
agrees. Messages written before that are held in memory, screened (someone in crisis sees
crisis lines at once, consent or not) and answered once the user agrees; they are dropped if
the user declines.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bots.flood import FloodGuard, FloodVerdict
from bots.inbound import clean_text
from bots.operators.texts import user_text
from bots.service import ConversationService, Inbound, ReplySink
from bots.texts import text as say
from soulchat.store import UserRecord

log = logging.getLogger(__name__)

LOCALES = ("en", "zh")
# Held messages per user before consent: enough for someone who writes in several lines.
MAX_HELD = 10


@dataclass(frozen=True)
class Button:
    label: str
    action: str  # "consent:yes", "consent:no", "forget:yes", "forget:no"


@dataclass(frozen=True)
class Notice:
    text: str
    buttons: tuple[Button, ...] = ()


NoticeSender = Callable[[Notice], Awaitable[None]]


@dataclass
class _Held:
    messages: list[Inbound] = field(default_factory=list)
    sink: ReplySink | None = None


def locale_from_client(language_code: str | None) -> str | None:
    """A platform's language tag (``zh-hans``, ``en-US``) as one of ours, or None."""
    if not language_code:
        return None
    primary = language_code.lower().split("-")[0].split("_")[0]
    return primary if primary in LOCALES else None


class FrontDesk:
    def __init__(self, service: ConversationService, platform: str, flood: FloodGuard) -> None:
        self.service = service
        self.platform = platform
        self.flood = flood
        self._held: dict[str, _Held] = {}

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
        user = await self.service.user(self.platform, user_id)  # one store trip per message
        locale = self._locale_of(user, client_locale)
        verdict = self.flood.check(user_id)
        if verdict is not FloodVerdict.ACCEPT:
            if verdict is FloodVerdict.REJECT_WITH_NOTICE:
                await send(Notice(say(locale, "flood")))
            return
        words = clean_text(raw)
        if words.startswith("/") and words[1:2].isalpha():
            await self.command(user_id, words, send=send, client_locale=client_locale)
            return
        inbound = Inbound(self.platform, user_id, words, message_id, locale)
        if user.consent_at is None:
            await self._hold(user_id, inbound, locale, send=send, sink=sink)
            return
        await self.service.receive(inbound, sink)

    async def not_text(
        self, user_id: str, *, send: NoticeSender, client_locale: str | None
    ) -> None:
        locale = await self.locale(user_id, client_locale)
        if self.flood.check(user_id) is FloodVerdict.ACCEPT:
            await send(Notice(say(locale, "not_text")))

    # -- commands ---------------------------------------------------------------------------
    async def command(
        self, user_id: str, words: str, *, send: NoticeSender, client_locale: str | None
    ) -> None:
        name, _, argument = words.partition(" ")
        name = name.lower().split("@")[0]  # "/start@SoulChatBot" in groups
        locale = await self.locale(user_id, client_locale)
        if name == "/start":
            await send(self.welcome(locale))
        elif name == "/reset":
            await self.service.reset(self.platform, user_id)
            await send(Notice(say(locale, "reset")))
        elif name == "/forget":
            buttons = (
                Button(say(locale, "forget_yes"), "forget:yes"),
                Button(say(locale, "forget_no"), "forget:no"),
            )
            await send(Notice(say(locale, "forget_confirm"), buttons))
        elif name == "/resources":
            await send(Notice(self.service.safety.resources_text(locale)))
        elif name == "/human":
            await self._ask_for_a_person(user_id, locale, send)
        elif name == "/lang":
            await self._change_language(user_id, argument.strip().lower(), locale, send)
        else:
            await send(Notice(say(locale, "chat_help")))

    async def _ask_for_a_person(self, user_id: str, locale: str, send: NoticeSender) -> None:
        user = await self.service.user(self.platform, user_id)
        # Before consent nothing is stored, so no case can be opened either.
        alerted = user.consent_at is not None and await self.service.request_human(
            self.platform, user_id
        )
        if alerted:
            await send(Notice(user_text(locale, "human_requested")))
            return
        resources = self.service.safety.resources_text(locale)
        await send(Notice(say(locale, "human_unavailable") + "\n\n" + resources))

    def welcome(self, locale: str) -> Notice:
        days = self.service.settings.database.retention_days
        retention = say(locale, "retention", days=days) if days else ""
        text = say(locale, "welcome", retention=retention)
        text += "\n\n" + self.service.safety.resources_text(locale)
        buttons = (
            Button(say(locale, "consent_accept"), "consent:yes"),
            Button(say(locale, "consent_decline"), "consent:no"),
        )
        return Notice(text, buttons)

    async def _change_language(
        self, user_id: str, wanted: str, locale: str, send: NoticeSender
    ) -> None:
        if wanted not in LOCALES:
            await send(Notice(say(locale, "language_choose")))
            return
        await self.service.set_locale(self.platform, user_id, wanted)
        await send(Notice(say(wanted, "language_set")))

    # -- buttons ----------------------------------------------------------------------------
    async def action(
        self, user_id: str, action: str, *, send: NoticeSender, client_locale: str | None = None
    ) -> None:
        locale = await self.locale(user_id, client_locale)
        if action == "consent:yes":
            await self.service.set_consent(self.platform, user_id, True)
            await send(Notice(say(locale, "consent_given")))
            await self._release(user_id)
        elif action == "consent:no":
            self._held.pop(user_id, None)
            await self.service.forget(self.platform, user_id)  # not even the user id stays
            text = say(locale, "consent_declined") + "\n\n"
            await send(Notice(text + self.service.safety.resources_text(locale)))
        elif action == "forget:yes":
            self._held.pop(user_id, None)
            self.flood.forget(user_id)
            report = await self.service.forget(self.platform, user_id)
            values = {"messages": report.messages, "conversations": report.conversations}
            await send(Notice(say(locale, "forgotten", **values)))
        elif action == "forget:no":
            await send(Notice(say(locale, "forget_kept")))
        else:
            log.info("unknown button action from %s ignored", self.platform)

    # -- before consent -----------------------------------------------------------------------
    async def _hold(
        self, user_id: str, inbound: Inbound, locale: str, *, send: NoticeSender, sink: ReplySink
    ) -> None:
        held = self._held.setdefault(user_id, _Held())
        first = not held.messages
        if inbound.text and len(held.messages) < MAX_HELD:
            held.messages.append(inbound)
        held.sink = sink
        notice = self.service.safety.crisis_notice(
            locale, await self.service.screen([str(inbound.text)])
        )
        if notice:  # a person at risk sees help before any consent question
            await send(Notice(notice))
        await send(self.welcome(locale) if first else Notice(say(locale, "consent_needed")))

    async def _release(self, user_id: str) -> None:
        held = self._held.pop(user_id, None)
        if held is None or held.sink is None or not held.messages:
            return
        # One message and one turn: they were written as one thought, waiting for an answer.
        last = held.messages[-1]
        words = "\n".join(str(inbound.text) for inbound in held.messages)
        merged = Inbound(last.platform, last.user_id, words, last.message_id, last.locale)
        await self.service.receive(merged, held.sink)

    async def locale(self, user_id: str, client_locale: str | None) -> str:
        return self._locale_of(await self.service.user(self.platform, user_id), client_locale)

    def _locale_of(self, user: UserRecord, client_locale: str | None) -> str:
        if user.locale:
            return user.locale
        return locale_from_client(client_locale) or self.service.settings.default_locale
