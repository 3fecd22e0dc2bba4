"""The crisis-alert webhook, against a real loopback HTTP server: what a paging system
receives, the signature, retries, and what the logs never hold."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bots.operators import webhook
from bots.operators.alerts import Alert
from bots.operators.webhook import MAX_DELAY_S, WebhookAlerter, retry_delay

EXCERPT = "我不想活了 goodbye-note-7f3a"
SECRET = "whsec-topsecret-91c2"
OPENED = datetime(2025, 5, 1, 8, 30, 0, tzinfo=UTC)
NOW = OPENED + timedelta(seconds=125)
FIELDS = {
    "type",
    "event",
    "case_id",
    "tier",
    "categories",
    "locale",
    "platform",
    "opened_at",
    "age_s",
    "excerpt",
    "operator",
    "outcome",
    "sent_at",
}


# -- a loopback receiver ---------------------------------------------------------------------
@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


@dataclass
class Fault:
    kind: str  # "status", "close" (no answer at all) or "hang" (answer after `seconds`)
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0


class Receiver:
    """Records every request; answers 200 unless told to fail the next ones."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()  # releases a hanging handler
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/hook"

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    def fail_next(self, status: int, *, count: int = 1, **headers: str) -> None:
        extra = tuple((name.replace("_", "-"), value) for name, value in headers.items())
        self._queue(count, Fault("status", status=status, headers=extra))

    def close_next(self, *, count: int = 1) -> None:
        self._queue(count, Fault("close"))

    def hang_next(self, seconds: float, *, count: int = 1) -> None:
        self._queue(count, Fault("hang", seconds=seconds))

    def _queue(self, count: int, fault: Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * count)

    def take(self, request: Received) -> Fault | None:
        with self._lock:
            self.requests.append(request)
            return self._faults.popleft() if self._faults else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type, receiver: Receiver) -> None:
        self.receiver = receiver
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        fault = self.server.receiver.take(Received(self.command, self.path, headers, body))
        if fault is not None and fault.kind == "close":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if fault is not None and fault.kind == "hang":
            self.server.receiver.stopping.wait(fault.seconds)
        status = fault.status if fault is not None and fault.kind == "status" else 200
        extra = fault.headers if fault is not None else ()
        reply = json.dumps({"echo": body.decode()}).encode()  # a server that quotes the body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def make_alert(**changes: object) -> Alert:
    values: dict[str, object] = {
        "case_id": 42,
        "event": "alert",
        "tier": 4,
        "categories": ("suicide", "self_harm"),
        "locale": "zh-CN",
        "platform": "telegram",
        "opened_at": OPENED,
        "excerpt": EXCERPT,
    }
    values.update(changes)
    return Alert(**values)  # type: ignore[arg-type]


def alerter(url: str, **options: object) -> WebhookAlerter:
    options.setdefault("backoff_s", 0.01)
    options.setdefault("clock", lambda: NOW)
    return WebhookAlerter(url, **options)  # type: ignore[arg-type]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def all_logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


# -- what the receiver gets ------------------------------------------------------------------
async def test_the_body_has_every_field(receiver: Receiver) -> None:
    async with alerter(receiver.url) as sink:
        assert await sink.send(make_alert()) is True

    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hook"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "soulchat-alerts"
    payload = json.loads(request.body)
    assert set(payload) == FIELDS
    assert payload == {
        "type": "soulchat.case",
        "event": "alert",
        "case_id": 42,
        "tier": 4,
        "categories": ["suicide", "self_harm"],
        "locale": "zh-CN",
        "platform": "telegram",
        "opened_at": "2025-05-01T08:30:00Z",
        "age_s": 125,
        "excerpt": EXCERPT,
        "operator": None,
        "outcome": None,
        "sent_at": "2025-05-01T08:32:05Z",
    }
    assert datetime.fromisoformat(payload["opened_at"]) == OPENED


