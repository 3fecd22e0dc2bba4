"""A loopback stand-in for a Text Generation Inference server, for tests.

It speaks the routes SoulChat uses, in the shapes of TGI's OpenAPI spec
(``../shared/specs/tgi-openapi.json``) and with TGI's wire habits: HTTP/1.1 keep-alive,
chunked server-sent events, ``data: [DONE]`` after Messages API streams only, the
end-of-sequence token streamed as a special token, stop strings included in the output, and
TGI's own parameter validation (422). Unless scripted (below), every reply is the same few tokens.

Faults are queued and taken by the generation requests that follow, one per request::

    with FakeTGIServer() as tgi:
        tgi.fail_next(429, retry_after="3")
        backend = TGIBackend(tgi.url)
        ...
        assert tgi.exchanges[0].status == 429

The reply can be scripted, for clients that parse what the model says (a JSON verdict)::

    with FakeTGIServer(reply_text='{"tier": 0}') as tgi:
        tgi.reply_with('{"tier": 4, "categories": ["suicide"]}')  # from the next request on
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

REPLY_TOKENS = ("I", " hear", " you", ".", " That", " sounds", " really", " hard", ".")
EOS = {"id": 2, "text": "</s>", "logprob": -0.05, "special": True}
MODEL_ID = "soulchat/fake-tgi-model"
VERSION = "3.3.4"
ERROR_TYPES = {
    400: "validation",
    401: "authentication",
    403: "authentication",
    422: "validation",
    424: "generation",
    429: "overloaded",
    500: "incomplete_generation",
    503: "unavailable",
}
GENERATION_ROUTES = ("/", "/generate", "/generate_stream", "/v1/chat/completions")

FaultKind = Literal["status", "hang", "stall", "disconnect", "truncate", "error_event"]


@dataclass
class Fault:
    """What goes wrong with one generation request.

    status: answer ``status`` at once; hang: say nothing for ``seconds`` before the headers;
    stall: stop for ``seconds`` after ``after`` tokens; disconnect: drop the connection after
    ``after`` tokens; truncate: end the stream cleanly after ``after`` tokens but without the
    final event; error_event: send TGI's in-stream error event after ``after`` tokens.
    """

    kind: FaultKind
    status: int = 0
    retry_after: str | None = None
    seconds: float = 0.0
    after: int = 0


@dataclass
class Exchange:
    """One request as received and what was sent back (each JSON body or SSE event)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    content_type: str = ""
    sent: list[Any] = field(default_factory=list)
    client_gone: bool = False


class ClientGone(Exception):
    """The client closed the connection while we were still writing."""


