"""The conversation service end to end: a real Celery worker (embedded, as `soulchat chat`
runs it) on the SQLite queue, and on real Redis with the store on real PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from bots.conversation import ConversationService, Inbound
from bots.runtime import open_service
from bots.texts import TEXTS
from inference.backends.base import BackendUnavailable
from inference.backends.fake import FakeBackend
from inference.job import GenerationParams
from inference.prompt import Prompt
from soulchat.config import Settings
from soulchat.store.models import Conversation, Message, SafetyEvent, User

SAFE_REPLY = "I hear you. That sounds really heavy. What has been the hardest part?"


class ScriptedBackend(FakeBackend):
    """Streams a fixed reply and records every prompt it was given."""

    def __init__(
        self, reply: str = SAFE_REPLY, latency_s: float = 0.05, silent_s: float = 0.0
    ) -> None:
        super().__init__(latency_s=latency_s, chunks=6, reply=reply)
        self.prompts: list[Prompt] = []
        self.silent_s = silent_s  # before the first token, as a busy GPU server is
        self._open = threading.Event()  # before the first piece
        self._open.set()
        self._resumed = threading.Event()  # after the first piece
        self._resumed.set()

    def hold(self) -> None:
        """Later generations take their prompt, then wait for ``release``: a test can make
        things happen while a reply is certainly in flight, whatever the machine's speed."""
        self._open.clear()

    def hold_midway(self) -> None:
        """Later generations stream their first piece, then wait for ``release``."""
        self._resumed.clear()

    def release(self) -> None:
        self._open.set()
        self._resumed.set()

    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        self.prompts.append(prompt)
        self._open.wait()
        time.sleep(self.silent_s)
        for index, piece in enumerate(super().stream(prompt, params)):
            if index == 1:
                self._resumed.wait()
            yield piece


class FlakyBackend(ScriptedBackend):
    down = True

    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        if not self.down:
            yield from super().stream(prompt, params)
            return
        self.prompts.append(prompt)
        raise BackendUnavailable("connection refused")


@dataclass
class RecordingSink:
    events: list[tuple[str, str]] = field(default_factory=list)

    async def notice(self, text: str) -> None:
        # The AI disclosure is its own kind, so tests about other notices need not skip it.
        disclosure = text in (TEXTS[lang]["disclaimer"] for lang in TEXTS)
        self.events.append(("disclosure" if disclosure else "notice", text))

    async def typing(self) -> None:
        self.events.append(("typing", ""))

    async def reply_progress(self, text: str) -> None:
        self.events.append(("progress", text))

    async def reply_restarted(self) -> None:
        self.events.append(("restarted", ""))

    async def reply_final(self, text: str, *, replaced: bool) -> None:
        self.events.append(("replaced" if replaced else "final", text))

    def of(self, kind: str) -> list[str]:
        return [text for k, text in self.events if k == kind]


Opener = Callable[..., Any]


@pytest.fixture(
    params=["embedded", pytest.param("redis", marks=[pytest.mark.redis, pytest.mark.postgres])]
)
def service_settings(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings]
) -> Settings:
    queue: dict[str, Any] = {"max_retries": 1, "retry_backoff_max_s": 1}
    database: dict[str, Any] = {}
    if request.param == "redis":
        queue["broker_url"] = request.getfixturevalue("redis_url")
        database["url"] = request.getfixturevalue("postgres_url")
    return make_settings(queue=queue, database=database)


@pytest.fixture
async def opened(
    service_settings: Settings,
) -> AsyncIterator[Callable[[Any], Any]]:
    stack: list[Any] = []

    async def open_with(backend: FakeBackend) -> ConversationService:
        context = open_service(service_settings, embedded_worker=True, backend=backend)
        stack.append(context)
        return await context.__aenter__()

    yield open_with
    for context in reversed(stack):
        await context.__aexit__(None, None, None)


async def _say(
    service: ConversationService,
    sink: RecordingSink,
    text: str | bytes,
    user: str = "ana",
    message_id: str | None = None,
) -> None:
    await service.receive(Inbound("test", user, text, message_id=message_id, locale="en"), sink)
    await asyncio.wait_for(service.wait_idle("test", user), 60)


