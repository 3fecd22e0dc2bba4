"""The one client for Messages API servers: ``POST /v1/chat/completions`` as TGI, vLLM and
every OpenAI-compatible server offer it, streaming and not, and TGI's own ``POST /`` stream
(raw text in, tokens out) for the transcript style.

Three parts of SoulChat talk to such servers, and all through this module:

- the tgi backend (``inference.backends.tgi``): streams, from worker threads
  (``MessagesClient.stream_chat`` / ``stream_generate``), and ``health``;
- the LLM guard (``safety.guard``): one completion at a time on the event loop
  (``AsyncMessagesClient.complete``);
- evaluation (``training.evaluation.endpoint``): many completions from a thread pool, with
  retries (``MessagesClient.complete``).

What it owns: the base URL (``http://host:port[/prefix]``; a ``/v1`` or
``/v1/chat/completions`` suffix is taken off, a query is sent with every request), the bearer
token and basic auth from ``user:password@`` in the URL, timeouts (each phase of a request:
connect, write, each read of a stream), no redirects (they would carry the token elsewhere),
reading server-sent events, and what a failure means:

- ``ApiUnavailable`` (retryable: 5xx, 408, 424 - TGI's "generation failed" - and 429; transport
  errors; timeouts, as ``ApiTimeout``; a stream that breaks, ends early or sends an error
  event). ``retry_after`` carries the server's Retry-After (seconds or an HTTP date) or the
  ``estimated_time`` of a model that is loading, for the callers that honour it.
- ``ApiRejected`` (not retryable: other 4xx, 3xx, a URL the client cannot use, TGI's
  "validation" error event).
- ``ApiProtocolError``: a 200 whose body is no chat completion (a wrong URL, most likely).

What callers keep: their prompts and parameters, what they do with a failure (the backend
raises ``BackendUnavailable`` so the job is retried; evaluation backs off and tries again; the
guard logs one line and has no verdict), stop strings and token counting (the backend), the
verdict (the guard), batching (evaluation).

No message (``str`` of an error) carries the prompt, the reply, the server's own error text
(it may quote the prompt) or the token; URLs in them lose credentials and query. The client
logs nothing itself; ``httpx2``'s own request lines show a URL with a query as redacted.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import time
from collections.abc import Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import httpx2

from soulchat.generation import GenerationParams
from soulchat.urls import check_http_url, hide_in_logs, redact_url, split_credentials

if TYPE_CHECKING:
    from types import TracebackType

CHAT_ROUTE = "/v1/chat/completions"
GENERATE_ROUTE = "/"
HEALTH_ROUTE = "/health"
# TGI's default --max-stop-sequences; callers cut further stop strings themselves.
MAX_SERVER_STOPS = 4
# 424 is TGI's "generation failed" (e.g. a shard ran out of memory): the next try may succeed.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 424, 429})
USER_AGENT = "soulchat"
_ERROR_TYPE = re.compile(r"[a-z_]{1,40}")
_SUFFIXES = (CHAT_ROUTE, "/v1")
_MAX_EVENTS_AFTER_DONE = 8


# -- failures --------------------------------------------------------------------------------
class ApiError(Exception):
    """No usable answer. ``str()`` is ``"<where>: <problem><hint>"``: the route's URL without
    credentials or query, what went wrong, and the setting to check, if any."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        where: str,
        problem: str,
        *,
        reason: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(f"{where}: {problem}{hint}")
        self.where = where
        self.problem = problem
        # Short, for one-line logs: "HTTP 503", "ConnectError", "ReadTimeout".
        self.reason = reason or problem
        self.status = status
        self.retry_after = retry_after
        self.hint = hint


class ApiUnavailable(ApiError):
    """The server cannot answer now (down, overloaded, a broken stream); a later try may."""

    retryable = True


class ApiTimeout(ApiUnavailable):
    """No answer within the client's timeout."""


class ApiRejected(ApiError):
    """The server refused this request (or the client cannot send it): trying again cannot
    help."""


class ApiProtocolError(ApiError):
    """The server answered, but not as a Messages API server does."""


