"""A loopback stand-in for the Telegram Bot API server, for tests.

python-telegram-bot talks to it through ``base_url`` exactly as it talks to api.telegram.org:
``POST /bot<TOKEN>/<method>`` (method names case-insensitive), parameters form-encoded (what
PTB 22 sends: every value a string, objects JSON-encoded), JSON or multipart, and answers
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}`` with
the same HTTP status, in the Bot API's own words. Tests inject what users do and read back
what the bot did::

    with FakeTelegramServer() as tg:
        bot = Bot(tg.token, base_url=tg.base_url)
        tg.user_text("hi", user_id=42)               # an update for getUpdates or the webhook
        tg.fail_next("sendMessage", retry_after=3)   # the next sendMessage answers 429
        ...
        assert tg.bot_texts(42) == ["hello"]         # what the user sees now

Deliberate differences from the real server: webhooks may be plain ``http://`` on any port
(the real one wants HTTPS on 443/80/88/8443), updates are delivered to a webhook one at a time,
and markup parsing follows tdlib's rules closely but not byte for byte (see ``parse_text``).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import itertools
import json
import math
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

TOKEN = "123456789:AAHfakeTokenForSoulChatTests-0123456"
BOT_ID = 123456789
BOT_USERNAME = "soulchat_test_bot"
MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_TEXT = 200
TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{35}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
# Not verified against the live server: the Bot API documents private chats only but not the
# wording of the refusal; tdlib surfaces MTProto's error names like this one.
DRAFT_NOT_PRIVATE = "Bad Request: TEXTDRAFT_PEER_INVALID"
CALLBACK_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
GETUPDATES_WITH_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
GETUPDATES_TERMINATED = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
# The update types a bot gets when it never named its allowed_updates.
DEFAULT_EXCLUDED_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
# Calls that put a message in front of people, the ones Telegram's per-chat limits are about.
RATE_LIMITED_METHODS = {"sendmessage", "editmessagetext"}

# Form fields arrive as strings; the real server converts them by the parameter's type.
INT_FIELDS = {
    "chat_id",
    "message_id",
    "offset",
    "limit",
    "timeout",
    "draft_id",
    "user_id",
    "from_chat_id",
    "message_thread_id",
    "cache_time",
    "max_connections",
    "reply_to_message_id",
}
BOOL_FIELDS = {
    "disable_notification",
    "protect_content",
    "show_alert",
    "drop_pending_updates",
    "disable_web_page_preview",
    "allow_sending_without_reply",
}
JSON_FIELDS = {
    "reply_markup",
    "allowed_updates",
    "entities",
    "caption_entities",
    "reply_parameters",
    "link_preview_options",
    "message_ids",
}


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


# -- records ----------------------------------------------------------------------------------
@dataclass
class Call:
    """One Bot API call as the bot made it and what it got back."""

    method: str  # canonical spelling, e.g. "sendMessage", whatever case the bot used
    params: dict[str, Any]
    time: float  # time.time() when it arrived
    monotonic: float
    chat_id: int | str | None
    status: int = 0
    result: Any = None  # the "result" on success
    error: str | None = None  # the "description" on failure


@dataclass
class StoredMessage:
    """A message in a chat, by the bot or injected as a user's; ``text`` is the current text."""

    chat_id: int
    message_id: int
    from_bot: bool
    text: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    payload: dict[str, Any]  # the Message object as the Bot API serialises it now
    history: list[str] = field(default_factory=list)  # earlier texts, oldest first
    deleted: bool = False


@dataclass
class Draft:
    chat_id: int
    draft_id: int
    text: str
    time: float


@dataclass
class CallbackAnswer:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class Violation:
    """A call that broke Telegram's documented per-chat limits."""

    method: str
    chat_id: int
    time: float
    rule: str  # "1 message per second per chat" or "20 messages per minute per group"


@dataclass
class RateLimits:
    """Telegram's documented limits (core.telegram.org/bots/faq): about one message per second
    in a chat, and at most 20 messages per minute in a group. ``enforce`` answers 429 to a call
    that would break them; violations are counted either way."""

    per_chat_per_second: int = 1
    per_group_per_minute: int = 20
    enforce: bool = False


@dataclass
class _Fault:
    code: int
    description: str
    parameters: dict[str, Any] | None


