"""The shared Messages API client (``inference.messages_api``): base URLs, request bodies,
what each failure means, and the reading of streams. The callers' own behaviour is tested
with them (tests/inference/backends/test_tgi.py, tests/safety/test_guard.py,
tests/training/test_eval_*.py); the wire protocol against the loopback fake of TGI, whose
traffic is checked against TGI's OpenAPI spec there."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from inference.job import GenerationParams
from inference.messages_api import (
    CHAT_ROUTE,
    ApiProtocolError,
    ApiRejected,
    ApiTimeout,
    ApiUnavailable,
    AsyncMessagesClient,
    ChatRequest,
    GenerateRequest,
    MessagesClient,
    base_url,
    completion_text,
)
from tests.fakes.tgi_server import FakeTGIServer

TOKEN = "sk-SECRET-token-never-shown"
PROMPT = "my sister moved to Lisbon"
MESSAGES = [{"role": "user", "content": PROMPT}]
REQUEST = ChatRequest(MESSAGES, max_tokens=16)
Handler = Callable[[httpx2.Request], httpx2.Response]


@pytest.fixture
def tgi() -> Iterator[FakeTGIServer]:
    with FakeTGIServer() as server:
        yield server


def client(handler: Handler, **options: Any) -> MessagesClient:
    """A client whose server is ``handler``."""
    options.setdefault("url_setting", "model.url")
    options.setdefault("token_setting", "model.token")
    return MessagesClient(
        "http://srv.test:8080", transport=httpx2.MockTransport(handler), **options
    )


def answer(status: int, body: Any = None, **headers: str) -> Handler:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    if body is None:
        content = b""

    def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, content=content, headers=headers)

    return handle


def events(*data: str, content_type: str = "text/event-stream") -> Handler:
    body = "".join(f"data: {item}\n\n" for item in data).encode()

    def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": content_type})

    return handle


def chunk(content: str, finish: str | None = None) -> str:
    choice = {"index": 0, "delta": {"role": "assistant", "content": content}}
    return json.dumps({"choices": [{**choice, "finish_reason": finish}]})


def completion(content: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}


# -- URLs ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://h:8080", "http://h:8080"),
        ("http://h:8080/", "http://h:8080"),
        ("http://h:8080/v1", "http://h:8080"),
        ("http://h:8080/v1/", "http://h:8080"),
        ("https://h/v1/chat/completions", "https://h"),
        ("https://h/tgi/v1", "https://h/tgi"),
        ("http://u:pw@[::1]:8080/v1#frag", "http://[::1]:8080"),
        ("https://h/v1?api-version=2", "https://h?api-version=2"),
    ],
)
def test_base_urls(url: str, base: str) -> None:
    assert base_url(url) == base


@pytest.mark.parametrize("url", ["h:8080", "ftp://h", "", "http://", "http://h:port"])
def test_a_url_that_is_not_http_names_the_setting(url: str) -> None:
    with pytest.raises(ValueError, match=r"\(model\.url\)"):
        MessagesClient(url, url_setting="model.url")


def test_routes_keep_the_query_and_messages_lose_it_with_the_credentials() -> None:
    with MessagesClient("https://user:pa55@h/tgi/v1?key=s3") as api:
        assert api.url(CHAT_ROUTE) == "https://h/tgi/v1/chat/completions?key=s3"
        assert api.url("/") == "https://h/tgi/?key=s3"
        assert api.where(CHAT_ROUTE) == "https://h/tgi/v1/chat/completions"
        assert "pa55" not in repr(api) and "s3" not in repr(api)


# -- request bodies ------------------------------------------------------------------------
def test_chat_bodies() -> None:
    sampled = GenerationParams(max_new_tokens=64, temperature=0.7, top_p=0.9)
    body = ChatRequest.sampled(MESSAGES, sampled, stop=list("abcdef"), seed=3).body("m")
    assert body == {
        "model": "m",
        "messages": MESSAGES,
        "max_tokens": 64,
        "temperature": 0.7,
        "top_p": 0.9,
        "seed": 3,
        "stop": ["a", "b", "c", "d"],  # TGI takes four
        "stream": False,
    }
    greedy = ChatRequest.sampled(MESSAGES, sampled.model_copy(update={"temperature": 0.0}))
    assert greedy.body("m", stream=True) == {
        "model": "m",
        "messages": MESSAGES,
        "max_tokens": 64,
        "temperature": 0.0,
        "stream": True,
    }
    no_nucleus = ChatRequest(MESSAGES, max_tokens=8, temperature=1.0, top_p=1.0)
    assert "top_p" not in no_nucleus.body("m")  # TGI rejects 1.0, which filters nothing


def test_generate_bodies() -> None:
    sampled = GenerationParams(max_new_tokens=64, temperature=0.7, top_p=0.9)
    body = GenerateRequest.sampled("User: hi\nCounselor:", sampled, stop=["\nUser:"]).body()
    assert body == {
        "inputs": "User: hi\nCounselor:",
        "parameters": {
            "details": True,
            "max_new_tokens": 64,
            "do_sample": True,
            "stop": ["\nUser:"],
            "temperature": 0.7,
            "top_p": 0.9,
            "repetition_penalty": 1.1,
        },
        "stream": True,
    }
    greedy = GenerateRequest.sampled("x", sampled.model_copy(update={"temperature": 0.0}))
    parameters = greedy.body()["parameters"]
    assert parameters["do_sample"] is False  # TGI rejects a temperature of 0
    assert not {"temperature", "top_p", "stop"} & parameters.keys()


# -- answers -------------------------------------------------------------------------------
def test_a_completion_against_the_fake(tgi: FakeTGIServer) -> None:
    with MessagesClient(tgi.url, model="served", token=TOKEN, timeout=5) as api:
        assert api.complete(REQUEST) == tgi.reply
        assert api.health()
    (exchange,) = tgi.generation_exchanges()
    assert exchange.body["model"] == "served" and exchange.body["stream"] is False
    assert exchange.headers["authorization"] == f"Bearer {TOKEN}"
    assert exchange.headers["user-agent"] == "soulchat"


def test_no_token_no_authorization_and_url_credentials_are_basic_auth(
    tgi: FakeTGIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_machine_token")
    with MessagesClient(tgi.url, timeout=5) as api:
        api.complete(REQUEST)
    with MessagesClient(tgi.url.replace("//", "//u:pw@"), timeout=5) as api:
        api.complete(REQUEST)
    first, second = tgi.generation_exchanges()
    assert "authorization" not in first.headers
    assert second.headers["authorization"].startswith("Basic ")


def test_content_parts_are_joined_and_null_content_is_none() -> None:
    parts = [{"type": "text", "text": "I hear "}, {"type": "text", "text": "you."}]
    assert client(answer(200, completion(parts))).complete(REQUEST) == "I hear you."
    assert client(answer(200, completion(None))).complete(REQUEST) is None
    assert completion_text(completion("fine")) == "fine"


@pytest.mark.parametrize(
    "body", [b"not json", b"{}", b'{"choices": []}', b'{"choices": [{"message": {"content": 7}}]}']
)
def test_a_body_that_is_not_a_completion_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ApiProtocolError, match="not a Messages API completion"):
        client(answer(200, body)).complete(REQUEST)


# -- failures ------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [408, 424, 429, 500, 502, 503])
def test_overload_and_outage_are_unavailable(status: int) -> None:
    body = {"error": f"overloaded, dropped {PROMPT!r}", "error_type": "overloaded"}
    with pytest.raises(ApiUnavailable) as caught:
        client(answer(status, body)).complete(REQUEST)
    error = caught.value
    assert error.retryable and error.status == status and error.reason == f"HTTP {status}"
    assert str(error) == (
        f"http://srv.test:8080/v1/chat/completions: server unavailable, HTTP {status} (overloaded)"
    )


@pytest.mark.parametrize(
    ("status", "hint"),
    [(400, ""), (401, " (model.token)"), (403, " (model.token)"), (404, " (model.url)"),
     (422, ""), (301, " (model.url)")],
)  # fmt: skip
def test_other_client_errors_are_rejected(status: int, hint: str) -> None:
    body = {"error": f"Input validation error: {PROMPT!r}", "error_type": "validation"}
    with pytest.raises(ApiRejected) as caught:
        client(answer(status, body)).complete(REQUEST)
    error = caught.value
    assert not error.retryable and error.status == status and error.hint == hint
    assert str(error).endswith(f"request rejected, HTTP {status} (validation){hint}")
    assert "Lisbon" not in str(error)


def test_an_error_type_that_is_not_a_plain_name_is_left_out() -> None:
    body = {"error": "x", "error_type": f"sorry: {PROMPT}"}
    with pytest.raises(ApiRejected) as caught:
        client(answer(400, body)).complete(REQUEST)
    assert str(caught.value).endswith("request rejected, HTTP 400")


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "7"}, None, 7.0),
        ({"Retry-After": "-3"}, None, 0.0),
        ({}, {"error": "loading", "estimated_time": 12.5}, 12.5),
        ({"Retry-After": "soon"}, None, None),
        ({}, None, None),
    ],
)
def test_retry_after(headers: dict[str, str], body: Any, expected: float | None) -> None:
    with pytest.raises(ApiUnavailable) as caught:
        client(answer(503, body, **headers)).complete(REQUEST)
    assert caught.value.retry_after == expected


def test_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    with pytest.raises(ApiUnavailable) as caught:
        client(answer(429, None, **{"Retry-After": when})).complete(REQUEST)
    assert caught.value.retry_after is not None and 25 <= caught.value.retry_after <= 30


def test_transport_errors_are_unavailable_and_timeouts_say_so() -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("[Errno 111] Connection refused", request=request)

    def hang(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    with pytest.raises(ApiUnavailable) as refused:
        client(refuse).complete(REQUEST)
    assert refused.value.reason == "ConnectError" and refused.value.status is None
    assert "ConnectError: [Errno 111] Connection refused" in str(refused.value)
    with pytest.raises(ApiTimeout, match=r"no answer within 1\.5s"):
        client(hang, timeout=1.5).complete(REQUEST)


# -- streams -------------------------------------------------------------------------------
def test_a_chat_stream_yields_pieces_and_stops_at_done() -> None:
    api = client(events(chunk("I"), chunk(" hear"), chunk("", "stop"), "[DONE]", chunk("x")))
    assert list(api.stream_chat(REQUEST)) == ["I", " hear"]


def test_a_chat_stream_without_its_last_chunk_ended_early() -> None:
    pieces: list[str] = []
    with pytest.raises(ApiUnavailable, match="the stream ended early"):
        pieces.extend(client(events(chunk("I"), chunk(" hear"))).stream_chat(REQUEST))
    assert pieces == ["I", " hear"]


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (json.dumps({"error": f"out of memory on {PROMPT}", "error_type": "generation"}),
         ApiUnavailable),
        (json.dumps({"error": f"bad {PROMPT}", "error_type": "validation"}), ApiRejected),
        ("{not json", ApiUnavailable),
        ("[1, 2]", ApiUnavailable),
    ],
)  # fmt: skip
def test_bad_events_end_the_stream(event: str, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        list(client(events(chunk("I"), event)).stream_chat(REQUEST))
    assert "Lisbon" not in str(caught.value)


def test_an_answer_that_is_not_an_event_stream_is_unavailable() -> None:
    api = client(events(chunk("I"), content_type="application/json"))
    with pytest.raises(ApiUnavailable, match="not a readable event stream"):
        list(api.stream_chat(REQUEST))


def test_a_stream_refused_with_a_status(tgi: FakeTGIServer) -> None:
    tgi.fail_next(429, retry_after="3")
    with MessagesClient(tgi.url, timeout=5) as api, pytest.raises(ApiUnavailable) as caught:
        list(api.stream_chat(REQUEST))
    assert (caught.value.status, caught.value.retry_after) == (429, 3.0)


def test_tgi_streams_leave_special_tokens_out(tgi: FakeTGIServer) -> None:
    request = GenerateRequest("User: hi\nCounselor:", max_new_tokens=32)
    with MessagesClient(tgi.url, timeout=5) as api:
        assert "".join(api.stream_generate(request)) == tgi.reply
        tgi.truncate_after(2)
        with pytest.raises(ApiUnavailable, match="ended early"):
            list(api.stream_generate(request))
    assert [e.path for e in tgi.generation_exchanges()] == ["/", "/"]


def test_one_connection_serves_every_stream(tgi: FakeTGIServer) -> None:
    with MessagesClient(tgi.url, timeout=5) as api:
        for _ in range(3):
            assert "".join(api.stream_chat(REQUEST)) == tgi.reply
        assert len(api._http._transport._pool.connections) == 1  # type: ignore[attr-defined]


# -- the async client ----------------------------------------------------------------------
async def test_async_completion_and_its_whole_timeout(tgi: FakeTGIServer) -> None:
    async with AsyncMessagesClient(tgi.url, model="guard", timeout=0.3) as api:
        assert await api.complete(REQUEST) == tgi.reply
        tgi.hang_next(600)  # a client that ignored its timeout would wait for this answer
        with pytest.raises(ApiTimeout, match=r"no answer within 0\.3s"):
            await api.complete(REQUEST)
        assert not api.is_closed
    assert api.is_closed


async def test_async_failures_are_classified_alike() -> None:
    async def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(401, json={"error": PROMPT, "error_type": "authentication"})

    api = AsyncMessagesClient(
        "http://srv.test", transport=httpx2.MockTransport(handle), token_setting="guard.key"
    )
    async with api:
        with pytest.raises(ApiRejected) as caught:
            await api.complete(REQUEST)
    assert str(caught.value) == (
        "http://srv.test/v1/chat/completions: request rejected, HTTP 401 (authentication) "
        "(guard.key)"
    )


# -- what is logged ------------------------------------------------------------------------
def test_a_query_stays_out_of_the_http_clients_log(caplog: pytest.LogCaptureFixture) -> None:
    requested: list[str] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        requested.append(str(request.url))
        return events(chunk("I", "stop"))(request)

    api = MessagesClient(
        "https://srv.test/v1?key=q-s3cr3t", token=TOKEN, transport=httpx2.MockTransport(handle)
    )
    with caplog.at_level(logging.DEBUG), api:
        assert list(api.stream_chat(REQUEST)) == ["I"]
    assert requested == ["https://srv.test/v1/chat/completions?key=q-s3cr3t"]
    assert "HTTP Request: POST https://srv.test/v1/chat/completions" in caplog.text
    for secret in ("q-s3cr3t", TOKEN, "Lisbon"):
        assert secret not in caplog.text