# -- requests --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChatRequest:
    """One chat completion request. Temperature 0 is greedy decoding on TGI, vLLM and OpenAI;
    a ``top_p`` of 1 (no nucleus filtering, which TGI rejects) is left out, and so are stop
    strings beyond the server's four."""

    messages: Sequence[Mapping[str, str]]
    max_tokens: int
    temperature: float = 0.0
    top_p: float | None = None
    seed: int | None = None
    stop: Sequence[str] = ()

    @classmethod
    def sampled(
        cls,
        messages: Sequence[Mapping[str, str]],
        params: GenerationParams,
        *,
        stop: Sequence[str] = (),
        seed: int | None = None,
    ) -> ChatRequest:
        """The request that decodes as ``params`` say (the Messages API has no repetition
        penalty)."""
        greedy = params.greedy
        return cls(
            messages,
            max_tokens=params.max_new_tokens,
            temperature=0.0 if greedy else params.temperature,
            top_p=None if greedy else params.top_p,
            seed=seed,
            stop=stop,
        )

    def body(self, model: str, *, stream: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": model,
            "messages": [dict(message) for message in self.messages],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": stream,
        }
        if self.top_p is not None and 0 < self.top_p < 1:
            body["top_p"] = self.top_p
        if self.seed is not None:
            body["seed"] = self.seed
        if self.stop:
            body["stop"] = list(self.stop[:MAX_SERVER_STOPS])
        return body


@dataclass(frozen=True)
class GenerateRequest:
    """One request to TGI's own API (``POST /``): raw text in, the model's tokens out. TGI
    rejects a temperature of 0: greedy decoding is ``do_sample`` false, without warpers."""

    inputs: str
    max_new_tokens: int
    temperature: float = 0.0
    top_p: float | None = None
    repetition_penalty: float | None = None
    stop: Sequence[str] = ()

    @classmethod
    def sampled(
        cls, inputs: str, params: GenerationParams, *, stop: Sequence[str] = ()
    ) -> GenerateRequest:
        return cls(
            inputs,
            max_new_tokens=params.max_new_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            repetition_penalty=params.repetition_penalty,
            stop=stop,
        )

    def body(self) -> dict[str, Any]:
        sample = self.temperature > 0
        parameters: dict[str, Any] = {
            "details": True,  # to see which tokens are special and which event is the last
            "max_new_tokens": self.max_new_tokens,
            "do_sample": sample,
        }
        if self.stop:
            parameters["stop"] = list(self.stop[:MAX_SERVER_STOPS])
        if sample:
            parameters["temperature"] = self.temperature
            if self.top_p is not None and 0 < self.top_p < 1:
                parameters["top_p"] = self.top_p
        if self.repetition_penalty is not None:
            parameters["repetition_penalty"] = self.repetition_penalty
        return {"inputs": self.inputs, "parameters": parameters, "stream": True}


# -- the clients -----------------------------------------------------------------------------
def base_url(url: str) -> str:
    """The server's base URL as the client uses it: credentials and fragment removed, no
    trailing ``/``, ``/v1`` or ``/v1/chat/completions``; a query stays. ValueError for a URL
    that is not ``http(s)://host...``."""
    base, _ = _split_base(url)
    return base


def _split_base(url: str) -> tuple[str, tuple[str, str] | None]:
    parts = check_http_url(url)
    _, credentials = split_credentials(parts)
    host = parts.netloc.rpartition("@")[2]
    path = parts.path.rstrip("/")
    for suffix in _SUFFIXES:
        if path.endswith(suffix):
            path = path.removesuffix(suffix).rstrip("/")
            break
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{host}{path}{query}", credentials


