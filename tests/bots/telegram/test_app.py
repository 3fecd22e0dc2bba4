"""The Telegram adapter end to end: python-telegram-bot polling a fake Bot API server on
loopback, the real service, embedded queue and SQLite store, a scripted model."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from bots.conversation import ConversationService
from bots.runtime import open_runtime
from bots.telegram.app import run
from bots.texts import TEXTS
from soulchat.config import Settings
from soulchat.store.models import Message, User
from tests.bots.conversation.test_service import SAFE_REPLY, ScriptedBackend
from tests.fakes.telegram_api import FakeTelegramServer
from tests.waiting import HANG_S

USER = 42


@dataclass
class Running:
    fake: FakeTelegramServer
    service: ConversationService
    backend: ScriptedBackend | None = None

    def bot_texts(self, chat_id: int = USER) -> list[str]:
        return self.fake.bot_texts(chat_id)

    async def until(self, predicate: Callable[[], bool], timeout: float = HANG_S) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out; the bot said: {self.bot_texts()}")
            await asyncio.sleep(0.02)

    def last_buttons(self, chat_id: int = USER) -> tuple[int, list[str]]:
        for message in reversed(self.fake.messages(chat_id)):
            if message.from_bot and message.reply_markup:
                rows = message.reply_markup["inline_keyboard"]
                return message.message_id, [b["callback_data"] for row in rows for b in row]
        raise AssertionError("no message with buttons")

    def count(self, model: type) -> int:
        with self.service.store.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def telegram(make_settings: Callable[..., Settings]) -> AsyncIterator[Running]:
    with FakeTelegramServer() as fake:
        fake.user(USER, language_code="en")
        fake.private_chat(USER)
        settings = make_settings(
            telegram={"base_url": fake.base_url, "edit_interval_s": 0.05},
            database={"retention_days": 30},
        )
        backend = ScriptedBackend()
        async with open_runtime(settings, embedded_worker=True, backend=backend) as runtime:
            service = runtime.service
            stop = asyncio.Event()
            task = asyncio.create_task(run(runtime, fake.token, stop))
            try:
                yield Running(fake, service, backend)
            finally:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 20)


async def consent(running: Running) -> None:
    running.fake.user_text("/start", user_id=USER)
    await running.until(
        lambda: (
            bool(running.fake.messages(USER))
            and "consent:yes" in str([m.reply_markup for m in running.fake.messages(USER)])
        )
    )
    message_id, actions = running.last_buttons()
    assert actions == ["consent:yes", "consent:no"]
    running.fake.press_button(USER, message_id, "consent:yes")
    await running.until(lambda: TEXTS["en"]["consent_given"] in running.bot_texts())


async def test_start_consent_message_and_a_streamed_stored_reply(telegram: Running) -> None:
    await consent(telegram)
    telegram.fake.user_text("I feel so alone since I moved here", user_id=USER)
    await telegram.until(lambda: SAFE_REPLY in telegram.bot_texts())
    assert telegram.fake.calls_to("answerCallbackQuery")  # the button stopped spinning
    assert telegram.count(Message) == 2
    assert telegram.fake.violations == []


async def test_typing_shows_while_the_model_is_silent(telegram: Running) -> None:
    await consent(telegram)
    assert telegram.backend is not None
    telegram.backend.silent_s = 1.5
    telegram.fake.user_text("I can't sleep", user_id=USER)
    await telegram.until(lambda: SAFE_REPLY in telegram.bot_texts())
    assert telegram.fake.chat_actions[:1] == [(USER, "typing")]


async def test_one_chat_waiting_out_a_429_does_not_hold_up_another(telegram: Running) -> None:
    other = 43
    telegram.fake.user(other, language_code="en")
    telegram.fake.private_chat(other)
    for user in (USER, other):
        await telegram.service.commands.set_consent("telegram", str(user), True)
    telegram.fake.fail_next("sendMessage", retry_after=8)
    telegram.fake.user_text("/help", user_id=USER)  # its answer meets the 429 and waits 8 s
    await telegram.until(lambda: bool(telegram.fake.calls_to("sendMessage")))
    telegram.fake.user_text("my exams went badly", user_id=other)
    await telegram.until(lambda: SAFE_REPLY in telegram.bot_texts(other))
    assert telegram.bot_texts(USER) == []  # still waiting, and the other chat did not queue
    await telegram.until(lambda: bool(telegram.bot_texts(USER)))


async def test_quick_messages_of_one_chat_are_taken_in_order(telegram: Running) -> None:
    await consent(telegram)
    sent = [f"part {n} of what happened" for n in range(6)]
    for text in sent:
        telegram.fake.user_text(text, user_id=USER)

    def stored() -> list[str]:
        with telegram.service.store.engine.connect() as connection:
            query = select(Message.text).where(Message.role == "user").order_by(Message.id)
            return list(connection.scalars(query))

    await telegram.until(lambda: len(stored()) == len(sent))
    assert stored() == sent


async def test_no_reply_before_consent_and_a_crisis_gets_resources_at_once(
    telegram: Running,
) -> None:
    telegram.fake.user_text("I want to end my life", user_id=USER)
    await telegram.until(lambda: any("988" in text for text in telegram.bot_texts()))
    assert SAFE_REPLY not in telegram.bot_texts()
    assert telegram.count(Message) == 0


async def test_forget_deletes_everything_after_confirming(telegram: Running) -> None:
    await consent(telegram)
    telegram.fake.user_text("work is crushing me", user_id=USER)
    await telegram.until(lambda: SAFE_REPLY in telegram.bot_texts())
    telegram.fake.user_text("/forget", user_id=USER)
    await telegram.until(lambda: telegram.last_buttons()[1] == ["forget:yes", "forget:no"])
    telegram.fake.press_button(USER, telegram.last_buttons()[0], "forget:yes")
    await telegram.until(lambda: telegram.count(User) == 0)
    assert telegram.count(Message) == 0


async def test_a_failure_inside_the_bot_gets_an_honest_reply_not_silence(
    telegram: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    async def database_down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(telegram.service.commands, "user", database_down)
    telegram.fake.user_text("I need to talk to someone", user_id=USER)
    await telegram.until(lambda: bool(telegram.bot_texts()))
    said = telegram.bot_texts()[0]
    assert said.startswith(TEXTS["en"]["failed_here"])
    assert "988" in said  # the crisis lines come along: they need no database
    assert "I need to talk" not in said


async def test_stickers_get_a_kind_reply(telegram: Running) -> None:
    telegram.fake.sticker("😢", user_id=USER) if _takes_user(telegram.fake.sticker) else (
        telegram.fake.sticker("😢")
    )
    await telegram.until(lambda: TEXTS["en"]["not_text"] in telegram.bot_texts())


async def test_groups_answer_only_when_addressed(telegram: Running) -> None:
    group = -1001234567890
    telegram.fake.group_text("hello everyone", chat_id=group, user_id=USER)
    telegram.fake.group_text("/resources", chat_id=group, user_id=USER, mention=True)
    await telegram.until(lambda: any("988" in t for t in telegram.bot_texts(group)))
    texts = telegram.bot_texts(group)
    assert texts[0] == TEXTS["en"]["group_hint"]
    assert len(texts) == 2  # the unaddressed message got nothing


async def test_the_welcome_follows_the_client_language(telegram: Running) -> None:
    telegram.fake.user(7, language_code="zh-hans")
    telegram.fake.private_chat(7)
    telegram.fake.user_text("/start", user_id=7)
    await telegram.until(lambda: bool(telegram.bot_texts(7)))
    assert telegram.bot_texts(7)[0].startswith("你好，我是SoulChat")


def _takes_user(function: Any) -> bool:
    import inspect

    return "user_id" in inspect.signature(function).parameters


def test_the_token_comes_from_settings_or_a_secret_file(tmp_path: Any) -> None:
    from bots.telegram.runner import read_token
    from soulchat.config import ConfigError, TelegramSettings

    token = "123456:ABC-secret"
    assert read_token(TelegramSettings(token=token)) == token  # type: ignore[arg-type]
    secret = tmp_path / "token"
    secret.write_text(token + "\n")
    assert read_token(TelegramSettings(token_file=str(secret))) == token
    with pytest.raises(ConfigError, match="no Telegram bot token"):
        read_token(TelegramSettings())
    with pytest.raises(ConfigError) as bad:
        read_token(TelegramSettings(token="not-a-token-secretpart"))  # type: ignore[arg-type]
    assert "secretpart" not in str(bad.value)
    with pytest.raises(ConfigError, match="webhook"):
        read_token(TelegramSettings(token=token, mode="webhook"))  # type: ignore[arg-type]


async def test_a_storm_of_429s_still_delivers_the_final_text(telegram: Running) -> None:
    await consent(telegram)
    telegram.fake.fail_next("sendMessage", times=3, retry_after=1)
    telegram.fake.fail_next("editMessageText", times=3, retry_after=1)
    telegram.fake.user_text("nobody listens to me", user_id=USER)
    await telegram.until(lambda: SAFE_REPLY in telegram.bot_texts(), timeout=40)
    assert [c.status for c in telegram.fake.calls_to("sendMessage")].count(429) == 3
    assert telegram.bot_texts().count(SAFE_REPLY) == 1


async def test_only_allowed_users_are_served(
    make_settings: Callable[..., Settings],
) -> None:
    with FakeTelegramServer() as fake:
        for user in (1, 2):
            fake.user(user, language_code="en")
            fake.private_chat(user)
        settings = make_settings(telegram={"base_url": fake.base_url, "allowed_user_ids": [1]})
        async with open_runtime(
            settings, embedded_worker=True, backend=ScriptedBackend()
        ) as runtime:
            svc = runtime.service
            stop = asyncio.Event()
            task = asyncio.create_task(run(runtime, fake.token, stop))
            running = Running(fake, svc)
            fake.user_text("/start", user_id=2)
            fake.user_text("/start", user_id=1)
            await running.until(lambda: bool(fake.bot_texts(1)) and bool(fake.bot_texts(2)))
            stop.set()
            await asyncio.wait_for(task, 20)
        assert "only open to invited users" in fake.bot_texts(2)[0]
        assert fake.bot_texts(1)[0].startswith("Hi, I'm SoulChat")
        assert running.count(User) == 1


async def test_webhook_mode_receives_updates_and_refuses_a_wrong_secret(
    make_settings: Callable[..., Settings],
) -> None:
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeTelegramServer() as fake:
        fake.user(USER, language_code="en")
        fake.private_chat(USER)
        settings = make_settings(
            telegram={
                "base_url": fake.base_url,
                "mode": "webhook",
                "listen": "127.0.0.1",
                "port": port,
                "webhook_url": f"http://127.0.0.1:{port}/",
                "webhook_secret": "s3cret-token",
            }
        )
        async with open_runtime(
            settings, embedded_worker=True, backend=ScriptedBackend()
        ) as runtime:
            svc = runtime.service
            stop = asyncio.Event()
            task = asyncio.create_task(run(runtime, fake.token, stop))
            running = Running(fake, svc)
            await running.until(lambda: bool(fake.calls_to("setWebhook")))
            fake.user_text("/start", user_id=USER)
            await running.until(lambda: bool(fake.bot_texts(USER)))
            forged = urllib.request.Request(
                f"http://127.0.0.1:{port}/",
                data=b'{"update_id": 999999, "message": {}}',
                headers={"Content-Type": "application/json"},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                await asyncio.to_thread(urllib.request.urlopen, forged, timeout=5)
            assert refused.value.code == 403
            stop.set()
            await asyncio.wait_for(task, 20)
        assert fake.bot_texts(USER)[0].startswith("Hi, I'm SoulChat")
        assert fake.webhook_deliveries


async def test_an_edited_message_is_answered_as_new_words(telegram: Running) -> None:
    await consent(telegram)
    sent = telegram.fake.user_text("I feel bad", user_id=USER)
    await telegram.until(lambda: telegram.bot_texts().count(SAFE_REPLY) == 1)
    message_id = sent["message"]["message_id"]
    telegram.fake.edit_user_message(USER, message_id, "I feel really bad, actually")
    await telegram.until(lambda: telegram.bot_texts().count(SAFE_REPLY) == 2)
    with telegram.service.store.engine.connect() as connection:
        texts = connection.scalars(select(Message.text).where(Message.role == "user")).all()
    assert texts == ["I feel bad", "I feel really bad, actually"]
    telegram.fake.channel_post("news for everyone")  # ignored: the bot is not for channels
    await asyncio.sleep(0.5)
    assert not telegram.fake.bot_texts(-1009876543210)


@pytest.mark.redis
@pytest.mark.postgres
async def test_the_production_path_redis_queue_and_postgresql(
    make_settings: Callable[..., Settings], redis_url: str, postgres_url: str
) -> None:
    with FakeTelegramServer() as fake:
        fake.user(USER, language_code="en")
        fake.private_chat(USER)
        settings = make_settings(
            telegram={"base_url": fake.base_url},
            queue={"broker_url": redis_url},
            database={"url": postgres_url},
        )
        async with open_runtime(
            settings, embedded_worker=True, backend=ScriptedBackend()
        ) as runtime:
            svc = runtime.service
            stop = asyncio.Event()
            task = asyncio.create_task(run(runtime, fake.token, stop))
            running = Running(fake, svc)
            try:
                await consent(running)
                fake.user_text("I have nobody to talk to", user_id=USER)
                await running.until(lambda: SAFE_REPLY in fake.bot_texts(USER))
                assert svc.store.engine.dialect.name == "postgresql"
                assert running.count(Message) == 2
            finally:
                stop.set()
                await asyncio.wait_for(task, 20)


@pytest.mark.redis
@pytest.mark.slow
async def test_a_worker_killed_mid_reply_still_gives_exactly_one_reply(
    redis_url: str, tmp_path: Any
) -> None:
    from inference.backends.fake import FAKE_REPLY
    from tests.inference.test_queue_redis import Worker, _settings

    settings = _settings(
        redis_url, tmp_path, visibility_timeout_s=6, task_time_limit_s=5, task_soft_time_limit_s=4
    ).model_copy()
    settings.model.fake_latency_ms = 3000
    settings.model.fake_tokens = 30
    # Redelivery needs the visibility timeout plus a new worker's start-up, which a busy CI
    # machine stretches: the turn may wait for it (what is tested is one reply, not speed).
    settings.queue.reply_deadline_s = 90
    workers = [Worker(settings, tmp_path / "first.log")]
    with FakeTelegramServer() as fake:
        fake.user(USER, language_code="en")
        fake.private_chat(USER)
        settings.telegram.base_url = fake.base_url
        try:
            async with open_runtime(settings, embedded_worker=False) as runtime:
                service = runtime.service
                stop = asyncio.Event()
                task = asyncio.create_task(run(runtime, fake.token, stop))
                running = Running(fake, service)
                try:
                    await service.commands.set_consent("telegram", str(USER), True)
                    fake.user_text("I can't stop crying", user_id=USER)
                    await running.until(lambda: bool(fake.drafts), timeout=30)  # mid-reply
                    workers[0].kill()
                    workers.append(Worker(settings, tmp_path / "second.log"))
                    await running.until(lambda: FAKE_REPLY in fake.bot_texts(USER), timeout=90)
                    await asyncio.sleep(2)  # a second answer would arrive now
                    assert fake.bot_texts(USER).count(FAKE_REPLY) == 1
                    with service.store.engine.connect() as connection:
                        answers = select(func.count()).where(Message.role == "assistant")
                        assert connection.scalar(answers.select_from(Message)) == 1
                finally:
                    stop.set()
                    await asyncio.wait_for(task, 20)
        finally:
            for worker in workers:
                worker.stop()
