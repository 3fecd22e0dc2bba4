"""The fake Bot API server, driven only through python-telegram-bot's real Bot and
Application over loopback HTTP: if PTB is happy with it, the adapter's tests can trust it."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, InvalidToken, RetryAfter
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import BOT_ID, FakeTelegramServer, RateLimits

# PTB 22 itself warns, while building RetryAfter, that retry_after becomes a timedelta later.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Deprecated since version v22.2:telegram.warnings.PTBDeprecationWarning"
)

USER = 42
GROUP = -1001234567890


@pytest.fixture
def fake() -> Iterator[FakeTelegramServer]:
    with FakeTelegramServer() as server:
        server.private_chat(USER)
        yield server


@pytest.fixture
async def bot(fake: FakeTelegramServer) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


def _seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# -- basics -----------------------------------------------------------------------------------
async def test_get_me(bot: Bot, fake: FakeTelegramServer) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (BOT_ID, fake.bot_username, True)
    assert fake.calls[0].method == "getMe"  # Bot.initialize() asked first


async def test_unknown_token_is_invalid_token(fake: FakeTelegramServer) -> None:
    wrong = "987654321:" + "A" * 35
    for token in (wrong, "nonsense"):
        with pytest.raises(InvalidToken, match="rejected by the server"):
            async with Bot(token, base_url=fake.base_url):  # initialize() calls getMe
                pass
    # 401 for a well-formed unknown token, 404 for a malformed one, as api.telegram.org does.
    assert fake.rejected_tokens == [(wrong, 401), ("nonsense", 404)]


async def test_send_message_is_logged_per_chat(bot: Bot, fake: FakeTelegramServer) -> None:
    sent = await bot.send_message(USER, "  你好，我在。  ")
    assert sent.text == "你好，我在。"  # Telegram trims surrounding whitespace
    assert sent.from_user is not None and sent.from_user.id == BOT_ID
    assert sent.chat.type == "private"
    assert fake.bot_texts(USER) == ["你好，我在。"]
    log = fake.chat_log(USER)
    assert [c.method for c in log] == ["sendMessage"]
    assert log[0].params["text"] == "  你好，我在。  " and log[0].status == 200


async def test_unknown_chat_and_blocked_user(bot: Bot, fake: FakeTelegramServer) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):  # PTB capitalises the description
        await bot.send_message(777, "hi")
    fake.block(USER)
    with pytest.raises(Exception, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")


async def test_text_length_limits(bot: Bot, fake: FakeTelegramServer) -> None:
    await bot.send_message(USER, "好" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(USER, "好" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(USER, " \n ")
    # The limit counts text after entity parsing: markup characters do not count.
    await bot.send_message(USER, "*" + "a" * 4096 + "*", parse_mode="MarkdownV2")
    assert fake.calls_to("sendMessage")[-1].error is None


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        ("Version 1.0", "MarkdownV2", "Character '.' is reserved"),
        ("好的!", "MarkdownV2", "Character '!' is reserved"),
        ("*bold", "MarkdownV2", "Can't find end of Bold entity at byte offset 0"),
        ("🏟 🏟_abac * asd ", "MarkdownV2", "Can't find end of Bold entity at byte offset 15"),
        ("[link](http://x", "MarkdownV2", "Can't find end of a URL"),
        ("<p>hi</p>", "HTML", 'Unsupported start tag "p" at byte offset 0'),
        ("<b>hi", "HTML", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>hi</i>", "HTML", 'Unmatched end tag at byte offset 5, expected "</b>"'),
        ("1 < 2", "HTML", "Unsupported start tag"),
        ("*bold", "Markdown", "Can't find end of the entity starting at byte offset 0"),
    ],
)
async def test_bad_markup_is_refused(
    bot: Bot, fake: FakeTelegramServer, text: str, mode: str, error: str
) -> None:
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(USER, text, parse_mode=mode)
    # PTB rewrites the description's case; the wire carries tdlib's words.
    description = fake.calls_to("sendMessage")[-1].error or ""
    assert description.startswith("Bad Request: can't parse entities: ")
    assert error in description


@pytest.mark.parametrize(
    ("text", "mode", "plain", "kinds"),
    [
        ("*粗体* and _it_ \\. \\!", "MarkdownV2", "粗体 and it . !", ["bold", "italic"]),
        (
            "__u__ ||s|| `a.b` [l](http://t.me)",
            "MarkdownV2",
            "u s a.b l",
            ["underline", "spoiler", "code", "text_link"],
        ),
        (">quoted\nplain", "MarkdownV2", "quoted\nplain", ["blockquote"]),
        ("<b>粗</b> &lt;3 <a href='http://t.me'>l</a>", "HTML", "粗 <3 l", ["bold", "text_link"]),
        ("*b* _i_", "Markdown", "b i", ["bold", "italic"]),
        ("2*3_x [a] <b> 1.0!", None, "2*3_x [a] <b> 1.0!", []),
    ],
)
async def test_good_markup_is_parsed(
    bot: Bot, text: str, mode: str | None, plain: str, kinds: list[str]
) -> None:
    sent = await bot.send_message(USER, text, parse_mode=mode)
    assert sent.text == plain
    assert [e.type for e in sent.entities] == kinds


# -- editing, deleting, chat actions ----------------------------------------------------------
async def test_edit_message_text(bot: Bot, fake: FakeTelegramServer) -> None:
    sent = await bot.send_message(USER, "I hear")
    edited = await bot.edit_message_text("I hear you", chat_id=USER, message_id=sent.message_id)
    assert isinstance(edited, type(sent)) and edited.text == "I hear you"
    assert edited.edit_date is not None
    assert fake.bot_texts(USER) == ["I hear you"]
    assert fake.message(USER, sent.message_id).history == ["I hear"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("I hear you", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.edit_message_text("x" * 4097, chat_id=USER, message_id=sent.message_id)


async def test_delete_message_and_chat_action(bot: Bot, fake: FakeTelegramServer) -> None:
    sent = await bot.send_message(USER, "oops")
    assert await bot.delete_message(USER, sent.message_id) is True
    assert fake.bot_texts(USER) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    assert await bot.send_chat_action(USER, "typing") is True
    assert fake.chat_actions == [(USER, "typing")]


async def test_send_message_draft(bot: Bot, fake: FakeTelegramServer) -> None:
    assert await bot.send_message_draft(USER, draft_id=7, text="I hear") is True
    assert await bot.send_message_draft(USER, draft_id=7, text="I hear you") is True
    assert [(d.chat_id, d.draft_id, d.text) for d in fake.drafts] == [
        (USER, 7, "I hear"),
        (USER, 7, "I hear you"),
    ]
    fake.group_chat(GROUP)
    with pytest.raises(BadRequest):
        await bot.send_message_draft(GROUP, draft_id=8, text="no drafts in groups")
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message_draft(USER, draft_id=7, text="1.0", parse_mode="MarkdownV2")


# -- rate limits ------------------------------------------------------------------------------
async def test_scripted_429_is_retry_after(bot: Bot, fake: FakeTelegramServer) -> None:
    fake.fail_next("sendMessage", times=1, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "hello")
    assert _seconds(caught.value) == 3
    assert fake.calls_to("sendMessage")[0].status == 429
    await bot.send_message(USER, "hello")  # only the scripted call failed
    assert fake.bot_texts(USER) == ["hello"]


async def test_per_chat_limit_is_counted_and_enforced(fake: FakeTelegramServer) -> None:
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        await bot.send_message(USER, "one")
        await bot.send_message(USER, "two")  # within the same second: a violation
        assert [v.rule for v in fake.violations] == ["1 message per second per chat"]
        assert fake.bot_texts(USER) == ["one", "two"]  # counted, not refused
        fake.rate_limits = RateLimits(enforce=True)
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(USER, "three")
        assert _seconds(caught.value) == 1
        assert len(fake.violations) == 2 and fake.bot_texts(USER) == ["one", "two"]


# -- updates ----------------------------------------------------------------------------------
async def test_get_updates_offset_and_long_poll(bot: Bot, fake: FakeTelegramServer) -> None:
    fake.user_text("/start")
    fake.sticker("😢")
    updates = await bot.get_updates()
    assert len(updates) == 2
    first, second = updates
    assert first.message is not None and first.message.text == "/start"
    assert first.message.entities[0].type == "bot_command"
    assert second.message is not None and second.message.sticker is not None
    assert second.message.sticker.emoji == "😢"
    assert len(await bot.get_updates()) == 2  # not confirmed yet
    offset = second.update_id + 1
    assert await bot.get_updates(offset=offset, timeout=1) == ()  # confirmed, then waited
    assert fake.pending_updates == []

    # A long poll is held until an update arrives, then answered at once: with a 30 s poll
    # timeout, an answer within the 20 s below can only be an answer on arrival.
    generation = fake._poll_generation
    poll = asyncio.create_task(bot.get_updates(offset=offset, timeout=30))
    while fake._poll_generation == generation:  # the server holds the request now
        await asyncio.sleep(0.01)
    assert not poll.done()
    fake.user_text("还在吗")
    woken = await asyncio.wait_for(poll, 20)
    assert woken[0].message is not None and woken[0].message.text == "还在吗"


async def test_every_update_kind_deserialises(bot: Bot, fake: FakeTelegramServer) -> None:
    own = await bot.send_message(USER, "pick one", reply_markup=_keyboard())
    fake.group_chat(GROUP)
    group_own = await bot.send_message(GROUP, "hi group")
    fake.group_text("anyone?", chat_id=GROUP)
    fake.group_text("help", chat_id=GROUP, mention=True)
    fake.group_text("thanks", chat_id=GROUP, reply_to=group_own.message_id)
    fake.press_button(USER, own.message_id, "calm")
    fake.photo(caption="look")
    voice_update = fake.voice(b"OggS-voice-bytes")
    fake.document(file_name="diary.txt")
    typed = fake.user_text("typo")
    fake.edit_user_message(USER, typed["message"]["message_id"], "fixed")
    fake.channel_post("news")
    updates = await bot.get_updates()
    kinds = [u.effective_message for u in updates]
    assert all(m is not None for m in kinds)
    plain, mention, reply, button, photo, voice, document, text, edited, post = updates
    assert plain.message is not None and plain.message.chat.type == "supergroup"
    assert mention.message is not None and mention.message.entities[0].type == "mention"
    assert mention.message.text == f"@{fake.bot_username} help"
    assert reply.message is not None and reply.message.reply_to_message is not None
    reply_from = reply.message.reply_to_message.from_user
    assert reply_from is not None and reply_from.id == BOT_ID
    assert button.callback_query is not None and button.callback_query.data == "calm"
    assert photo.message is not None and photo.message.photo[-1].width == 800
    assert photo.message.caption == "look"
    assert voice.message is not None and voice.message.voice is not None
    assert document.message is not None and document.message.document is not None
    assert document.message.document.file_name == "diary.txt"
    assert text.message is not None and text.message.text == "typo"
    assert edited.edited_message is not None and edited.edited_message.text == "fixed"
    assert post.channel_post is not None and post.channel_post.chat.type == "channel"
    # Voice notes can be fetched as the adapter would: getFile, then the file URL.
    voice_id = voice_update["message"]["voice"]["file_id"]
    file = await bot.get_file(voice_id)
    assert bytes(await file.download_as_bytearray()) == b"OggS-voice-bytes"


async def test_two_pollers_conflict(bot: Bot, fake: FakeTelegramServer) -> None:
    # A second bot instance polling with the same token ends the first one's long poll.
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(fake.token, base_url=fake.base_url) as other:
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


async def test_answer_callback_query(bot: Bot, fake: FakeTelegramServer) -> None:
    own = await bot.send_message(USER, "pick one", reply_markup=_keyboard())
    fake.press_button(USER, own.message_id, "calm")
    (update,) = await bot.get_updates()
    assert update.callback_query is not None
    assert await update.callback_query.answer("ok") is True
    assert [(a.text, a.show_alert) for a in fake.callback_answers] == [("ok", False)]
    with pytest.raises(BadRequest, match="Query is too old"):  # answered once only
        await update.callback_query.answer("again")
    with pytest.raises(ValueError):
        fake.press_button(USER, own.message_id, "not-a-button")


async def test_application_long_polling_round_trip(fake: FakeTelegramServer) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("noted")

    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(on_button))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        fake.user_text("我睡不着")
        await fake.async_wait_for_calls("sendMessage")
        await app.updater.stop()
        await app.stop()
    assert fake.bot_texts(USER) == ["echo: 我睡不着"]
    assert any(c.method == "deleteWebhook" for c in fake.calls)  # PTB's bootstrap
    assert fake.pending_updates == []  # PTB confirmed what it handled


# -- webhook ----------------------------------------------------------------------------------
class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, Any], str | None]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((body, self.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


async def test_webhook_round_trip(bot: Bot, fake: FakeTelegramServer) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    receiver = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=receiver.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        assert await bot.set_webhook(url, secret_token="s3cret_token") is True
        assert (await bot.get_webhook_info()).url == url
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        fake.user_text("via webhook")
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.01)
        body, secret = received[0]
        update = Update.de_json(body, bot)
        assert update.message is not None and update.message.text == "via webhook"
        assert secret == "s3cret_token"
        assert (await bot.get_webhook_info()).pending_update_count == 0
        assert await bot.delete_webhook() is True
        assert await bot.get_updates() == ()
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join()


def test_sync_use_and_clean_stop() -> None:
    before = threading.active_count()
    with FakeTelegramServer() as server:
        server.user_text("hi")
        assert server.pending_updates[0]["message"]["text"] == "hi"
        assert server.base_url.startswith("http://127.0.0.1:")
    assert threading.active_count() == before


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Calm", callback_data="calm")],
            [InlineKeyboardButton("Talk", callback_data="talk")],
        ]
    )