class _Client:
    """What the sync and async clients share: URLs, headers, and the reading of answers."""

    def __init__(
        self,
        url: str,
        *,
        model: str = "tgi",
        token: str | None = None,
        timeout: float = 60.0,
        url_setting: str = "",
        token_setting: str = "",
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"the timeout must be positive, got {timeout}")
        hint = f" ({url_setting})" if url_setting else ""
        try:
            self.base_url, self._credentials = _split_base(url)
        except ValueError as exc:
            raise ValueError(f"{exc}{hint}") from None
        self.model = model
        self.timeout = timeout
        self._url_hint = hint
        self._token_hint = f" ({token_setting})" if token_setting else ""
        # No token, no authorization header: nothing else (HF_TOKEN, a login) is ever sent.
        self._headers = {"User-Agent": USER_AGENT}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._path, _, self._query = self.base_url.partition("?")
        self._urls: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.where('')!r}, model={self.model!r})"

    def url(self, route: str) -> str:
        """The URL of ``route`` on this server (credentials apart), as requested."""
        url = self._urls.get(route)
        if url is None:
            url = self._path + route + (f"?{self._query}" if self._query else "")
            if self._query:  # it may hold a token: httpx2 logs request URLs at INFO
                hide_in_logs("httpx2", str(httpx2.URL(url)), self.where(route))
            self._urls[route] = url
        return url

    def where(self, route: str) -> str:
        """The URL of ``route`` for messages: no credentials, no query."""
        return redact_url(self._path + route, credentials="drop", query="drop")

    def _http_options(self) -> dict[str, Any]:
        credentials = self._credentials
        return {
            "auth": httpx2.BasicAuth(*credentials) if credentials else None,
            "headers": self._headers,
            "timeout": httpx2.Timeout(self.timeout),
            "follow_redirects": False,  # a redirect would carry the token to another host
        }

    # -- failures ----------------------------------------------------------------------
    def _status_error(self, response: httpx2.Response, route: str) -> ApiError:
        where = self.where(route)
        status = response.status_code
        body = _json_object(response)
        error_type = body.get("error_type")
        detail = f"HTTP {status}"
        if isinstance(error_type, str) and _ERROR_TYPE.fullmatch(error_type):
            detail += f" ({error_type})"
        reason = f"HTTP {status}"
        if status >= 500 or status in RETRYABLE_CLIENT_STATUSES:
            retry_after = _retry_after(response.headers.get("retry-after"), body)
            return ApiUnavailable(
                where,
                f"server unavailable, {detail}",
                reason=reason,
                status=status,
                retry_after=retry_after,
            )
        hint = self._token_hint if status in (401, 403) else ""
        if status == 404 or 300 <= status < 400:
            hint = self._url_hint
        return ApiRejected(
            where, f"request rejected, {detail}", reason=reason, status=status, hint=hint
        )

    def _transport_error(self, exc: httpx2.HTTPError, route: str) -> ApiError:
        where = self.where(route)
        name = type(exc).__name__
        if isinstance(exc, httpx2.TimeoutException):
            return ApiTimeout(where, f"no answer within {self.timeout:g}s", reason=name)
        if isinstance(exc, httpx2.UnsupportedProtocol):
            return ApiRejected(where, f"{name}: {str(exc)[:200]}", reason=name, hint=self._url_hint)
        if isinstance(exc, httpx2.SSEError):
            # Not the server's words (they could be anything): an event stream it is not.
            return ApiUnavailable(where, "the answer is not a readable event stream", reason=name)
        if isinstance(exc, httpx2.TransportError):
            # Transport messages come from the OS or the HTTP parser, never from the request.
            return ApiUnavailable(where, f"{name}: {str(exc)[:200]}", reason=name)
        return ApiUnavailable(where, f"request failed ({name})", reason=name)

    def _completion(self, response: httpx2.Response) -> str | None:
        if not response.is_success:
            raise self._status_error(response, CHAT_ROUTE)
        try:
            return completion_text(response.json())
        except (ValueError, LookupError, TypeError):  # JSON and shape errors alike
            raise ApiProtocolError(
                self.where(CHAT_ROUTE),
                "the answer is not a Messages API completion (wrong URL?)",
                reason="not a chat completion",
            ) from None


