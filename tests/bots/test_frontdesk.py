"""Commands, consent, flood limit and language: what every chat adapter shares, through the
real service, embedded queue and SQLite store (fake model)."""

from __future__ import annotations

import asyncio
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
from soulchat.locales import CODES, from_client_tag
from soulchat.store.models import Message, User
from tests.bots.test_service import SAFE_REPLY, RecordingSink, ScriptedBackend

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


def test_both_languages_have_every_text() -> None:
    assert set(TEXTS["en"]) == set(TEXTS["zh"])
