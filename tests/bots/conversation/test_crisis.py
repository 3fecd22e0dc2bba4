"""Safe replies: the vetted crisis reply, crisis contacts with every reply while at risk, the
crisis path without a model, AI disclosure, "are you a human?" and /human."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from bots.conversation import ConversationService
from bots.runtime import open_service
from bots.texts import TEXTS
from safety.audit import AuditLog
from soulchat.config import Settings
from soulchat.store.models import utcnow
from tests.bots.conversation.test_service import FlakyBackend, RecordingSink, ScriptedBackend, _say
from tests.bots.test_frontdesk import Screen, front_desk, write

IMMINENT = "I've taken 40 of my sleeping pills, goodbye"
HIGH = "I have a plan to kill myself"


@pytest.fixture
async def service(make_settings: Callable[..., Settings]) -> AsyncIterator[ConversationService]:
    async with open_service(make_settings(), embedded_worker=True, backend=ScriptedBackend()) as s:
        yield s


def notices_after_disclosure(sink: RecordingSink) -> list[str]:
    return sink.of("notice")


async def test_imminent_risk_gets_the_vetted_reply_first_with_the_emergency_number_first(
    make_settings: Callable[..., Settings],
) -> None:
    backend = ScriptedBackend()
    sink = RecordingSink()
    async with open_service(make_settings(), embedded_worker=True, backend=backend) as service:
        await _say(service, sink, IMMINENT)
    kinds = [kind for kind, _ in sink.events if kind in ("notice", "final")]
    vetted = notices_after_disclosure(sink)[0]
    assert kinds.index("notice") < kinds.index("final")
    assert "Are you safe right now?" in vetted
    assert "medical help" in vetted  # an overdose needs a doctor whatever the intent
    assert vetted.index("911") < vetted.index("988")  # emergency first at tier 4
    assert "I'm here with you" in vetted
    system_prompt = backend.prompts[-1].messages[0]["content"]
    assert "already been sent" in system_prompt  # the model speaks only under the crisis prompt


async def test_every_reply_carries_the_contacts_while_at_risk(service: ConversationService) -> None:
    sink = RecordingSink()
    await _say(service, sink, HIGH)
    first_turn = len(notices_after_disclosure(sink))
    assert first_turn == 1  # the vetted reply; no footer on top of it
    await _say(service, sink, "I don't know what to say")
    footer = notices_after_disclosure(sink)[-1]
    assert footer.startswith("If you need someone now") and "988" in footer
    kinds = [kind for kind, _ in sink.events]
    assert kinds[-1] == "notice" and "final" in kinds[-2:]


async def test_the_full_crisis_message_is_not_repeated_for_the_same_risk(
    service: ConversationService,
) -> None:
    sink = RecordingSink()
    await _say(service, sink, HIGH)
    await _say(service, sink, HIGH)
    vetted = [text for text in sink.of("notice") if "Are you safe right now?" in text]
    assert len(vetted) == 1
    await _say(service, sink, IMMINENT)  # the risk rises: the vetted reply comes again
    vetted = [text for text in sink.of("notice") if "Are you safe right now?" in text]
    assert len(vetted) == 2


async def test_the_crisis_path_works_with_the_model_down(
    make_settings: Callable[..., Settings],
) -> None:
    sink = RecordingSink()
    settings = make_settings(queue={"max_retries": 1, "retry_backoff_max_s": 1})
    async with open_service(settings, embedded_worker=True, backend=FlakyBackend()) as service:
        await _say(service, sink, IMMINENT)
    notices = notices_after_disclosure(sink)
    assert "Are you safe right now?" in notices[0] and "911" in notices[0]
    assert TEXTS["en"]["unavailable"] in notices
    assert not sink.of("final")


async def test_the_audit_log_records_detection_and_resources(
    service: ConversationService,
) -> None:
    sink = RecordingSink()
    await _say(service, sink, IMMINENT)
    await _say(service, sink, "ok")
    log = AuditLog(service.store.engine)
    events = [(entry.event, entry.tier) for entry in log.entries()]
    assert ("detected", 4) in events
    assert [e for e, _ in events].count("resources_shown") == 2  # vetted reply, then footer
    assert log.verify().ok
    assert all(entry.subject.startswith("conversation:") for entry in log.entries())


async def test_the_ai_disclosure_comes_first_and_again_after_three_hours(
    service: ConversationService,
) -> None:
    sink = RecordingSink()
    await _say(service, sink, "hello")
    await _say(service, sink, "how are you")
    assert sink.of("disclosure") == [TEXTS["en"]["disclaimer"]]
    assert sink.events[0] == ("disclosure", TEXTS["en"]["disclaimer"])
    user = await service.commands.user("test", "ana")
    service.store.mark_ai_disclosed(user.id, utcnow() - timedelta(hours=3, minutes=1))
    service.states.evict_idle(idle_s=-1)  # as after a restart: the time is read back from the store
    await _say(service, sink, "still here")
    assert len(sink.of("disclosure")) == 2


async def test_are_you_a_human_is_answered_truthfully(service: ConversationService) -> None:
    for question in ("are you a real person?", "你是真人吗"):
        sink = RecordingSink()
        await _say(service, sink, question, user=question)
        assert any("not a human" in text or "不是真人" in text for text in sink.of("notice"))


async def test_a_model_that_claims_to_be_human_is_replaced(
    make_settings: Callable[..., Settings],
) -> None:
    sink = RecordingSink()
    backend = ScriptedBackend(reply="Yes, I'm a real person, not a bot. How can I help?")
    async with open_service(make_settings(), embedded_worker=True, backend=backend) as service:
        await _say(service, sink, "are you human?")
    assert sink.of("replaced") and not sink.of("final")


async def test_human_without_operators_is_an_honest_answer_with_the_lines(
    make_settings: Callable[..., Settings],
) -> None:
    async with open_service(
        make_settings(), embedded_worker=True, backend=ScriptedBackend()
    ) as service:
        desk = front_desk(service)
        screen = Screen()
        await write(desk, screen, "/human")  # before consent: an answer, nothing stored
        assert "no human volunteer" in screen.notices[-1].text
        assert "988" in screen.notices[-1].text
        await desk.action("ana", "consent:yes", send=screen.send)
        await write(desk, screen, "/human")
        assert "no human volunteer" in screen.notices[-1].text
        events = [entry.event for entry in AuditLog(service.store.engine).entries()]
        assert events == ["human_requested"]
    await asyncio.sleep(0)