class MessagesClient(_Client):
    """A client for threads: one connection pool, safe to share between them. ``close()``
    (or ``with``) when done. ``transport`` replaces the network (tests)."""

    def __init__(
        self,
        url: str,
        *,
        model: str = "tgi",
        token: str | None = None,
        timeout: float = 60.0,
        max_connections: int | None = None,
        url_setting: str = "",
        token_setting: str = "",
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            url,
            model=model,
            token=token,
            timeout=timeout,
            url_setting=url_setting,
            token_setting=token_setting,
        )
        options = self._http_options()
        if max_connections:
            options["limits"] = httpx2.Limits(max_connections=max_connections)
        self._http = httpx2.Client(**options, transport=transport)

    def __enter__(self) -> MessagesClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def complete(self, request: ChatRequest) -> str | None:
        """The reply's text (None when the server sent none); raises ``ApiError``."""
        try:
            response = self._http.post(self.url(CHAT_ROUTE), json=request.body(self.model))
        except httpx2.HTTPError as exc:
            raise self._transport_error(exc, CHAT_ROUTE) from None
        return self._completion(response)

    def stream_chat(self, request: ChatRequest) -> Generator[str, None, None]:
        """The reply in pieces as the server streams it. Closing the generator closes the
        connection, which ends the server's work on it. Raises ``ApiError``; a stream that
        stops before its last chunk is ``ApiUnavailable``."""
        finished = False
        events = self._events(CHAT_ROUTE, request.body(self.model, stream=True))
        with closing(events):
            for chunk in events:
                for choice in _list(chunk, "choices"):
                    content = _dict(choice, "delta").get("content")
                    if isinstance(content, str) and content:
                        yield content
                    finished = finished or _dict(choice).get("finish_reason") is not None
        if not finished:
            raise ApiUnavailable(self.where(CHAT_ROUTE), "the stream ended early")

    def stream_generate(self, request: GenerateRequest) -> Generator[str, None, None]:
        """TGI's own stream (``POST /``): the text of each token, special tokens (the end of
        sequence) left out. Raises like ``stream_chat``."""
        finished = False
        events = self._events(GENERATE_ROUTE, request.body())
        with closing(events):
            for event in events:
                token = _dict(event, "token")
                text = token.get("text")
                if not token.get("special") and isinstance(text, str):
                    yield text
                finished = finished or event.get("generated_text") is not None
        if not finished:
            raise ApiUnavailable(self.where(GENERATE_ROUTE), "the stream ended early")

    def _events(self, route: str, body: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        """The JSON events of a server-sent event stream, up to ``[DONE]`` or its end."""
        try:
            with self._http.stream("POST", self.url(route), json=body) as response:
                if not response.is_success:
                    response.read()
                    raise self._status_error(response, route)
                after_done = -1
                for sse in httpx2.EventSource(response):
                    if after_done >= 0:
                        # Read on to the end of the body, so the connection can serve the
                        # next request; a server that goes on and on is left.
                        after_done += 1
                        if after_done > _MAX_EVENTS_AFTER_DONE:
                            return
                    elif sse.data.strip() == "[DONE]":
                        after_done = 0
                    else:
                        yield self._event(sse.data, route)
        except httpx2.HTTPError as exc:
            raise self._transport_error(exc, route) from None

    def _event(self, data: str, route: str) -> dict[str, Any]:
        try:
            event = json.loads(data)
        except ValueError:
            raise ApiUnavailable(self.where(route), "an event of the stream is not JSON") from None
        if not isinstance(event, dict):
            raise ApiUnavailable(self.where(route), "an event of the stream is not an object")
        if event.get("error") is not None:  # TGI's error event, in the middle of the stream
            error_type = event.get("error_type")
            kind = error_type if isinstance(error_type, str) else ""
            kind = kind if _ERROR_TYPE.fullmatch(kind) else "unknown"
            error = ApiRejected if kind == "validation" else ApiUnavailable
            raise error(self.where(route), f"generation failed ({kind})", reason=kind)
        return event

    def health(self, route: str = HEALTH_ROUTE) -> bool:
        """True when the server answers ``GET route`` with 200 (TGI: the model is loaded)."""
        try:
            response = self._http.get(self.url(route))
        except httpx2.HTTPError:
            return False
        return response.status_code == 200


class AsyncMessagesClient(_Client):
    """A client for one event loop: one connection pool. ``await aclose()`` (or ``async
    with``) when done. The timeout bounds each phase of a request and the whole of it.
    ``transport`` replaces the network (tests)."""

    def __init__(
        self,
        url: str,
        *,
        model: str = "tgi",
        token: str | None = None,
        timeout: float = 60.0,
        url_setting: str = "",
        token_setting: str = "",
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            url,
            model=model,
            token=token,
            timeout=timeout,
            url_setting=url_setting,
            token_setting=token_setting,
        )
        self._http = httpx2.AsyncClient(**self._http_options(), transport=transport)

    async def __aenter__(self) -> AsyncMessagesClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    async def aclose(self) -> None:
        await self._http.aclose()

    async def complete(self, request: ChatRequest) -> str | None:
        """The reply's text (None when the server sent none); raises ``ApiError``, and
        ``CancelledError`` when cancelled."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._http.post(
                    self.url(CHAT_ROUTE), json=request.body(self.model)
                )
        except TimeoutError:
            raise ApiTimeout(
                self.where(CHAT_ROUTE), f"no answer within {self.timeout:g}s", reason="timeout"
            ) from None
        except httpx2.HTTPError as exc:
            raise self._transport_error(exc, CHAT_ROUTE) from None
        return self._completion(response)


# -- answers ---------------------------------------------------------------------------------
def completion_text(body: Any) -> str | None:
    """The assistant's text in a (non-streaming) chat completion: None when its content is
    null, content parts (as some OpenAI-compatible servers send) joined. LookupError or
    TypeError when ``body`` is no chat completion."""
    content = body["choices"][0]["message"]["content"]
    if isinstance(content, list):
        texts = [part.get("text") for part in content if isinstance(part, dict)]
        content = "".join(text for text in texts if isinstance(text, str))
    if content is not None and not isinstance(content, str):
        raise TypeError("the completion's content is not text")
    return content


def _dict(value: Any, key: str | None = None) -> dict[str, Any]:
    if key is not None:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def _list(value: dict[str, Any], key: str) -> list[Any]:
    found = value.get(key)
    return found if isinstance(found, list) else []


def _json_object(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (httpx2.ResponseNotRead, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(header: str | None, body: dict[str, Any]) -> float | None:
    """Seconds to wait, from Retry-After (seconds or an HTTP date), else from the
    ``estimated_time`` that Inference Endpoints send while a model is loading."""
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    estimated = body.get("estimated_time")
    if isinstance(estimated, int | float) and not isinstance(estimated, bool):
        return max(0.0, float(estimated))
    return None