class FakeTGIServer:
    def __init__(
        self,
        tokens: tuple[str, ...] = REPLY_TOKENS,
        *,
        token_delay: float = 0.0,
        reply_text: str | None = None,
    ) -> None:
        self.tokens = tokens if reply_text is None else split_reply(reply_text)
        self.token_delay = token_delay
        self.ready = True
        self.exchanges: list[Exchange] = []
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> FakeTGIServer:
        self._httpd = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers that hang or stall
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeTGIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def reply(self) -> str:
        return "".join(self.tokens)

    @property
    def requests(self) -> list[Exchange]:
        """Every request received so far, oldest first, with what was sent back."""
        return list(self.exchanges)

    def generation_exchanges(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.path in GENERATION_ROUTES]

    # -- scripted replies -----------------------------------------------------------------
    def reply_with(self, text: str) -> None:
        """Answer every later generation request with ``text`` (streamed word by word, or
        whole in a non-streaming reply), cut at ``max_tokens`` words as usual."""
        self.tokens = split_reply(text)

    # -- fault switches -------------------------------------------------------------------
    def fail_next(self, status: int, *, count: int = 1, retry_after: str | None = None) -> None:
        self._queue(count, Fault("status", status=status, retry_after=retry_after))

    def hang_next(self, seconds: float, *, count: int = 1) -> None:
        self._queue(count, Fault("hang", seconds=seconds))

    def stall_after(self, tokens: int, seconds: float, *, count: int = 1) -> None:
        self._queue(count, Fault("stall", after=tokens, seconds=seconds))

    def disconnect_after(self, tokens: int, *, count: int = 1) -> None:
        self._queue(count, Fault("disconnect", after=tokens))

    def truncate_after(self, tokens: int, *, count: int = 1) -> None:
        self._queue(count, Fault("truncate", after=tokens))

    def error_event_after(self, tokens: int, *, count: int = 1) -> None:
        self._queue(count, Fault("error_event", after=tokens))

    def _queue(self, count: int, fault: Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * count)

    def _take_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def _wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeTGIServer) -> None:
        self.fake = fake
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that closes a connection with part of a reply unread (it stopped at a stop
        # string) resets it; waiting for its next request then fails. That is no server error.
        if not isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked streams, as TGI (hyper) serves them
    timeout = 10  # idle keep-alive connections end, so no handler thread outlives a test run
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    # -- routing --------------------------------------------------------------------------
    def do_GET(self) -> None:
        exchange = self._exchange(body=None)
        if self.path == "/health":
            if self.fake.ready:
                self._send_json(exchange, 200, None)
            else:
                self._send_json(exchange, 503, _error("unhealthy", "healthcheck"))
        elif self.path == "/info":
            self._send_json(exchange, 200, _info())
        else:
            self._send_json(exchange, 404, None)

    def do_POST(self) -> None:
        exchange = self._exchange(body=self._read_json())
        try:
            self._route_post(exchange)
        except (BrokenPipeError, ConnectionResetError, ClientGone):
            exchange.client_gone = True
            self.close_connection = True

    def _route_post(self, exchange: Exchange) -> None:
        if self.path not in GENERATION_ROUTES:
            self._send_json(exchange, 404, None)
            return
        if not isinstance(exchange.body, dict):
            self._send_json(exchange, 422, _error("Failed to parse the request body", "validation"))
            return
        fault = self.fake._take_fault()
        if fault is not None and fault.kind == "hang":
            self.fake._wait(fault.seconds)
        if fault is not None and fault.kind == "status":
            self._send_fault_status(exchange, fault)
        elif self.path == "/v1/chat/completions":
            self._chat(exchange, fault)
        else:
            self._generate(exchange, fault)

    @property
    def fake(self) -> FakeTGIServer:
        return self.server.fake

    # -- Messages API ---------------------------------------------------------------------
    def _chat(self, exchange: Exchange, fault: Fault | None) -> None:
        body = exchange.body
        problem = _chat_problem(body)
        if problem:
            self._send_json(exchange, 422, _error(problem, "validation"))
            return
        limit = body.get("max_tokens") or 1024
        tokens, finish = _generate_tokens(self.fake.tokens, limit, body.get("stop") or [])
        usage = _usage(body, len(tokens))
        if not body.get("stream"):
            self._send_json(exchange, 200, _chat_completion(tokens, finish, usage))
            return
        chunks = [_chat_chunk(token, None) for token in tokens]
        # TGI does not stream the end-of-sequence token's text: the last chunk only finishes.
        chunks.append(_chat_chunk("", "length" if finish == "length" else "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            chunks.append({**_chat_chunk("", None), "choices": [], "usage": usage})
        self._stream(exchange, chunks, fault, done_marker=True)

    # -- TGI's own API --------------------------------------------------------------------
    def _generate(self, exchange: Exchange, fault: Fault | None) -> None:
        body = exchange.body
        params = body.get("parameters") or {}
        problem = _generate_problem(body, params)
        if problem:
            self._send_json(exchange, 422, _error(problem, "validation"))
            return
        limit = params.get("max_new_tokens") or 1024
        tokens, finish = _generate_tokens(self.fake.tokens, limit, params.get("stop") or [])
        details = params.get("details", True)  # the spec's default
        stream = self.path == "/generate_stream" or (self.path == "/" and body.get("stream"))
        if stream:
            events = _stream_events(tokens, finish, body["inputs"], details)
            self._stream(exchange, events, fault, done_marker=False)
            return
        response = _generate_response(tokens, finish, details)
        self._send_json(exchange, 200, [response] if self.path == "/" else response)

    # -- wire -----------------------------------------------------------------------------
    def _stream(
        self, exchange: Exchange, events: list[Any], fault: Fault | None, *, done_marker: bool
    ) -> None:
        self._start(exchange, 200, "text/event-stream", {"Transfer-Encoding": "chunked"})
        for number, event in enumerate(events):
            if fault is not None and number == fault.after and self._apply(exchange, fault):
                return
            if number and self.fake.token_delay:
                self.fake._wait(self.fake.token_delay)
            exchange.sent.append(event)
            self._chunk(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
        if done_marker:
            self._chunk(b"data: [DONE]\n\n")
        self._end_chunks()

    def _apply(self, exchange: Exchange, fault: Fault) -> bool:
        """Apply a mid-stream fault; True when the stream is over."""
        if fault.kind == "stall":
            self.fake._wait(fault.seconds)
            return False
        if fault.kind == "disconnect":
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return True
        if fault.kind == "error_event":
            message = f"Request failed during generation of {_quote(exchange.body)}: out of memory"
            event = _error(message, "generation")
            exchange.sent.append(event)
            self._chunk(f"data: {json.dumps(event)}\n\n".encode())
        if fault.kind in ("truncate", "error_event"):
            self._end_chunks()
            return True
        return False

    def _send_fault_status(self, exchange: Exchange, fault: Fault) -> None:
        extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        message = f"Model is overloaded, dropped {_quote(exchange.body)}"
        if fault.status != 429:
            message = f"Input validation error: cannot process {_quote(exchange.body)}"
        error_type = ERROR_TYPES.get(fault.status, "unknown")
        self._send_json(exchange, fault.status, _error(message, error_type), extra)

    def _send_json(
        self, exchange: Exchange, status: int, payload: Any, extra: dict[str, str] | None = None
    ) -> None:
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Length": str(len(data)), **(extra or {})}
        self._start(exchange, status, "application/json" if data else "", headers)
        if payload is not None:
            exchange.sent.append(payload)
        self.wfile.write(data)
        self.wfile.flush()

    def _start(
        self, exchange: Exchange, status: int, content_type: str, headers: dict[str, str]
    ) -> None:
        exchange.status, exchange.content_type = status, content_type
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except OSError as exc:
            raise ClientGone from exc

    def _end_chunks(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError as exc:
            raise ClientGone from exc

    def _exchange(self, body: Any) -> Exchange:
        headers = {name.lower(): value for name, value in self.headers.items()}
        exchange = Exchange(self.command, self.path, headers, body)
        self.fake._record(exchange)
        return exchange

    def _read_json(self) -> Any:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            return json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return None


def split_reply(text: str) -> tuple[str, ...]:
    """``text`` as the fake's tokens: words with the whitespace that follows them, so that
    joining them gives ``text`` back."""
    return tuple(re.findall(r"\S+\s*|\s+", text))


# -- payloads, in the spec's shapes ---------------------------------------------------------
def _quote(body: dict[str, Any]) -> str:
    """The end of the prompt: some servers quote it in error messages, which must not leak."""
    messages = body.get("messages") or [{}]
    return repr(str(body.get("inputs") or messages[-1].get("content", ""))[-80:])


def _error(message: str, error_type: str) -> dict[str, str]:
    return {"error": message, "error_type": error_type}


def _token(index: int, text: str) -> dict[str, Any]:
    return {"id": 1000 + index, "text": text, "logprob": -0.25, "special": False}


def _generate_tokens(
    tokens: tuple[str, ...], limit: int, stops: list[str]
) -> tuple[list[str], str]:
    """The tokens TGI would send and its finish reason: it stops after the token that
    completes a stop string (which stays in the output) or at ``limit`` tokens."""
    out: list[str] = []
    for token in tokens:
        if len(out) == limit:
            return out, "length"
        out.append(token)
        if any(stop in "".join(out) for stop in stops):
            return out, "stop_sequence"
    return out, "eos_token"


def _chat_problem(body: dict[str, Any]) -> str | None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "Input validation error: `messages` cannot be empty"
    temperature = body.get("temperature")
    if temperature is not None and temperature < 0:  # 0 means greedy on the Messages API
        return "Input validation error: `temperature` must be non-negative"
    return _top_p_problem(body.get("top_p"))


def _generate_problem(body: dict[str, Any], params: dict[str, Any]) -> str | None:
    if not body.get("inputs"):
        return "Input validation error: `inputs` cannot be empty"
    temperature = params.get("temperature")
    if temperature is not None and temperature <= 0:
        return "Input validation error: `temperature` must be strictly positive"
    penalty = params.get("repetition_penalty")
    if penalty is not None and penalty <= 0:
        return "Input validation error: `repetition_penalty` must be strictly positive"
    stops = params.get("stop") or []
    if len(stops) > 4:
        return (
            f"Input validation error: `stop` supports up to 4 stop sequences. Given: {len(stops)}"
        )
    return _top_p_problem(params.get("top_p"))


def _top_p_problem(top_p: float | None) -> str | None:
    if top_p is not None and not 0 < top_p < 1:
        return "Input validation error: `top_p` must be > 0.0 and < 1.0"
    return None


def _stream_events(
    tokens: list[str], finish: str, inputs: str, details: bool
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"index": i, "token": _token(i, text), "generated_text": None, "details": None}
        for i, text in enumerate(tokens)
    ]
    if finish == "eos_token":  # the end-of-sequence token comes as a special token
        events.append({"index": len(tokens), "token": EOS, "generated_text": None, "details": None})
    events[-1]["generated_text"] = "".join(tokens)
    if details:
        events[-1]["details"] = {
            "finish_reason": finish,
            "generated_tokens": len(events),
            "input_length": len(inputs.split()),
            "seed": None,
        }
    return events


def _generate_response(tokens: list[str], finish: str, details: bool) -> dict[str, Any]:
    if not details:
        return {"generated_text": "".join(tokens), "details": None}
    return {
        "generated_text": "".join(tokens),
        "details": {
            "finish_reason": finish,
            "generated_tokens": len(tokens),
            "seed": None,
            "prefill": [],
            "tokens": [_token(i, text) for i, text in enumerate(tokens)],
            "top_tokens": [],
        },
    }


def _usage(body: dict[str, Any], completion_tokens: int) -> dict[str, int]:
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _chat_chunk(content: str, finish_reason: str | None) -> dict[str, Any]:
    return {
        "object": "chat.completion.chunk",
        "id": "",
        "created": int(time.time()),
        "model": MODEL_ID,
        "system_fingerprint": f"{VERSION}-native",
        "choices": [
            {
                "index": 0,
                "delta": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": None,
    }


def _chat_completion(tokens: list[str], finish: str, usage: dict[str, int]) -> dict[str, Any]:
    return {
        "object": "chat.completion",
        "id": "",
        "created": int(time.time()),
        "model": MODEL_ID,
        "system_fingerprint": f"{VERSION}-native",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(tokens)},
                "logprobs": None,
                "finish_reason": "length" if finish == "length" else "stop",
            }
        ],
        "usage": usage,
    }


def _info() -> dict[str, Any]:
    return {
        "model_id": MODEL_ID,
        "model_sha": None,
        "model_pipeline_tag": "text-generation",
        "max_concurrent_requests": 128,
        "max_best_of": 2,
        "max_stop_sequences": 4,
        "max_input_tokens": 1024,
        "max_total_tokens": 2048,
        "validation_workers": 2,
        "max_client_batch_size": 4,
        "router": "text-generation-router",
        "version": VERSION,
        "sha": None,
        "docker_label": None,
    }