# -- the server -------------------------------------------------------------------------------
class FakeTelegramServer:
    """A thread-backed fake Bot API server; use as a (sync or async) context manager."""

    def __init__(
        self,
        token: str = TOKEN,
        *,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = "SoulChat Test",
        rate_limits: RateLimits | None = None,
        webhook_retry_delay: float = 0.1,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.rate_limits = rate_limits or RateLimits()
        self.webhook_retry_delay = webhook_retry_delay
        # What the bot did, for assertions.
        self.calls: list[Call] = []
        self.drafts: list[Draft] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.violations: list[Violation] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self.rejected_tokens: list[tuple[str, int]] = []  # (token, HTTP status)
        # Telegram's side of the world.
        self.chats: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.blocked_users: set[int] = set()
        self.files: dict[str, bytes] = {}
        self._messages: dict[tuple[int, int], StoredMessage] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: list[dict[str, Any]] = []  # pending, oldest first
        self._update_ids = itertools.count(100_000)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._webhook: dict[str, Any] | None = None
        self._webhook_error: tuple[int, str] | None = None
        self._faults: dict[str, list[_Fault]] = {}
        self._sent_times: dict[int, list[float]] = {}
        self._lock = threading.Condition()
        self._stopping = False
        self._httpd: _Server | None = None
        self._threads: list[threading.Thread] = []

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> FakeTelegramServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        serve = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        deliver = threading.Thread(target=self._deliver_webhooks, daemon=True)
        self._threads = [serve, deliver]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()  # releases long polls and the webhook sender
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.close_connections()  # idle keep-alive connections would hold threads
            self._httpd.server_close()  # joins the handler threads
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeTelegramServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeTelegramServer:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)  # joining threads must not block the event loop

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def base_url(self) -> str:
        """For ``Bot(token, base_url=...)``: PTB appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # -- scripting faults -------------------------------------------------------------------
    def fail_next(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer 429 Too Many Requests."""
        fault = _Fault(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )
        self._add_faults(method, times, fault)

    def fail_next_with(self, method: str, code: int, description: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` answer ``code`` with ``description``,
        e.g. ``(403, "Forbidden: bot was blocked by the user")`` or ``(502, "Bad Gateway")``."""
        self._add_faults(method, times, _Fault(code, description, None))

    def _add_faults(self, method: str, times: int, fault: _Fault) -> None:
        with self._lock:
            self._faults.setdefault(method.lower(), []).extend([fault] * times)

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sending to them answers 403 from now on."""
        with self._lock:
            self.blocked_users.add(user_id)

    # -- chats and users --------------------------------------------------------------------
    def user(self, user_id: int = 42, first_name: str = "Test", **extra: Any) -> dict[str, Any]:
        with self._lock:
            found = self.users.get(user_id)
            if found is None:
                found = {"id": user_id, "is_bot": False, "first_name": first_name}
                found.update({"username": f"user{user_id}", "language_code": "zh-hans"})
                self.users[user_id] = found
            found.update(extra)
            return dict(found)

    def private_chat(self, user_id: int = 42) -> dict[str, Any]:
        user = self.user(user_id)
        chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        chat["username"] = user["username"]
        return self._add_chat(chat)

    def group_chat(
        self, chat_id: int = -1001234567890, title: str = "Test group"
    ) -> dict[str, Any]:
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return self._add_chat({"id": chat_id, "type": kind, "title": title})

    def channel(self, chat_id: int = -1009876543210, title: str = "Test channel") -> dict[str, Any]:
        return self._add_chat({"id": chat_id, "type": "channel", "title": title})

    def _add_chat(self, chat: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.chats.setdefault(chat["id"], chat)
            return dict(self.chats[chat["id"]])

    # -- injecting updates ------------------------------------------------------------------
    def inject_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (``update_id`` is filled in) for getUpdates or the webhook."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self._lock.notify_all()
            return update

    def user_text(
        self,
        text: str,
        *,
        user_id: int = 42,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """A text message from a user: in their private chat, or in group ``chat_id``;
        ``reply_to`` is the message_id it replies to. Commands and @mentions get entities."""
        return self._user_message(
            {"text": text, "entities": _auto_entities(text)}, user_id, chat_id, reply_to
        )

    def group_text(
        self,
        text: str,
        *,
        chat_id: int = -1001234567890,
        user_id: int = 42,
        mention: bool = False,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """A group message; ``mention`` prefixes ``@bot_username``, ``reply_to`` replies to a
        message (the bot's, typically)."""
        self.group_chat(chat_id)
        if mention:
            text = f"@{self.bot_username} {text}"
        return self.user_text(text, user_id=user_id, chat_id=chat_id, reply_to=reply_to)

    def sticker(
        self, emoji: str = "🙂", *, user_id: int = 42, chat_id: int | None = None
    ) -> dict[str, Any]:
        sticker = {**self._file(b"sticker"), "type": "regular", "width": 512, "height": 512}
        sticker.update({"is_animated": False, "is_video": False, "emoji": emoji})
        return self._user_message({"sticker": sticker}, user_id, chat_id, None)

    def photo(
        self,
        content: bytes = b"\xff\xd8photo",
        *,
        caption: str | None = None,
        user_id: int = 42,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        sizes = [{**self._file(content), "width": w, "height": w} for w in (90, 320, 800)]
        fields: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            fields["caption"] = caption
        return self._user_message(fields, user_id, chat_id, None)

    def voice(
        self,
        content: bytes = b"OggSvoice",
        *,
        duration: int = 3,
        user_id: int = 42,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        voice = {**self._file(content), "duration": duration, "mime_type": "audio/ogg"}
        return self._user_message({"voice": voice}, user_id, chat_id, None)

    def document(
        self,
        content: bytes = b"hello",
        *,
        file_name: str = "notes.txt",
        mime_type: str = "text/plain",
        user_id: int = 42,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        document = {**self._file(content), "file_name": file_name, "mime_type": mime_type}
        return self._user_message({"document": document}, user_id, chat_id, None)

    def edit_user_message(self, chat_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The user edited their message: an ``edited_message`` update."""
        with self._lock:
            stored = self._messages[(chat_id, message_id)]
            stored.history.append(stored.text or "")
            stored.text = text
            stored.payload = {**stored.payload, "text": text, "edit_date": _now()}
            stored.payload["entities"] = _auto_entities(text)
            payload = _drop_empty(stored.payload)
        return self.inject_update({"edited_message": payload})

    def channel_post(self, text: str, *, chat_id: int = -1009876543210) -> dict[str, Any]:
        chat = self.channel(chat_id)
        fields = {"text": text, "sender_chat": chat, "entities": _auto_entities(text)}
        message = self._store_message(chat_id, fields, from_bot=False, sender=None)
        return self.inject_update({"channel_post": message})

    def press_button(
        self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None
    ) -> dict[str, Any]:
        """The user pressed the inline button carrying ``data`` under the bot's message."""
        with self._lock:
            stored = self._messages[(chat_id, message_id)]
            buttons = (stored.reply_markup or {}).get("inline_keyboard", [])
            found = [b for row in buttons for b in row if b.get("callback_data") == data]
            if not found:  # Telegram only ever sends data that is on a button
                raise ValueError(f"no button with callback_data={data!r} on that message")
            query_id = str(next(self._callback_ids) * 1_000_003)
            self._open_callbacks.add(query_id)
            message = _drop_empty(stored.payload)
        user = self.user(user_id if user_id is not None else chat_id)
        query = {"id": query_id, "from": user, "message": message, "data": data}
        query["chat_instance"] = str(abs(chat_id) * 7)
        return self.inject_update({"callback_query": query})

    def _user_message(
        self,
        fields: dict[str, Any],
        user_id: int,
        chat_id: int | None,
        reply_to: int | None,
    ) -> dict[str, Any]:
        user = self.user(user_id)
        if chat_id is None or chat_id == user_id:
            chat_id = self.private_chat(user_id)["id"]
        elif chat_id not in self.chats:
            self.group_chat(chat_id)
        if reply_to is not None:
            with self._lock:
                fields = {**fields, "reply_to_message": self._messages[(chat_id, reply_to)].payload}
        message = self._store_message(chat_id, fields, from_bot=False, sender=user)
        return self.inject_update({"message": message})

    def _file(self, content: bytes) -> dict[str, Any]:
        with self._lock:
            number = next(self._file_ids)
            file_id = f"AgACAgFakeFile{number:06d}"
            self.files[file_id] = content
            return {
                "file_id": file_id,
                "file_unique_id": f"AQAD{number:06d}",
                "file_size": len(content),
            }

    def _store_message(
        self,
        chat_id: int,
        fields: dict[str, Any],
        *,
        from_bot: bool,
        sender: dict[str, Any] | None,
        reply_markup: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            message_id = self._next_message_id.get(chat_id, 1)
            self._next_message_id[chat_id] = message_id + 1
            payload: dict[str, Any] = {"message_id": message_id}
            if sender is not None:
                payload["from"] = sender
            payload.update({"chat": dict(self.chats[chat_id]), "date": _now(), **fields})
            if reply_markup is not None:
                payload["reply_markup"] = reply_markup
            self._messages[(chat_id, message_id)] = StoredMessage(
                chat_id=chat_id,
                message_id=message_id,
                from_bot=from_bot,
                text=fields.get("text"),
                entities=list(fields.get("entities") or []),
                reply_markup=reply_markup,
                payload=payload,
            )
            return _drop_empty(payload)

    # -- reading what happened --------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method.lower() == method.lower()]

    def chat_log(self, chat_id: int) -> list[Call]:
        """Every call the bot made about ``chat_id``, oldest first."""
        with self._lock:
            return [c for c in self.calls if c.chat_id == chat_id]

    def messages(self, chat_id: int) -> list[StoredMessage]:
        """Every message in the chat (users' and the bot's, deleted ones too), oldest first."""
        with self._lock:
            found = [m for (chat, _), m in self._messages.items() if chat == chat_id]
            return sorted(found, key=lambda m: m.message_id)

    def bot_texts(self, chat_id: int) -> list[str]:
        """What the user sees from the bot now: current texts of its undeleted messages."""
        return [
            m.text or ""
            for m in self.messages(chat_id)
            if m.from_bot and not m.deleted and m.text is not None
        ]

    def message(self, chat_id: int, message_id: int) -> StoredMessage:
        with self._lock:
            return self._messages[(chat_id, message_id)]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._updates)

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until the bot has made ``count`` successful calls of ``method`` (sync tests)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                done = [c for c in self.calls if c.method.lower() == method.lower()]
                done = [c for c in done if c.status == 200]
                if len(done) >= count:
                    return done
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(done)} of {count} {method} calls after {timeout}s")
                self._lock.wait(left)

    async def async_wait_for_calls(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[Call]:
        """The same for async tests: polls so the event loop (and the bot on it) keeps going."""
        deadline = time.monotonic() + timeout
        while True:
            done = [c for c in self.calls_to(method) if c.status == 200]
            if len(done) >= count:
                return done
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(done)} of {count} {method} calls after {timeout}s")
            await asyncio.sleep(0.01)

    # -- serving one call -------------------------------------------------------------------
    def _serve(self, method_name: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Run one Bot API call; returns HTTP status and the JSON body."""
        handler = METHODS.get(method_name.lower())
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        canonical, function = handler
        chat_id = _chat_id_or_none(params.get("chat_id"))
        call = Call(canonical, params, time.time(), time.monotonic(), chat_id)
        with self._lock:
            self.calls.append(call)
        try:
            fault = self._take_fault(canonical)
            if fault is not None:
                raise ApiError(fault.code, fault.description, fault.parameters)
            result = function(self, params)
        except ApiError as exc:
            body: dict[str, Any] = {"ok": False, "error_code": exc.code}
            body["description"] = exc.description
            if exc.parameters:
                body["parameters"] = exc.parameters
            call.status, call.error = exc.code, exc.description
            self._notify()
            return exc.code, body
        call.status, call.result = 200, result
        self._notify()
        return 200, {"ok": True, "result": result}

    def _notify(self) -> None:
        with self._lock:
            self._lock.notify_all()

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            queue = self._faults.get(method.lower())
            return queue.pop(0) if queue else None

    def _chat(self, params: dict[str, Any], *, sending: bool = False) -> dict[str, Any]:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat_id = _chat_id_or_none(raw)
        with self._lock:
            chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
            if chat is None and isinstance(chat_id, str):  # "@username" of a channel or group
                named = [c for c in self.chats.values() if c.get("username") == chat_id[1:]]
                chat = named[0] if named else None
            if chat is None:
                raise bad_request("chat not found")
            if sending and chat["type"] == "private" and chat["id"] in self.blocked_users:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            return dict(chat)

    def _check_rate(self, method: str, chat: dict[str, Any]) -> None:
        """Count calls that break the per-chat limits; refuse them when enforcing."""
        if method.lower() not in RATE_LIMITED_METHODS:
            return
        limits, now, chat_id = self.rate_limits, time.monotonic(), chat["id"]
        with self._lock:
            sent = self._sent_times.setdefault(chat_id, [])
            last_second = [t for t in sent if now - t < 1.0]
            last_minute = [t for t in sent if now - t < 60.0]
            rule, wait = "", 0.0
            if len(last_second) >= limits.per_chat_per_second:
                rule, wait = "1 message per second per chat", 1.0 - (now - last_second[0])
            elif chat["type"] != "private" and len(last_minute) >= limits.per_group_per_minute:
                rule, wait = "20 messages per minute per group", 60.0 - (now - last_minute[0])
            if rule:
                self.violations.append(Violation(method, chat_id, time.time(), rule))
                if limits.enforce:
                    retry = max(1, math.ceil(wait))
                    raise ApiError(
                        429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                    )
            sent.append(now)
            del sent[: max(0, len(sent) - 100)]

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # -- webhook delivery -------------------------------------------------------------------
    def _deliver_webhooks(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and (self._webhook is None or not self._updates):
                    self._lock.wait()
                if self._stopping:
                    return
                assert self._webhook is not None
                hook = dict(self._webhook)
                update = self._updates[0]
            status, error = _post_update(hook, update)
            with self._lock:
                self.webhook_deliveries.append((update["update_id"], status))
                if 200 <= status < 300:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    self._lock.notify_all()
                    continue
                self._webhook_error = (_now(), error)
                # Telegram retries a failed delivery later; the fake retries soon.
                self._lock.wait(self.webhook_retry_delay)


def _post_update(hook: dict[str, Any], update: dict[str, Any]) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"}
    if hook.get("secret_token"):
        headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
    data = json.dumps(update, ensure_ascii=False).encode()
    request = urllib.request.Request(hook["url"], data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"Wrong response from the webhook: {exc.code} {exc.reason}"
    except OSError as exc:
        return 0, f"Connection failed: {exc}"


# -- Bot API methods --------------------------------------------------------------------------
def _get_me(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    return {
        **fake._bot_user(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _get_updates(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    offset = params.get("offset")
    limit = params.get("limit") or 100
    timeout = float(params.get("timeout") or 0)
    if not 1 <= limit <= 100:
        limit = 100  # the real server clamps rather than refusing
    with fake._lock:
        if fake._webhook is not None:
            raise ApiError(409, GETUPDATES_WITH_WEBHOOK)
        if "allowed_updates" in params:  # it persists for later calls, as documented
            fake._allowed_updates = list(params["allowed_updates"] or []) or None
        fake._poll_generation += 1
        generation = fake._poll_generation
        fake._lock.notify_all()  # an older long poll is answered 409
        if isinstance(offset, int) and offset > 0:
            # Confirming: everything before ``offset`` is forgotten.
            fake._updates = [u for u in fake._updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            if generation != fake._poll_generation:
                raise ApiError(409, GETUPDATES_TERMINATED)
            ready = [u for u in fake._updates if _allowed(u, fake._allowed_updates)]
            if isinstance(offset, int) and offset < 0:
                ready = ready[offset:]  # negative offsets count from the newest update
            if ready or fake._stopping:
                return ready[:limit]
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            fake._lock.wait(left)


def _allowed(update: dict[str, Any], allowed: list[str] | None) -> bool:
    kind = next(k for k in update if k != "update_id")
    if allowed is None:
        return kind not in DEFAULT_EXCLUDED_UPDATES
    return kind in allowed


def _set_webhook(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    url = params.get("url") or ""
    secret = params.get("secret_token")
    if secret is not None and not SECRET_RE.match(str(secret)):
        raise bad_request("secret token contains unallowed characters")
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    with fake._lock:
        if params.get("drop_pending_updates"):
            fake._updates = []
        if not url:  # an empty URL removes the webhook, as documented
            fake._webhook = None
            return True
        allowed = params.get("allowed_updates")
        if allowed is not None:
            fake._allowed_updates = list(allowed) or None
        fake._webhook = {"url": url, "secret_token": secret, "allowed_updates": allowed}
        fake._webhook["max_connections"] = params.get("max_connections") or 40
        fake._webhook_error = None
        fake._lock.notify_all()
    return True


def _delete_webhook(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    with fake._lock:
        fake._webhook = None
        if params.get("drop_pending_updates"):
            fake._updates = []
    return True


def _get_webhook_info(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    with fake._lock:
        hook = fake._webhook
        info: dict[str, Any] = {
            "url": hook["url"] if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(fake._updates),
        }
        if hook:
            info["max_connections"] = hook["max_connections"]
            if hook.get("allowed_updates") is not None:
                info["allowed_updates"] = hook["allowed_updates"]
            if fake._webhook_error:
                info["last_error_date"], info["last_error_message"] = fake._webhook_error
        return info


def _send_message(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    chat = fake._chat(params, sending=True)
    text, entities = _checked_text(params)
    markup = _checked_markup(params.get("reply_markup"))
    fields: dict[str, Any] = {"text": text, "entities": entities}
    reply = params.get("reply_parameters") or {}
    reply_to = reply.get("message_id") or params.get("reply_to_message_id")
    if reply_to:
        with fake._lock:
            target = fake._messages.get((chat["id"], int(reply_to)))
        if target is None or target.deleted:
            if not (
                reply.get("allow_sending_without_reply")
                or params.get("allow_sending_without_reply")
            ):
                raise bad_request("message to be replied not found")
        else:
            fields["reply_to_message"] = _drop_empty(target.payload)
    fake._check_rate("sendMessage", chat)
    return fake._store_message(
        chat["id"], fields, from_bot=True, sender=fake._bot_user(), reply_markup=markup
    )


def _send_message_draft(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    chat = fake._chat(params, sending=True)
    draft_id = params.get("draft_id")
    if not draft_id:
        raise bad_request("draft_id must be non-zero")
    if chat["type"] != "private":
        raise ApiError(400, DRAFT_NOT_PRIVATE)
    # Bot API 10.0: the text may be empty (a "Thinking..." placeholder), so only the upper
    # limit and the markup are checked.
    text, _ = _checked_text(params, allow_empty=True)
    with fake._lock:
        fake.drafts.append(Draft(chat["id"], int(draft_id), text, time.time()))
    return True


def _edit_message_text(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    if params.get("inline_message_id"):
        _checked_text(params)
        return True  # inline messages live in other chats; nothing to keep
    chat = fake._chat(params)
    message_id = params.get("message_id")
    if not message_id:
        raise bad_request("message identifier is not specified")
    text, entities = _checked_text(params)
    markup = _checked_markup(params.get("reply_markup"))
    with fake._lock:
        stored = fake._messages.get((chat["id"], int(message_id)))
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        if stored.text is None:
            raise bad_request("there is no text in the message to edit")
        if stored.text == text and stored.entities == entities and stored.reply_markup == markup:
            raise ApiError(400, NOT_MODIFIED)
    fake._check_rate("editMessageText", chat)
    with fake._lock:
        stored.history.append(stored.text)
        stored.text, stored.entities, stored.reply_markup = text, entities, markup
        payload = {**stored.payload, "text": text, "entities": entities, "edit_date": _now()}
        payload.pop("reply_markup", None)  # an edit without a keyboard removes the keyboard
        if markup is not None:
            payload["reply_markup"] = markup
        stored.payload = payload
        return _drop_empty(payload)


def _delete_message(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    chat = fake._chat(params)
    message_id = params.get("message_id")
    if not message_id:
        raise bad_request("message identifier is not specified")
    with fake._lock:
        stored = fake._messages.get((chat["id"], int(message_id)))
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        if not stored.from_bot and chat["type"] != "private":
            raise bad_request("message can't be deleted")  # needs admin rights in groups
        stored.deleted = True
    return True


def _send_chat_action(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    chat = fake._chat(params, sending=True)
    action = params.get("action")
    if not action:
        raise bad_request("action is empty")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    with fake._lock:
        fake.chat_actions.append((chat["id"], str(action)))
    return True


def _answer_callback_query(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    query_id = str(params.get("callback_query_id") or "")
    text = params.get("text")
    if text is not None and len(text) > MAX_CALLBACK_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    with fake._lock:
        if query_id not in fake._open_callbacks:
            raise ApiError(400, CALLBACK_TOO_OLD)
        fake._open_callbacks.discard(query_id)  # a query is answered once
        answer = CallbackAnswer(query_id, text, bool(params.get("show_alert")), params.get("url"))
        fake.callback_answers.append(answer)
    return True


def _get_file(fake: FakeTelegramServer, params: dict[str, Any]) -> Any:
    file_id = str(params.get("file_id") or "")
    with fake._lock:
        content = fake.files.get(file_id)
    if content is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": file_id,
        "file_unique_id": "AQAD" + file_id[-6:],
        "file_size": len(content),
        "file_path": f"documents/{file_id}",
    }


Method = Callable[[FakeTelegramServer, dict[str, Any]], Any]
METHODS: dict[str, tuple[str, Method]] = {
    name.lower(): (name, function)
    for name, function in (
        ("getMe", _get_me),
        ("getUpdates", _get_updates),
        ("setWebhook", _set_webhook),
        ("deleteWebhook", _delete_webhook),
        ("getWebhookInfo", _get_webhook_info),
        ("sendMessage", _send_message),
        ("sendMessageDraft", _send_message_draft),
        ("editMessageText", _edit_message_text),
        ("deleteMessage", _delete_message),
        ("sendChatAction", _send_chat_action),
        ("answerCallbackQuery", _answer_callback_query),
        ("getFile", _get_file),
    )
}


def _checked_text(
    params: dict[str, Any], *, allow_empty: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """The text after entity parsing, as Telegram stores it, or the Bot API's 400."""
    raw = params.get("text")
    raw = "" if raw is None else str(raw)
    mode = params.get("parse_mode")
    try:
        text, entities = parse_text(raw, mode)
    except MarkupError as exc:
        raise bad_request(f"can't parse entities: {exc}") from exc
    if params.get("entities") and not mode:
        entities = list(params["entities"])
    # Telegram trims surrounding whitespace before it measures and stores the text.
    text = text.strip()
    if not text and not allow_empty:
        raise bad_request("message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text, entities


def _checked_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
    return markup


# -- markup parsing, after tdlib's rules ------------------------------------------------------
class MarkupError(Exception):
    """The text's markup is invalid; the message is tdlib's."""


MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
MDV2_TYPES = {
    "*": ("Bold", "bold"),
    "_": ("Italic", "italic"),
    "__": ("Underline", "underline"),
    "~": ("Strikethrough", "strikethrough"),
    "||": ("Spoiler", "spoiler"),
}
HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities (UTF-16 offsets) for ``text`` in ``parse_mode``."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "markdownv2":
        return _MarkdownV2(text).parse()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdown":
        return _parse_markdown_v1(text)
    raise bad_request(f"unsupported parse_mode {parse_mode}")


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode())


class _MarkdownV2:
    def __init__(self, source: str) -> None:
        self.src = source
        self.out: list[str] = []
        self.entities: list[dict[str, Any]] = []
        # Open entities: (marker, tdlib name, api type, utf16 start, byte offset).
        self.stack: list[tuple[str, str, str, int, int]] = []
        self.quote_start: int | None = None

    def position(self) -> int:
        return _utf16("".join(self.out))

    def close(self, kind: str, start: int, **extra: Any) -> None:
        length = self.position() - start
        if length > 0:  # empty entities such as "**" vanish
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        src, i = self.src, 0
        while i < len(src):
            if (i == 0 or src[i - 1] == "\n") and self.line_start(i):
                i += 1  # the ">" that opens or continues a block quote
                continue
            c = src[i]
            if c == "\\" and i + 1 < len(src) and 0 < ord(src[i + 1]) <= 126:
                self.out.append(src[i + 1])
                i += 2
            elif c not in MDV2_RESERVED:
                self.out.append(c)
                i += 1
            else:
                i = self.marker(i)
        if self.stack:
            _, name, _, _, byte = self.stack[-1]
            raise MarkupError(f"Can't find end of {name} entity at byte offset {byte}")
        if self.quote_start is not None:
            self.close("blockquote", self.quote_start)
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def line_start(self, i: int) -> bool:
        """Block quotes: a ``>`` opening a line starts or continues one; True if it did."""
        if self.src[i] == ">":
            if self.quote_start is None:
                self.quote_start = self.position()
            return True
        if self.quote_start is not None:
            # The quote covered the previous lines including their line breaks.
            self.close("blockquote", self.quote_start)
            self.quote_start = None
        return False

    def marker(self, i: int) -> int:
        src, c = self.src, self.src[i]
        if c == "`":
            return self.code(i)
        if c == "[" or (c == "!" and src[i + 1 : i + 2] == "["):
            name = "TextUrl" if c == "[" else "CustomEmoji"
            kind = "text_link" if c == "[" else "custom_emoji"
            size = 1 if c == "[" else 2
            self.stack.append((c, name, kind, self.position(), _byte_offset(src, i)))
            return i + size
        if c == "]" and self.stack and self.stack[-1][0] in "[!":
            return self.link_end(i)
        token = c
        if c == "_" and src[i + 1 : i + 2] == "_":
            token = "__"
        if c == "|":
            if src[i + 1 : i + 2] != "|":
                raise _reserved(c)
            token = "||"
        if token not in MDV2_TYPES:
            raise _reserved(c)
        name, kind = MDV2_TYPES[token]
        if self.stack and self.stack[-1][0] == token:
            _, _, _, start, _ = self.stack.pop()
            self.close(kind, start)
        else:
            self.stack.append((token, name, kind, self.position(), _byte_offset(src, i)))
        return i + len(token)

    def code(self, i: int) -> int:
        src = self.src
        pre = src.startswith("```", i)
        marker = "```" if pre else "`"
        j = i + len(marker)
        language = ""
        if pre:
            newline = src.find("\n", j)
            head = src[j:newline] if newline >= 0 else ""
            if newline >= 0 and head and " " not in head and "`" not in head:
                language, j = head, newline + 1
        start = self.position()
        while j < len(src):
            if src[j] == "\\" and j + 1 < len(src) and 0 < ord(src[j + 1]) <= 126:
                self.out.append(src[j + 1])
                j += 2
                continue
            if src.startswith(marker, j):
                extra = {"language": language} if language else {}
                self.close("pre" if pre else "code", start, **extra)
                return j + len(marker)
            self.out.append(src[j])
            j += 1
        name = "Pre" if pre and not language else ("PreCode" if pre else "Code")
        raise MarkupError(f"Can't find end of {name} entity at byte offset {_byte_offset(src, i)}")

    def link_end(self, i: int) -> int:
        src = self.src
        opener, _, kind, start, _ = self.stack.pop()
        j, url = i + 1, ""
        if src[j : j + 1] == "(":
            k, chars = j + 1, []
            while k < len(src) and src[k] != ")":
                if src[k] == "\\" and k + 1 < len(src):
                    k += 1
                chars.append(src[k])
                k += 1
            if k >= len(src):
                what = "a URL" if opener == "[" else "a custom emoji URL"
                raise MarkupError(f"Can't find end of {what} at byte offset {_byte_offset(src, j)}")
            url, j = "".join(chars), k + 1
        if kind == "custom_emoji":
            match = re.match(r"(?i)^tg://emoji\?id=(\d+)", url)
            if not match:
                raise MarkupError("Custom emoji entity must contain a tg://emoji URL")
            self.close(kind, start, custom_emoji_id=match.group(1))
        elif url:
            self.close(kind, start, url=url)
        return j


def _reserved(c: str) -> MarkupError:
    return MarkupError(f"Character '{c}' is reserved and must be escaped with the preceding '\\'")


def _parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, dict[str, str]]] = []  # (tag, utf16 start, attributes)
    i = 0
    while i < len(src):
        c = src[i]
        if c == "&":
            match = re.match(r"&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);", src[i:])
            if match:
                name = match.group(1)
                if name.startswith("#x"):
                    out.append(chr(int(name[2:], 16)))
                elif name.startswith("#"):
                    out.append(chr(int(name[1:])))
                elif name.lower() in HTML_ENTITIES:
                    out.append(HTML_ENTITIES[name.lower()])
                else:
                    out.append(match.group(0))  # unknown entities stay as text, like tdlib
                i += len(match.group(0))
            else:
                out.append(c)
                i += 1
            continue
        if c != "<":
            out.append(c)
            i += 1
            continue
        byte = _byte_offset(src, i)
        close = src.find(">", i)
        if src.startswith("</", i):
            if close < 0:
                raise MarkupError(f"Unclosed end tag at byte offset {byte}")
            tag = src[i + 2 : close].strip().lower()
            if not stack:
                raise MarkupError(f"Unexpected end tag at byte offset {byte}")
            open_tag, start, attrs = stack.pop()
            if tag != open_tag:
                raise MarkupError(
                    f'Unmatched end tag at byte offset {byte}, expected "</{open_tag}>", '
                    f'found "</{tag}>"'
                )
            _close_html(open_tag, start, attrs, _utf16("".join(out)), entities)
            i = close + 1
            continue
        match = re.match(r"<([a-zA-Z0-9-]*)", src[i:])
        tag = (match.group(1) if match else "").lower()
        if tag not in HTML_TAGS:
            raise MarkupError(f'Unsupported start tag "{tag}" at byte offset {byte}')
        if close < 0:
            raise MarkupError(f"Unclosed start tag at byte offset {byte}")
        attrs = dict(
            (name.lower(), value[1:-1] if value[:1] in "\"'" else value)
            for name, value in re.findall(
                r"([a-zA-Z-]+)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", src[i + 1 + len(tag) : close]
            )
        )
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise MarkupError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte}')
        stack.append((tag, _utf16("".join(out)), attrs))
        i = close + 1
    if stack:
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_html(
    tag: str, start: int, attrs: dict[str, str], end: int, entities: list[dict[str, Any]]
) -> None:
    kind = HTML_TAGS[tag]
    if end == start:
        return
    entity: dict[str, Any] = {"type": kind, "offset": start, "length": end - start}
    if kind == "text_link":
        if not attrs.get("href"):
            return  # tdlib drops links without a usable href and keeps the text
        entity["url"] = attrs["href"]
    if kind == "custom_emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    if kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    entities.append(entity)


