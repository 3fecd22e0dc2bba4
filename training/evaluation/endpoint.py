"""A plain HTTP client for an OpenAI-style Messages API (``POST /v1/chat/completions``), which
TGI, vLLM and OpenAI-compatible servers all serve: non-streaming requests, retries with
backoff on connection errors and 5xx answers, and a limit on requests in flight.

Messages never quote the prompt, the reply or the server's error text (which may quote the
prompt), nor the token.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2

CHAT_ROUTE = "/v1/chat/completions"
# 408/429 and TGI's 424 ("generation failed") may succeed on the next try.
RETRYABLE_STATUSES = frozenset({408, 424, 429})
MAX_RETRY_AFTER_S = 30.0

Progress = Callable[[int, int], None]


class EndpointError(Exception):
    """The endpoint did not give a usable answer; the message says where and why."""


class EndpointUnavailable(EndpointError):
    """The server is down or kept failing after every retry."""


class EndpointRejected(EndpointError):
    """The server rejected this one request (4xx): sending it again cannot help."""


@dataclass(frozen=True)
class ChatRequest:
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float = 0.0  # 0 is greedy decoding on TGI, vLLM and OpenAI
    top_p: float | None = None
    seed: int | None = None
    stop: list[str] = field(default_factory=list)

    def body(self, model: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "messages": self.messages,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": False,
        }
        if self.top_p is not None and 0 < self.top_p < 1:  # TGI rejects top_p 1.0
            body["top_p"] = self.top_p
        if self.seed is not None:
            body["seed"] = self.seed
        if self.stop:
            body["stop"] = self.stop[:4]  # TGI's default limit of stop sequences
        return body


def chat_url(url: str) -> str:
    """The completions URL from a base URL, a ``/v1`` URL or the full route."""
    if not url.startswith(("http://", "https://")):
        raise EndpointError(f"endpoint {url!r} must start with http:// or https://")
    url = url.rstrip("/")
    if url.endswith(CHAT_ROUTE):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + CHAT_ROUTE


def redact(url: str) -> str:
    """The URL without credentials, query or fragment, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class ChatEndpoint:
    def __init__(
        self,
        url: str,
        *,
        model: str = "tgi",
        token: str | None = None,
        timeout: float = 120.0,
        retries: int = 3,
        backoff_s: float = 1.0,
        concurrency: int = 4,
    ) -> None:
        self.url = chat_url(url)
        self.where = redact(self.url)
        self.model = model
        self.retries = retries
        self.backoff_s = backoff_s
        self.concurrency = max(1, concurrency)
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._client = httpx2.Client(
            headers=headers,
            timeout=timeout,
            limits=httpx2.Limits(max_connections=self.concurrency),
        )
        self._abort = threading.Event()

    def __enter__(self) -> ChatEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def complete(self, request: ChatRequest) -> str:
        """The reply's text; retries what may succeed later, raises ``EndpointError``."""
        body = request.body(self.model)
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._client.post(self.url, json=body)
            except httpx2.TransportError as exc:
                # Transport messages come from the OS or the HTTP parser, never the request.
                problem = f"{type(exc).__name__}: {str(exc)[:200]}"
                if last or self._abort.is_set():
                    raise EndpointUnavailable(
                        f"cannot reach {self.where} after {attempt + 1} tries ({problem}); "
                        "is the server running?"
                    ) from None
                self._pause(attempt, None)
                continue
            status = response.status_code
            if status >= 500 or status in RETRYABLE_STATUSES:
                if last or self._abort.is_set():
                    raise EndpointUnavailable(
                        f"{self.where}: server unavailable, HTTP {status} after {attempt + 1} tries"
                    )
                self._pause(attempt, response.headers.get("retry-after"))
                continue
            if status >= 400:
                raise EndpointRejected(f"{self.where}: request rejected, HTTP {status}")
            return self._content(response)
        raise AssertionError("unreachable")  # the loop returns or raises on its last try

    def _pause(self, attempt: int, retry_after: str | None) -> None:
        delay = self.backoff_s * 2**attempt
        if retry_after:
            # An HTTP date is not worth parsing: the exponential backoff will do.
            with contextlib.suppress(ValueError):
                delay = min(max(float(retry_after), 0.0), MAX_RETRY_AFTER_S)
        self._abort.wait(delay)

    def _content(self, response: httpx2.Response) -> str:
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (json.JSONDecodeError, UnicodeDecodeError, LookupError, TypeError):
            raise EndpointError(
                f"{self.where}: the answer is not a Messages API completion (wrong URL?)"
            ) from None
        if content is not None and not isinstance(content, str):
            raise EndpointError(f"{self.where}: the completion's content is not text")
        return content or ""

    def complete_all(
        self, requests: Sequence[ChatRequest], progress: Progress | None = None
    ) -> list[str | EndpointRejected]:
        """Every request, ``concurrency`` at a time, answers in input order. A rejected request
        gives its ``EndpointRejected``; any other failure stops the rest and is raised."""
        results: list[str | EndpointRejected] = [""] * len(requests)
        done = 0
        self._abort.clear()
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="soulchat-eval") as pool:
            futures: list[Future[str]] = [pool.submit(self.complete, r) for r in requests]
            try:
                for index, future in enumerate(futures):
                    try:
                        results[index] = future.result()
                    except EndpointRejected as exc:
                        results[index] = exc
                    done += 1
                    if progress is not None:
                        progress(done, len(requests))
            except BaseException:
                self._abort.set()  # requests in flight give up instead of retrying
                for future in futures:
                    future.cancel()
                raise
        return results
