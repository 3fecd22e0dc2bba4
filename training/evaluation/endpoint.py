"""Evaluation's side of a Messages API endpoint (``POST /v1/chat/completions``), which TGI,
vLLM and OpenAI-compatible servers all serve: non-streaming requests through the shared client
(``inference.messages_api``), retries with backoff on what may succeed later (connection
errors, timeouts, 5xx, 408, 424, 429; a Retry-After is honoured, at most 30 s), and a limit on
requests in flight.

Messages never quote the prompt, the reply or the server's error text (which may quote the
prompt), nor the token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from inference.messages_api import (
    CHAT_ROUTE,
    ApiError,
    ApiProtocolError,
    ApiRejected,
    ApiUnavailable,
    ChatRequest,
    MessagesClient,
)

MAX_RETRY_AFTER_S = 30.0

Progress = Callable[[int, int], None]


class EndpointError(Exception):
    """The endpoint did not give a usable answer; the message says where and why."""


class EndpointUnavailable(EndpointError):
    """The server is down or kept failing after every retry."""


class EndpointRejected(EndpointError):
    """The server rejected this one request (4xx): sending it again cannot help."""


class ChatEndpoint:
    """Completions from one endpoint, ``concurrency`` at a time. ``url`` is the completions
    URL (given as a base URL, a ``/v1`` URL or the full route), without credentials."""

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
        self.retries = retries
        self.backoff_s = backoff_s
        self.concurrency = max(1, concurrency)
        try:
            self._api = MessagesClient(
                url,
                model=model,
                token=token,
                timeout=timeout,
                max_connections=self.concurrency,
                url_setting="--endpoint",
                token_setting="--endpoint-token",
            )
        except ValueError as exc:
            raise EndpointError(f"endpoint: {exc}") from None
        self.model = model
        self.url = self._api.url(CHAT_ROUTE)
        self.where = self._api.where(CHAT_ROUTE)
        self._abort = threading.Event()

    def __enter__(self) -> ChatEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._api.close()

    def complete(self, request: ChatRequest) -> str:
        """The reply's text; retries what may succeed later, raises ``EndpointError``."""
        for attempt in range(self.retries + 1):
            try:
                return self._api.complete(request) or ""
            except ApiRejected as exc:
                raise EndpointRejected(str(exc)) from None
            except ApiProtocolError as exc:
                raise EndpointError(str(exc)) from None
            except ApiUnavailable as exc:
                if attempt == self.retries or self._abort.is_set():
                    raise self._gave_up(exc, attempt + 1) from None
                self._pause(attempt, exc.retry_after)
        raise AssertionError("unreachable")  # the loop returns or raises on its last try

    def _gave_up(self, exc: ApiError, tries: int) -> EndpointUnavailable:
        if exc.status is not None:
            return EndpointUnavailable(
                f"{self.where}: server unavailable, HTTP {exc.status} after {tries} tries"
            )
        return EndpointUnavailable(
            f"cannot reach {self.where} after {tries} tries ({exc.problem}); is the server running?"
        )

    def _pause(self, attempt: int, retry_after: float | None) -> None:
        delay = self.backoff_s * 2**attempt
        if retry_after is not None:
            delay = min(retry_after, MAX_RETRY_AFTER_S)
        self._abort.wait(delay)

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
