"""Commands, consent, flood limit and language: what every chat adapter shares, through the
real service, embedded queue and SQLite store (fake model)."""

from __future__ import annotations

import asyncio
import string
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from bots import commands
from bots.conversation import ConversationService
from bots.flood import FloodGuard
from bots.frontdesk import FrontDesk
from bots.notices import Notice
from bots.runtime import open_service
from bots.texts import TEXTS
from soulchat.config import Settings
from soulchat.locales import CODES, FALLBACK, from_client_tag
from soulchat.store.models import Message, User
from tests.bots.conversation.test_service import SAFE_REPLY, RecordingSink, ScriptedBackend
from tests.waiting import HANG_S

PLATFORM = "test"


class Screen:
    """What one user saw: notices with their buttons, and the reply sink."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.sink = RecordingSink()

    async def send(self, notice: Notice) -> None:
        self.notices.append(notice)

    def actions(self) -> list[str]:
        return [button.action for notice in self.notices for button in notice.buttons]


@pytest.fixture
async def desk(make_settings: Callable[..., Settings]) -> AsyncIterator[FrontDesk]:
    settings = make_settings(database={"retention_days": 30})
    async with open_service(settings, embedded_worker=True, backend=ScriptedBackend()) as service:
        yield front_desk(service)


def front_desk(service: ConversationService, **overrides: Any) -> FrontDesk:
    """A front desk on the "test" platform, with a flood limit of 5 a minute."""
    values: dict[str, Any] = {
        "retention_days": service.settings.database.retention_days,
        "default_locale": "en",
        **overrides,
    }
    return FrontDesk(service, service.safety, PLATFORM, FloodGuard(5, 60), **values)


async def write(desk: FrontDesk, screen: Screen, words: str, user: str = "ana") -> None:
    await desk.text(user, words, send=screen.send, sink=screen.sink, client_locale="en-US")
    await asyncio.wait_for(desk.service.wait_idle(PLATFORM, user), 30)


def count(desk: FrontDesk, model: type) -> int:
    with desk.service.store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(model)) or 0)


async def test_no_reply_and_nothing_stored_before_consent_then_held_words_are_answered(
    desk: FrontDesk,
) -> None:
    screen = Screen()
    await write(desk, screen, "I can't sleep and I feel alone")
    assert screen.sink.of("final") == []
    assert count(desk, Message) == 0
    welcome = screen.notices[0]
    assert "not a therapist" in welcome.text and "30 days" in welcome.text
    assert [b.action for b in welcome.buttons] == ["consent:yes", "consent:no"]
    await write(desk, screen, "it has been weeks")
    assert TEXTS["en"]["consent_needed"] in screen.notices[-1].text

    await desk.action("ana", "consent:yes", send=screen.send)
    await asyncio.wait_for(desk.service.wait_idle(PLATFORM, "ana"), 30)
    assert screen.sink.of("final") == [SAFE_REPLY]  # both held messages, one turn
    stored = desk.service.store.recent_messages(1, 10)
    assert [m.text for m in stored] == [
        "I can't sleep and I feel alone\nit has been weeks",
        SAFE_REPLY,
    ]


async def test_a_crisis_message_before_consent_gets_crisis_lines_at_once(desk: FrontDesk) -> None:
    screen = Screen()
    await write(desk, screen, "I want to kill myself tonight")
    assert "988" in screen.notices[0].text  # the crisis notice comes before the consent question
    assert screen.notices[1].buttons
    assert count(desk, Message) == 0


async def test_declining_stores_nothing_and_keeps_no_user(desk: FrontDesk) -> None:
    screen = Screen()
    await write(desk, screen, "hello")
    await desk.action("ana", "consent:no", send=screen.send)
    assert count(desk, User) == 0 and count(desk, Message) == 0
    assert TEXTS["en"]["consent_declined"] in screen.notices[-1].text


async def test_forget_asks_first_then_deletes_everything(desk: FrontDesk) -> None:
    screen = Screen()
    await desk.action("ana", "consent:yes", send=screen.send)
    await write(desk, screen, "my exams went badly")
    await write(desk, screen, "/forget")
    assert screen.notices[-1].buttons[0].action == "forget:yes"
    assert count(desk, Message) == 2
    await desk.action("ana", "forget:no", send=screen.send)
    assert count(desk, Message) == 2
    await desk.action("ana", "forget:yes", send=screen.send)
    assert count(desk, Message) == 0 and count(desk, User) == 0
    assert "deleted" in screen.notices[-1].text


async def test_a_flood_gets_one_kind_notice_and_is_not_stored(desk: FrontDesk) -> None:
    screen = Screen()
    await desk.action("ana", "consent:yes", send=screen.send)
    for index in range(8):
        await desk.text("ana", f"message {index}", send=screen.send, sink=screen.sink)
    await asyncio.wait_for(desk.service.wait_idle(PLATFORM, "ana"), 30)
    flood = [n for n in screen.notices if n.text == TEXTS["en"]["flood"]]
    assert len(flood) == 1
    with desk.service.store.engine.connect() as connection:
        users = select(func.count()).select_from(Message).where(Message.role == "user")
        assert connection.scalar(users) == 5


async def test_language_follows_the_client_and_lang_changes_it(desk: FrontDesk) -> None:
    screen = Screen()
    await desk.text("li", "你好", send=screen.send, sink=screen.sink, client_locale="zh-hans")
    assert screen.notices[0].text.startswith("你好，我是SoulChat")
    await desk.text("li", "/lang en", send=screen.send, sink=screen.sink)
    assert screen.notices[-1].text == TEXTS["en"]["language_set"]
    await desk.text("li", "/lang klingon", send=screen.send, sink=screen.sink)
    assert screen.notices[-1].text.startswith("Which language")
    for code in CODES:  # every language the registry has is offered
        assert f"/lang {code}" in screen.notices[-1].text


async def test_commands_in_groups_and_unknown_commands(desk: FrontDesk) -> None:
    screen = Screen()
    await write(desk, screen, "/resources@SoulChatBot")
    assert "988" in screen.notices[-1].text
    await write(desk, screen, "/whatever")
    assert screen.notices[-1].text == commands.help_text("en", commands.CHAT)
    await desk.not_text("ana", send=screen.send, client_locale="en")
    assert screen.notices[-1].text == TEXTS["en"]["not_text"]


@pytest.mark.parametrize(
    ("tag", "locale"), [("zh-hans", "zh"), ("en-US", "en"), ("fr", None), (None, None)]
)
def test_client_language_tags(tag: Any, locale: Any) -> None:
    assert from_client_tag(tag) == locale


async def test_crisis_lines_follow_the_region_the_client_says_then_the_persons_choice(
    desk: FrontDesk,
) -> None:
    screen = Screen()
    desk.flood = FloodGuard(50, 60)  # more messages than the fixture's flood limit lets through

    async def say_as(words: str, tag: str = "en-AU") -> str:
        await desk.text("kim", words, send=screen.send, sink=screen.sink, client_locale=tag)
        await asyncio.wait_for(desk.service.wait_idle(PLATFORM, "kim"), HANG_S)
        return "\n".join(notice.text for notice in screen.notices)

    welcome = await say_as("hi")  # before consent, the welcome's lines are Australia's
    assert "13 11 14" in welcome and "988" not in welcome
    await desk.action("kim", "consent:yes", send=screen.send, client_locale="en-AU")
    await asyncio.wait_for(desk.service.wait_idle(PLATFORM, "kim"), HANG_S)  # "hi" answered
    await say_as("I want to end my life tonight")
    crisis = screen.sink.of("notice")[-1]  # at once, before the model is asked
    assert "13 11 14" in crisis and "000" in crisis and "988" not in crisis
    await say_as("thank you for listening")
    footer = screen.sink.of("notice")[-1]  # with every later reply while at risk
    assert "000" in footer and "988" not in footer

    screen.notices.clear()
    offered = await say_as("/region")
    assert all(f"/region {code}" in offered for code in ("AU", "CA", "IN", "TW", "auto"))
    chosen = await say_as("/region in")
    assert "14416" in chosen and "112" in chosen
    user = await desk.account.user(PLATFORM, "kim")
    assert user.region == "IN"  # kept in the store, so it outlives a restart
    screen.notices.clear()
    lines = await say_as("/resources")
    assert "14416" in lines and "13 11 14" not in lines  # the choice beats the client's tag
    await say_as("/region auto")
    assert (await desk.account.user(PLATFORM, "kim")).region is None
    screen.notices.clear()
    assert "13 11 14" in await say_as("/resources")


def test_every_language_has_every_text_with_the_same_placeholders() -> None:
    english = TEXTS[FALLBACK]
    for code in CODES:
        assert set(TEXTS[code]) == set(english), code
        for key, text in TEXTS[code].items():
            assert _placeholders(text) == _placeholders(english[key]), (code, key)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