async def test_resolved_carries_operator_and_outcome_and_times_are_utc(
    receiver: Receiver,
) -> None:
    east = datetime(2025, 5, 2, 0, 30, 0, tzinfo=timezone(timedelta(hours=8)))
    alert = make_alert(event="resolved", operator="telegram:1234", outcome="safe", opened_at=east)
    async with alerter(receiver.url, clock=lambda: east + timedelta(minutes=3)) as sink:
        assert await sink.send(alert)
    payload = json.loads(receiver.requests[0].body)
    assert payload["event"] == "resolved"
    assert payload["operator"] == "telegram:1234"
    assert payload["outcome"] == "safe"
    assert payload["opened_at"] == "2025-05-01T16:30:00Z"
    assert payload["sent_at"] == "2025-05-01T16:33:00Z"
    assert payload["age_s"] == 180


async def test_the_signature_verifies_against_the_raw_body_and_timestamp(
    receiver: Receiver,
) -> None:
    async with alerter(receiver.url, secret=SECRET) as sink:
        assert await sink.send(make_alert())

    [request] = receiver.requests
    timestamp = request.headers["x-soulchat-timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    signature = request.headers["x-soulchat-signature"]
    assert signature.startswith("sha256=")
    signed = f"{timestamp}.".encode() + request.body
    expected = "sha256=" + hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, signature)
    # Neither another body nor another timestamp verifies.
    forged = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(forged, signature)
    tampered = f"{timestamp}.".encode() + request.body.replace(b'"tier":4', b'"tier":1')
    other = "sha256=" + hmac.new(SECRET.encode(), tampered, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(other, signature)


async def test_no_signature_without_a_secret(receiver: Receiver) -> None:
    async with alerter(receiver.url) as sink:
        assert await sink.send(make_alert())
    headers = receiver.requests[0].headers
    assert "x-soulchat-signature" not in headers
    assert "x-soulchat-timestamp" not in headers


# -- retries ---------------------------------------------------------------------------------
async def test_a_503_is_retried(receiver: Receiver) -> None:
    receiver.fail_next(503)
    async with alerter(receiver.url, secret=SECRET) as sink:
        assert await sink.send(make_alert()) is True
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body  # the same clock


async def test_a_429_is_retried_after_its_retry_after(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    waited: list[float] = []

    def recording(attempt: int, backoff_s: float, retry_after: str | None = None) -> float:
        waited.append(retry_delay(attempt, backoff_s, retry_after))
        return waited[-1]

    monkeypatch.setattr(webhook, "retry_delay", recording)
    receiver.fail_next(429, Retry_After="0")
    async with alerter(receiver.url, backoff_s=20.0) as sink:
        assert await sink.send(make_alert()) is True
    assert waited == [0.0]  # the receiver's Retry-After, not the 20 s backoff
    assert len(receiver.requests) == 2


async def test_a_dropped_connection_is_retried(receiver: Receiver) -> None:
    receiver.close_next()
    async with alerter(receiver.url) as sink:
        assert await sink.send(make_alert()) is True
    assert len(receiver.requests) == 2


async def test_a_timeout_is_retried(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.hang_next(2.0)
    with caplog.at_level(logging.WARNING, logger="bots.operators.webhook"):
        async with alerter(receiver.url, timeout_s=0.3) as sink:
            assert await sink.send(make_alert()) is True
    assert len(receiver.requests) == 2
    assert "no answer within 0.3s" in caplog.text


async def test_a_400_is_not_retried(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.fail_next(400)
    with caplog.at_level(logging.WARNING, logger="bots.operators.webhook"):
        async with alerter(receiver.url) as sink:
            assert await sink.send(make_alert()) is False
    assert len(receiver.requests) == 1
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "HTTP 400" in record.getMessage()


async def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.fail_next(307, Location="http://127.0.0.2:9/elsewhere")
    async with alerter(receiver.url, secret=SECRET) as sink:
        assert await sink.send(make_alert()) is False
    assert len(receiver.requests) == 1


async def test_every_attempt_fails_on_a_5xx(receiver: Receiver) -> None:
    receiver.fail_next(500, count=5)
    async with alerter(receiver.url, attempts=4) as sink:
        assert await sink.send(make_alert()) is False
    assert len(receiver.requests) == 4


async def test_a_server_that_is_down(caplog: pytest.LogCaptureFixture) -> None:
    url = closed_port_url()
    with caplog.at_level(logging.WARNING, logger="bots.operators.webhook"):
        async with alerter(url, attempts=3, backoff_s=0.01) as sink:
            assert await sink.send(make_alert()) is False
    warnings = [r.getMessage() for r in caplog.records if r.name == "bots.operators.webhook"]
    assert len(warnings) == 3  # one per failed attempt
    assert all("ConnectError" in message for message in warnings)
    assert "giving up" in warnings[-1]


def test_retry_delays_double_and_are_capped() -> None:
    assert [retry_delay(n, 0.5) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert retry_delay(20, 0.5) == MAX_DELAY_S == 30.0
    assert retry_delay(1, 0.5, "7") == 7.0
    assert retry_delay(1, 0.5, "3600") == 30.0
    assert retry_delay(2, 0.5, "Wed, 21 Oct 2015 07:28:00 GMT") == 1.0  # dates: backoff


# -- what is logged --------------------------------------------------------------------------
async def test_logs_hold_neither_credentials_query_excerpt_body_nor_secret(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://hook-user:hook-pa55@{receiver.netloc}/hook?token=q-s3cr3t&x=1#frag"
    receiver.fail_next(503, count=3)
    with caplog.at_level(logging.DEBUG):  # every logger, httpx2's and httpcore2's included
        async with alerter(url, secret=SECRET, attempts=3) as sink:
            assert "pa55" not in repr(sink)
            assert await sink.send(make_alert()) is False

    # The request itself carried them: redaction is for the logs only.
    request = receiver.requests[0]
    assert request.path == "/hook?token=q-s3cr3t&x=1"
    expected_auth = base64.b64encode(b"hook-user:hook-pa55").decode()
    assert request.headers["authorization"] == f"Basic {expected_auth}"

    logged = all_logged(caplog)
    warnings = [r.getMessage() for r in caplog.records if r.name == "bots.operators.webhook"]
    assert len(warnings) == 3
    redacted = f"http://{receiver.netloc}/hook"
    assert all(redacted + ":" in message and "HTTP 503" in message for message in warnings)
    for leak in ("hook-user", "hook-pa55", "q-s3cr3t", "token=", "frag", SECRET, EXCERPT):
        assert leak not in logged, leak
    assert "goodbye-note" not in logged
    assert request.body.decode() not in logged
    for record in caplog.records:
        assert record.exc_info is None


async def test_failures_from_exceptions_name_only_the_class(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = closed_port_url().replace("/hook", "/hook?token=q-s3cr3t")
    with caplog.at_level(logging.DEBUG):
        async with alerter(url, secret=SECRET, attempts=2) as sink:
            assert await sink.send(make_alert()) is False
    logged = all_logged(caplog)
    assert "ConnectError" in logged
    for leak in ("q-s3cr3t", SECRET, EXCERPT):
        assert leak not in logged


# -- life cycle and configuration ------------------------------------------------------------
async def test_a_closed_alerter_sends_nothing(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    sink = alerter(receiver.url)
    await sink.aclose()
    with caplog.at_level(logging.WARNING, logger="bots.operators.webhook"):
        assert await sink.send(make_alert()) is False
    assert receiver.requests == []
    assert "closed" in caplog.text


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/hook",
        "example.org/hook",
        "/hook",
        "",
        "http://",
        "https://example.org:port/hook",
        "file:///etc/passwd",
    ],
)
def test_a_url_that_is_not_http_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        WebhookAlerter(url)


def test_a_refused_url_is_not_quoted() -> None:
    with pytest.raises(ValueError) as caught:
        WebhookAlerter("ftp://user:pa55@example.org/hook?token=q-s3cr3t")
    assert "pa55" not in str(caught.value)
    assert "q-s3cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    "options",
    [{"timeout_s": 0}, {"attempts": 0}, {"backoff_s": -1}, {"secret": ""}],
)
def test_bad_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WebhookAlerter("https://example.org/hook", **options)  # type: ignore[arg-type]
