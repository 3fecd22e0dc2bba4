"""A turn writes to the sink of the message that started it, whatever arrives meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from bots.conversation import Inbound
from bots.reply_writer import PREVIEW_SUFFIX, ReplyWriter
from bots.runtime import open_service
from soulchat.config import Settings
from tests.bots.conversation.test_service import SAFE_REPLY, ScriptedBackend
from tests.waiting import HANG_S


@dataclass
class GroupChat:
    """A chat where previews are edits of one message (a Telegram group, a Discord thread)."""

    messages: dict[str, str] = field(default_factory=dict)

    async def send(self, text: str) -> str:
        message_id = str(len(self.messages) + 1)
        self.messages[message_id] = text
        return message_id

    async def edit(self, message_id: str, text: str) -> None:
        self.messages[message_id] = text

    async def draft(self, text: str) -> bool:
        return False

    async def typing(self) -> None:
        pass


async def _until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), HANG_S)


async def test_a_follow_up_after_the_first_preview_leaves_no_orphaned_preview(
    make_settings: Callable[..., Settings],
) -> None:
    backend = ScriptedBackend()
    chat = GroupChat()

    def writer() -> ReplyWriter:
        return ReplyWriter(chat, limit=4096, min_interval_s=0.0)

    async with open_service(make_settings(), embedded_worker=True, backend=backend) as service:
        backend.hold_midway()
        try:
            await service.receive(
                Inbound("test", "ana", "work was long today", locale="en"), writer()
            )
            await _until(lambda: any(t.endswith(PREVIEW_SUFFIX) for t in chat.messages.values()))
            await service.receive(
                Inbound("test", "ana", "the train was late again", locale="en"), writer()
            )
        finally:
            backend.release()
        await asyncio.wait_for(service.wait_idle("test", "ana"), HANG_S)
    replies = [text for text in chat.messages.values() if not text.startswith("Hi, I'm")]
    assert replies == [SAFE_REPLY, SAFE_REPLY]  # each reply in exactly one message
