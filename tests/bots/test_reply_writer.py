"""The streaming reply writer: throttled progress, final text always delivered, long replies
split, rate limits waited out."""

from __future__ import annotations

import asyncio

import pytest

from bots.reply_writer import NotModified, RateLimited, ReplyWriter


class Chat:
    """A chat as a platform keeps it: messages by id, with scripted rate limits."""

    def __init__(self, *, drafts: bool = False, limit_next: int = 0, retry_after: float = 0.01):
        self.messages: dict[str, str] = {}
        self.drafts: list[str] = []
        self.calls: list[str] = []
        self.has_drafts = drafts
        self.limit_next = limit_next
        self.retry_after = retry_after

    def _maybe_limit(self, method: str) -> None:
        self.calls.append(method)
        if self.limit_next:
            self.limit_next -= 1
            raise RateLimited(self.retry_after)

    async def send(self, text: str) -> str:
        self._maybe_limit("send")
        message_id = str(len(self.messages) + 1)
        self.messages[message_id] = text
        return message_id

    async def edit(self, message_id: str, text: str) -> None:
        self._maybe_limit("edit")
        if self.messages[message_id] == text:
            raise NotModified()
        self.messages[message_id] = text

    async def draft(self, text: str) -> bool:
        if not self.has_drafts:
            return False
        self._maybe_limit("draft")
        self.drafts.append(text)
        return True

    async def typing(self) -> None:
        self._maybe_limit("typing")


async def test_progress_edits_one_message_that_becomes_the_final_reply() -> None:
    chat = Chat()
    writer = ReplyWriter(chat, limit=4096, min_interval_s=0)
    await writer.reply_progress("I hear")
    await writer.reply_progress("I hear you.")
    await writer.reply_final("I hear you. Tell me more?", replaced=False)
    assert chat.messages == {"1": "I hear you. Tell me more?"}
    assert chat.calls == ["send", "edit", "edit"]


async def test_progress_is_throttled_and_a_quick_reply_is_one_message() -> None:
    chat = Chat()
    writer = ReplyWriter(chat, limit=4096, min_interval_s=0.2)
    for index in range(5):  # within the first interval: no preview at all
        await writer.reply_progress("word " * index + "word")
    assert chat.calls == []
    await asyncio.sleep(0.25)
    for index in range(20):
        await writer.reply_progress("word " * index + "word")
    assert chat.calls == ["send"]
    await writer.reply_final("word word", replaced=False)
    assert chat.calls == ["send", "edit"]


async def test_drafts_are_used_where_the_chat_has_them() -> None:
    chat = Chat(drafts=True)
    writer = ReplyWriter(chat, limit=4096, min_interval_s=0)
    await writer.reply_progress("I hear")
    await writer.reply_final("I hear you.", replaced=False)
    assert chat.drafts == ["I hear …"]
    assert chat.messages == {"1": "I hear you."}


async def test_final_text_survives_a_storm_of_rate_limits() -> None:
    chat = Chat(limit_next=5)
    writer = ReplyWriter(chat, limit=4096, min_interval_s=0)
    await writer.reply_progress("partial")  # skipped: rate limited
    await writer.reply_final("The whole reply.", replaced=False)
    assert list(chat.messages.values()) == ["The whole reply."]


async def test_giving_up_raises_rather_than_going_silent() -> None:
    chat = Chat(limit_next=100, retry_after=10)
    writer = ReplyWriter(chat, limit=4096, give_up_s=1)
    with pytest.raises(RateLimited):
        await writer.reply_final("text", replaced=False)


async def test_long_replies_are_split_and_previews_fit() -> None:
    chat = Chat()
    writer = ReplyWriter(chat, limit=50, min_interval_s=0)
    long = " ".join(f"Sentence number {i}." for i in range(20))
    await writer.reply_progress(long)
    assert len(chat.messages["1"]) <= 50 and chat.messages["1"].endswith("…")
    await writer.reply_final(long, replaced=False)
    parts = [chat.messages[key] for key in sorted(chat.messages, key=int)]
    assert all(len(part) <= 50 for part in parts)
    assert " ".join(parts) == long


async def test_an_unchanged_final_edit_counts_as_delivered() -> None:
    chat = Chat()
    writer = ReplyWriter(chat, limit=4096, min_interval_s=0)
    chat.messages["1"] = "Same."
    writer._progress_id = "1"
    await writer.reply_final("Same.", replaced=False)
    assert chat.messages == {"1": "Same."}
