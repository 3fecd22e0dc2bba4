"""Two bot processes behind one webhook and a load balancer that spreads Telegram's calls
between them: each chat is still answered by one process, and nothing a person said is lost
on the way (words held until consent included)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bots.conversation import ConversationService
from bots.runtime import open_runtime
from bots.telegram.app import run
from bots.texts import TEXTS
from soulchat.config import Settings
from tests.bots.conversation.test_service import SAFE_REPLY, ScriptedBackend
from tests.bots.telegram.test_app import USER, Running
from tests.fakes.telegram_api import FakeTelegramServer

pytestmark = pytest.mark.redis
SECRET = "lb-secret-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RoundRobin:
    """A load balancer on loopback: each POST goes to the next backend, headers and all."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.sent = [0] * len(backends)
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                index = sum(balancer.sent) % len(balancer.backends)
                balancer.sent[index] += 1
                request = urllib.request.Request(
                    balancer.backends[index],
                    data=body,
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        status, payload = answer.status, answer.read()
                except urllib.error.HTTPError as error:
                    status, payload = error.code, error.read()
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.asynccontextmanager
async def bot_process(
    settings: Settings, fake: FakeTelegramServer, *, with_worker: bool
) -> AsyncIterator[ConversationService]:
    # One worker serves both: two Celery workers embedded in one test process share Celery's
    # process-wide state, which separate bot processes never do.
    async with open_runtime(
        settings, embedded_worker=with_worker, backend=ScriptedBackend()
    ) as runtime:
        service = runtime.service
        stop = asyncio.Event()
        task = asyncio.create_task(run(runtime, fake.token, stop))
        try:
            yield service
        finally:
            stop.set()
            await asyncio.wait_for(task, 20)


async def test_each_chat_is_answered_by_one_process_and_nothing_is_lost(
    make_settings: Callable[..., Settings], redis_url: str
) -> None:
    ports = [free_port(), free_port()]
    balancer = RoundRobin([f"http://127.0.0.1:{port}/" for port in ports])
    try:
        with FakeTelegramServer() as fake:
            fake.user(USER, language_code="en")
            fake.private_chat(USER)

            def settings_for(port: int) -> Settings:
                return make_settings(
                    queue={"broker_url": redis_url},
                    telegram={
                        "base_url": fake.base_url,
                        "mode": "webhook",
                        "listen": "127.0.0.1",
                        "port": port,
                        "webhook_url": balancer.url,
                        "webhook_secret": SECRET,
                    },
                )

            async with (
                bot_process(settings_for(ports[0]), fake, with_worker=True) as first,
                bot_process(settings_for(ports[1]), fake, with_worker=False) as second,
            ):
                running = Running(fake, first)
                await running.until(lambda: len(fake.calls_to("setWebhook")) == 2)
                fake.user_text("/start", user_id=USER)  # -> first, which takes the chat
                await running.until(lambda: bool(fake.bot_texts(USER)))
                fake.user_text("I haven't slept in days", user_id=USER)  # -> second, forwarded
                # Held until consent; the owner asks again for it.
                await running.until(lambda: len(fake.bot_texts(USER)) == 2)
                message_id, _ = running.last_buttons()
                fake.press_button(USER, message_id, "consent:yes")  # -> first
                await running.until(lambda: SAFE_REPLY in fake.bot_texts(USER))
                fake.user_text("and work is too much", user_id=USER)  # -> second, forwarded
                await running.until(lambda: fake.bot_texts(USER).count(SAFE_REPLY) == 2)
        texts = fake.bot_texts(USER)
        assert TEXTS["en"]["consent_given"] in texts
        assert min(balancer.sent) >= 2  # both processes received the user's updates
        # The held words were answered once, after consent; each message got one reply.
        assert texts.count(SAFE_REPLY) == 2
        key = ("telegram", str(USER))
        assert [first.states.get(*key) is not None, second.states.get(*key) is not None].count(
            True
        ) == 1
    finally:
        balancer.close()


async def test_a_dead_process_loses_its_chats_and_waiting_updates(redis_url: str) -> None:
    from bots.telegram.affinity import ChatAffinity

    received: dict[str, list[Any]] = {"a": [], "b": []}

    def collector(name: str) -> Callable[[dict[str, Any]], Any]:
        async def deliver(update: dict[str, Any]) -> None:
            received[name].append(update["update_id"])

        return deliver

    a, b = ChatAffinity(redis_url), ChatAffinity(redis_url)
    await a.start(collector("a"))
    await b.start(collector("b"))
    try:
        assert await a.owner_elsewhere(5) is None  # free: a takes it
        owner = await b.owner_elsewhere(5)
        assert owner == a.process_id
        await b.forward(owner, {"update_id": 1})
        for _ in range(200):
            if received["a"]:
                break
            await asyncio.sleep(0.02)
        assert received["a"] == [1]
        await a.stop()  # a goes away with an update still on its way to it
        await b.forward(owner, {"update_id": 2})
        assert await b.owner_elsewhere(5) is None  # b takes the chat over ...
        assert received["b"] == [2]  # ... and what was waiting for a
    finally:
        await b.stop()
