"""A conversation's risk in the service: built up over several messages, kept across /reset,
and raised (never lowered, never waited for) by the optional LLM guard."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from bots.conversation import ConversationService
from bots.conversation.screening import SCREEN_BACKLOG
from bots.runtime import open_service
from safety import SafetyPolicy
from safety.screen import LexiconScreen, RiskScreen
from safety.semantic import DIM, SemanticHead, SemanticScreen
from soulchat.config import Settings
from soulchat.store.models import SafetyEvent
from tests.bots.conversation.test_service import RecordingSink, ScriptedBackend, _say
from tests.fakes.tgi_server import FakeTGIServer
from tests.waiting import HANG_S

GUARD_SAYS_IMMINENT = '{"tier": 4, "categories": ["suicide"]}'


def _events(service: ConversationService) -> list[tuple[str, int]]:
    with service.store.engine.connect() as connection:
        rows = connection.execute(select(SafetyEvent.kind, SafetyEvent.tier)).all()
    return [(kind, tier) for kind, tier in rows]


async def _until(condition: Callable[[], bool], timeout: float = HANG_S) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_risk_spread_over_messages_gets_the_crisis_lines(
    make_settings: Callable[..., Settings],
) -> None:
    sink = RecordingSink()
    settings = make_settings(safety={"use_classifier": False, "use_semantic": False})
    async with open_service(settings, embedded_worker=True, backend=ScriptedBackend()) as service:
        await _say(service, sink, "I've got a bottle of sleeping pills next to me")
        assert not any("988" in text for text in sink.of("notice"))
        await _say(service, sink, "goodbye everyone, I'm sorry for everything")
        assert any("988" in text for text in sink.of("notice"))
        assert max(tier for kind, tier in _events(service) if kind == "inbound_risk") >= 2


async def test_a_reset_does_not_clear_a_disclosed_plan(
    make_settings: Callable[..., Settings],
) -> None:
    backend = ScriptedBackend()
    sink = RecordingSink()
    async with open_service(make_settings(), embedded_worker=True, backend=backend) as service:
        await _say(service, sink, "I'm going to take all my pills tonight")
        await service.commands.reset("test", "ana")
        await _say(service, sink, "just kidding, how are you?")
    system_prompt = backend.prompts[-1].messages[0]["content"]
    assert "crisis line" in system_prompt


async def test_the_guard_raises_the_risk_after_the_first_answer(
    make_settings: Callable[..., Settings],
) -> None:
    sink = RecordingSink()
    with FakeTGIServer(reply_text=GUARD_SAYS_IMMINENT) as guard_server:
        guard_server.hang_next(1.0)  # a slow guard must not hold the reply back
        settings = make_settings(safety={"guard_url": guard_server.url, "guard_timeout_s": 5})
        async with open_service(
            settings, embedded_worker=True, backend=ScriptedBackend()
        ) as service:
            # Nothing the screens can see: only the (fake) guard says "imminent".
            await _say(service, sink, "what are you up to this weekend?")
            await _until(lambda: any("988" in text for text in sink.of("notice")))
            kinds = [kind for kind, _ in sink.events if kind in ("final", "notice")]
            assert kinds.index("final") < kinds.index("notice")
            assert ("guard_risk", 4) in _events(service)
            # The guard's tier holds for the next turn: the model gets the safety prompt.
            await _say(service, sink, "anyway")
    assert len(guard_server.exchanges) == 2


async def test_a_guard_that_is_down_changes_nothing(
    make_settings: Callable[..., Settings],
) -> None:
    sink = RecordingSink()
    with FakeTGIServer(reply_text=GUARD_SAYS_IMMINENT) as guard_server:
        guard_server.fail_next(503, count=5)
        settings = make_settings(safety={"guard_url": guard_server.url})
        async with open_service(
            settings, embedded_worker=True, backend=ScriptedBackend()
        ) as service:
            await _say(service, sink, "hello, I had a long day at work")
            await _until(lambda: len(guard_server.exchanges) >= 1)
            await asyncio.sleep(0.2)
            assert sink.of("final")
            assert not sink.of("notice")
            assert _events(service) == []


class _HeldEncoder:
    """An encoder that answers only when released: a semantic layer that is still busy."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        assert self.release.wait(10)
        return np.ones((len(texts), DIM), dtype=np.float32) / np.sqrt(DIM)


async def test_a_flood_gets_the_fast_screen_at_once_instead_of_a_queue(
    make_settings: Callable[..., Settings],
) -> None:
    encoder = _HeldEncoder()
    head = SemanticHead.load()
    always_imminent = replace(head, tier_thresholds=np.zeros(4, dtype=np.float32))
    async with open_service(
        make_settings(), embedded_worker=True, backend=ScriptedBackend()
    ) as service:
        service.screener.safety = SafetyPolicy(
            screen=RiskScreen(LexiconScreen(), None, SemanticScreen(always_imminent, encoder))
        )
        waiting = [
            asyncio.create_task(service.screen([f"message {n}"])) for n in range(SCREEN_BACKLOG)
        ]
        await asyncio.sleep(0.1)
        assert not any(task.done() for task in waiting)
        shed = await asyncio.wait_for(service.screen(["I took 40 pills an hour ago"]), HANG_S)
        assert shed.tier == 4 and not any(s.startswith("sem.") for s in shed.signals)
        assert service.semantic_shed == 1
        encoder.release.set()
        screened = await asyncio.gather(*waiting)
        assert all("sem.t4" in found.signals for found in screened)
        assert (await service.screen(["one more"])).tier == 4  # the backlog is gone