def _parse_markdown_v1(src: str) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: ``*bold*``, ``_italic_``, backticks, ``[text](url)``; no nesting."""
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(src):
        c = src[i]
        if c == "\\" and src[i + 1 : i + 2] in ("_", "*", "`", "["):
            out.append(src[i + 1])
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            i += 1
            continue
        marker = "```" if src.startswith("```", i) else ("]" if c == "[" else c)
        j = src.find(marker, i + (3 if marker == "```" else 1))
        if j < 0:
            byte = _byte_offset(src, i)
            raise MarkupError(f"Can't find end of the entity starting at byte offset {byte}")
        inner = src[i + (3 if marker == "```" else 1) : j]
        start = _utf16("".join(out))
        kind = {"*": "bold", "_": "italic", "`": "code", "```": "pre", "]": "text_link"}[marker]
        entity: dict[str, Any] = {"type": kind, "offset": start, "length": _utf16(inner)}
        i = j + len(marker)
        if kind == "text_link":
            match = re.match(r"\(([^)]*)\)", src[i:])
            if match:
                entity["url"] = match.group(1)
                i += len(match.group(0))
            else:
                kind = ""
        out.append(inner)
        if kind and entity["length"]:
            entities.append(entity)
    return "".join(out), entities


def _auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram's clients attach to what users type: commands and mentions."""
    entities = []
    for match in re.finditer(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?", text):
        if match.start() == 0 or text[match.start() - 1].isspace():
            entities.append(("bot_command", match.start(), match.end()))
    for match in re.finditer(r"(?<!\w)@[A-Za-z0-9_]{3,32}", text):
        if not any(s <= match.start() < e for _, s, e in entities):
            entities.append(("mention", match.start(), match.end()))
    return [
        {"type": kind, "offset": _utf16(text[:start]), "length": _utf16(text[start:end])}
        for kind, start, end in sorted(entities, key=lambda e: e[1])
    ]


def _drop_empty(payload: dict[str, Any]) -> dict[str, Any]:
    """The Bot API leaves out empty optional fields (no ``"entities": []``)."""
    return {k: v for k, v in payload.items() if v not in (None, [], {})}


def _now() -> int:
    return int(time.time())


def _chat_id_or_none(value: Any) -> int | str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text or None


# -- wire -------------------------------------------------------------------------------------
def _coerce(name: str, value: Any) -> Any:
    """A form field's string converted by the parameter's type, as the real server does."""
    if not isinstance(value, str):
        return value
    if name in INT_FIELDS and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    if name in BOOL_FIELDS:
        return value.strip().lower() in ("true", "1")
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise bad_request(f"can't parse {name} JSON object") from exc
    return value


def _parse_body(content_type: str, raw: bytes) -> dict[str, Any]:
    kind = content_type.split(";", 1)[0].strip().lower()
    if not raw:
        return {}
    if kind == "application/json":
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise bad_request("can't parse JSON") from exc
        return body if isinstance(body, dict) else {}
    if kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            is_file = part.get_filename() is not None
            fields[name] = payload if is_file else payload.decode()
        return fields
    return dict(parse_qsl(raw.decode(), keep_blank_values=True))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections when a bot opens many at once,
    # and each dropped SYN costs seconds of retransmission; api.telegram.org never does that.
    request_queue_size = 1024
    block_on_close = True  # server_close() joins handler threads: nothing outlives stop()

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeTelegramServer) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            for connection in list(self.connections):
                with contextlib.suppress(OSError):  # already closed by the client
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects from api.telegram.org
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        path = unquote(parts.path)  # PTB percent-encodes the token's colon in file URLs
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        file_match = re.fullmatch(r"/file/bot([^/]+)/(.+)", path)
        if file_match:
            self._send_file(file_match.group(1), file_match.group(2))
            return
        match = re.fullmatch(r"/bot([^/]*)/([A-Za-z]+)", path)
        if match is None:
            self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = match.groups()
        if token != fake.token:
            # Telegram answers 401 to a well-formed but unknown token, 404 to a malformed one.
            code, text = (401, "Unauthorized") if TOKEN_RE.match(token) else (404, "Not Found")
            with fake._lock:
                fake.rejected_tokens.append((token, code))
            self._send(code, {"ok": False, "error_code": code, "description": text})
            return
        try:
            fields: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
            fields.update(_parse_body(self.headers.get("Content-Type") or "", raw))
            params = {name: _coerce(name, value) for name, value in fields.items()}
        except ApiError as exc:
            body = {"ok": False, "error_code": exc.code, "description": exc.description}
            self._send(exc.code, body)
            return
        status, body = fake._serve(method, params)
        self._send(status, body)

    def _send_file(self, token: str, path: str) -> None:
        fake = self.server.fake
        content = fake.files.get(path.rsplit("/", 1)[-1]) if token == fake.token else None
        if content is None:
            self._send(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up, e.g. a cancelled long poll