def _rows(service: ConversationService, model: type, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    with service.store.engine.connect() as connection:
        return int(connection.scalar(query) or 0)


async def test_a_message_gets_a_streamed_reply_that_is_stored(opened: Any) -> None:
    backend = ScriptedBackend()
    service = await opened(backend)
    sink = RecordingSink()
    await _say(service, sink, "I feel so alone since my divorce")
    assert sink.of("final") == [SAFE_REPLY]
    progress = sink.of("progress")
    assert progress and all(SAFE_REPLY.startswith(p) for p in progress)
    user = service.store.find_user("test", "ana")
    assert user is not None
    conversation = service.store.open_conversation(user.id)
    stored = service.store.recent_messages(conversation, 10)
    assert [(m.role, m.text) for m in stored] == [
        ("user", "I feel so alone since my divorce"),
        ("assistant", SAFE_REPLY),
    ]


async def test_typing_shows_while_the_model_is_silent(opened: Any) -> None:
    service = await opened(ScriptedBackend(silent_s=1.2))
    sink = RecordingSink()
    await _say(service, sink, "I can't sleep and I don't know why")
    kinds = [kind for kind, _ in sink.events]
    assert "typing" in kinds
    assert kinds.index("typing") < kinds.index("final")


async def test_the_conversation_so_far_reaches_the_model(opened: Any) -> None:
    backend = ScriptedBackend()
    service = await opened(backend)
    sink = RecordingSink()
    await _say(service, sink, "I can't sleep")
    await _say(service, sink, "It's been a month")
    messages = backend.prompts[-1].messages
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "I can't sleep"
    assert messages[-1]["content"] == "It's been a month"


async def test_a_crisis_message_gets_resources_at_once_and_is_recorded(opened: Any) -> None:
    backend = ScriptedBackend()
    service = await opened(backend)
    sink = RecordingSink()
    await _say(service, sink, "I have taken all my sleeping pills and wrote a goodbye letter")
    kinds = [kind for kind, _ in sink.events]
    first_notice = kinds.index("notice")
    assert first_notice < kinds.index("final")  # resources before any model reply
    assert "988" in sink.of("notice")[0]
    assert sink.of("final")  # the conversation goes on
    assert "crisis line" in backend.prompts[0].messages[0]["content"]  # safety addendum
    assert _rows(service, SafetyEvent, kind="inbound_risk") == 1


async def test_an_empty_message_gets_a_kind_notice_and_nothing_is_queued(opened: Any) -> None:
    backend = ScriptedBackend()
    service = await opened(backend)
    sink = RecordingSink()
    await _say(service, sink, " \n\t\x00 ")
    assert len(sink.of("notice")) == 1
    assert sink.of("final") == []
    assert backend.prompts == []
    assert _rows(service, Message) == 0


async def test_a_huge_message_is_stored_whole_and_bounded_for_the_model(opened: Any) -> None:
    backend = ScriptedBackend()
    service = await opened(backend)
    sink = RecordingSink()
    huge = "I am so tired of everything at work. " * 2800  # ~100,000 characters
    await _say(service, sink, huge)
    assert "long message" in sink.of("notice")[0]
    assert sink.of("final") == [SAFE_REPLY]
    limit = service.settings.context.max_message_chars
    assert len(backend.prompts[0].messages[-1]["content"]) <= limit
    with service.store.engine.connect() as connection:
        stored = connection.scalar(select(Message.text).where(Message.role == "user"))
    assert stored == huge.strip()


async def test_broken_unicode_is_repaired_not_rejected(opened: Any) -> None:
    service = await opened(ScriptedBackend())
    sink = RecordingSink()
    await _say(service, sink, "I feel \ud800 lost\x07")
    assert sink.of("final") == [SAFE_REPLY]
    with service.store.engine.connect() as connection:
        assert connection.scalar(select(Message.text)) == "I feel \ufffd lost"


async def test_messages_sent_during_a_reply_join_the_next_turn(opened: Any) -> None:
    backend = ScriptedBackend(latency_s=1.0)
    service = await opened(backend)
    sink = RecordingSink()
    inbound = [Inbound("test", "ana", text, locale="en") for text in ("one", "two", "three")]
    await service.receive(inbound[0], sink)
    await asyncio.sleep(0.3)  # the first reply is being generated
    await service.receive(inbound[1], sink)
    await service.receive(inbound[2], sink)
    await asyncio.wait_for(service.wait_idle("test", "ana"), 60)
    assert len(backend.prompts) == 2  # one generation at a time, two turns
    assert backend.prompts[0].messages[-1]["content"] == "one"
    assert backend.prompts[1].messages[-1]["content"] == "two\nthree"
    assert len(sink.of("final")) == 2


async def test_an_unsafe_model_reply_is_replaced_and_recorded(opened: Any) -> None:
    harmful = "You could take 50 pills of paracetamol, that is a lethal dose."
    service = await opened(ScriptedBackend(reply=harmful))
    sink = RecordingSink()
    await _say(service, sink, "How do I make the pain stop?")
    replaced = sink.of("replaced")
    assert len(replaced) == 1
    assert "paracetamol" not in replaced[0]
    assert all("50 pills" not in text for _, text in sink.events)  # never shown, not even partly
    assert _rows(service, SafetyEvent, kind="output_replaced") == 1
    with service.store.engine.connect() as connection:
        stored = connection.scalar(select(Message.text).where(Message.role == "assistant"))
    assert stored == replaced[0]


async def test_a_backend_that_is_down_gets_retries_then_an_honest_answer(opened: Any) -> None:
    backend = FlakyBackend()
    service = await opened(backend)
    sink = RecordingSink()
    await _say(service, sink, "Is anyone there?")
    assert len(backend.prompts) == 2  # first attempt + max_retries=1
    assert "can't answer right now" in sink.of("notice")[-1]
    assert sink.of("final") == []
    assert _rows(service, Message, role="user") == 1  # kept
    backend.down = False
    await _say(service, sink, "Hello?")
    assert backend.prompts[-1].messages[-1]["content"] == "Is anyone there?\nHello?"
    assert sink.of("final") == [SAFE_REPLY]


async def test_a_platform_message_seen_twice_is_answered_once(opened: Any) -> None:
    backend = ScriptedBackend()
    service = await opened(backend)
    sink = RecordingSink()
    await _say(service, sink, "hello", message_id="m-1")
    await _say(service, sink, "hello", message_id="m-1")
    assert len(sink.of("final")) == 1
    assert len(backend.prompts) == 1


async def test_forget_leaves_nothing_of_the_user(opened: Any) -> None:
    service = await opened(ScriptedBackend())
    sink = RecordingSink()
    await _say(service, sink, "I want to end my life")
    await _say(service, sink, "my neighbour is fine", user="bo")
    report = await service.commands.forget("test", "ana")
    assert report.users == 1 and report.messages == 2 and report.safety_events >= 1
    assert _rows(service, User, platform_user_id="ana") == 0
    assert _rows(service, User) == 1
    assert _rows(service, Conversation) == 1
    assert _rows(service, Message) == 2  # bo's message and reply
    with service.store.engine.connect() as connection:
        texts = connection.scalars(select(Message.text)).all()
    assert all("end my life" not in text for text in texts)


async def test_reset_starts_a_fresh_context(opened: Any) -> None:
    backend = ScriptedBackend()
    service = await opened(backend)
    sink = RecordingSink()
    await _say(service, sink, "first topic")
    await service.commands.reset("test", "ana")
    await _say(service, sink, "second topic")
    assert [m["role"] for m in backend.prompts[-1].messages] == ["system", "user"]


async def test_risk_survives_a_restart_of_the_adapter(
    service_settings: Settings,
) -> None:
    backend = ScriptedBackend()
    sink = RecordingSink()
    async with open_service(service_settings, embedded_worker=True, backend=backend) as service:
        await _say(service, sink, "I want to kill myself")
    async with open_service(service_settings, embedded_worker=True, backend=backend) as service:
        await _say(service, sink, "anyway, how was your day")
    assert "crisis line" in backend.prompts[-1].messages[0]["content"]


async def test_only_long_idle_conversation_state_is_dropped(opened: Any) -> None:
    service = await opened(ScriptedBackend())
    sink = RecordingSink()
    await _say(service, sink, "hello", user="ana")
    await _say(service, sink, "hello", user="bo")
    service.states.get("test", "ana").last_active -= 2 * 3600
    service.states.evict_idle()
    assert service.states.get("test", "ana") is None
    assert service.states.get("test", "bo") is not None
    await _say(service, sink, "I'm back", user="ana")  # reloaded from the store
    assert len(sink.of("final")) == 3


async def test_a_slow_model_gets_a_still_working_notice_then_the_reply(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(queue={"slow_notice_s": 0.3})
    sink = RecordingSink()
    backend = ScriptedBackend(latency_s=5.0)
    async with open_service(settings, embedded_worker=True, backend=backend) as service:
        await _say(service, sink, "are you there?")
    kinds = [kind for kind, _ in sink.events if kind in ("notice", "final")]
    assert kinds == ["notice", "final"]
    assert "taking longer" in sink.of("notice")[0]


async def test_no_reply_by_the_deadline_is_an_honest_notice_and_the_message_stays(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(queue={"reply_deadline_s": 1.0, "slow_notice_s": 30})
    sink = RecordingSink()
    backend = ScriptedBackend(latency_s=3.0)
    async with open_service(settings, embedded_worker=True, backend=backend) as service:
        await _say(service, sink, "hello?")
        assert "can't answer right now" in sink.of("notice")[-1]
        assert sink.of("final") == []
        assert _rows(service, Message, role="user") == 1
