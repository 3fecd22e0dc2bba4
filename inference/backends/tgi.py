"""Generation by a Text Generation Inference server over HTTP, with huggingface_hub.

chat_template prompts go to the Messages API (``POST /v1/chat/completions``), which TGI, vLLM
and every OpenAI-compatible server offer; the server applies the model's chat template.
transcript prompts go to TGI's own API (``POST /`` with ``stream: true``), which only TGI
offers.

Failures the server can get over (overload, outage, timeout, a broken stream) raise
``BackendUnavailable`` so the job is retried; requests the server rejects raise
``BackendRequestError``. No message carries the user's text, the server's own error text (it
may quote the prompt) or the token.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import closing
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx2
from huggingface_hub import InferenceClient
from huggingface_hub.errors import (
    InferenceTimeoutError,
    OfflineModeIsEnabled,
    TextGenerationError,
)
from huggingface_hub.errors import ValidationError as ServerValidationError
from huggingface_hub.utils import get_session

from inference.backends.base import BackendUnavailable
from inference.backends.stops import cut_at_stops
from inference.job import GenerationParams
from inference.prompt import Prompt, estimate_prompt_tokens

log = logging.getLogger(__name__)

CHAT_ROUTE = "/v1/chat/completions"
GENERATE_ROUTE = "/"
# TGI's default --max-stop-sequences; further stop strings are still cut here.
MAX_SERVER_STOPS = 4
# 424 is TGI's "generation failed" (e.g. a shard ran out of memory): the next try may succeed.
RETRYABLE_CLIENT_STATUSES = frozenset({408, 424, 429})
_ERROR_TYPE = re.compile(r"[a-z_]{1,40}")
_OFFLINE_HINT = (
    "HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE is set, and it blocks every request of "
    "huggingface_hub's HTTP client, including those to the TGI server: unset it for workers "
    "with the tgi backend (model.tokenizer can be a local directory instead)"
)


class BackendRequestError(Exception):
    """The server rejected the request (bad parameters, prompt too long, wrong token or URL);
    sending it again cannot help, so the job is not retried."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TGIBackend:
    name = "tgi"

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        model: str = "tgi",
        timeout: float = 60.0,
        tokenizer: str = "",
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("the TGI url must start with http:// or https:// (model.tgi_url)")
        self.url = url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.tokenizer_name = tokenizer
        self._token = token or None
        self._where = _redact(self.url)
        self._tokenizer: Any = None
        self._tokenizer_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TGIBackend({self._where!r}, model={self.model!r})"

    # -- prompt measurement --------------------------------------------------------------
    def count_tokens(self, prompt: Prompt) -> int:
        tokenizer = self._load_tokenizer()
        if tokenizer is None:
            return estimate_prompt_tokens(prompt)
        if prompt.style == "transcript":
            # TGI tokenizes raw inputs with the tokenizer's own special tokens (BOS).
            return len(tokenizer(prompt.text)["input_ids"])
        text = tokenizer.apply_chat_template(
            prompt.messages, tokenize=False, add_generation_prompt=True
        )
        # The rendered template already holds its special tokens as text.
        return len(tokenizer(str(text), add_special_tokens=False)["input_ids"])

    def control_markers(self) -> list[str]:
        tokenizer = self._load_tokenizer()
        if tokenizer is None:
            return []
        return [str(token) for token in tokenizer.all_special_tokens]

    def _load_tokenizer(self) -> Any:
        if not self.tokenizer_name:
            return None
        with self._tokenizer_lock:  # worker threads share the backend
            if self._tokenizer is None:
                from transformers import AutoTokenizer

                self._tokenizer = AutoTokenizer.from_pretrained(self.tokenizer_name)
        return self._tokenizer

    # -- generation ----------------------------------------------------------------------
    def stream(self, prompt: Prompt, params: GenerationParams) -> Iterator[str]:
        route = GENERATE_ROUTE if prompt.style == "transcript" else CHAT_ROUTE
        try:
            # A client per request: InferenceClient puts every streamed response on an exit
            # stack that only close() empties, so a shared client would collect them for the
            # worker's lifetime; closing this one also ends the server's work on an abandoned
            # stream.
            with self._client() as client:
                if prompt.style == "transcript":
                    pieces = self._transcript_pieces(client, prompt, params)
                else:
                    pieces = self._chat_pieces(client, prompt, params)
                with closing(pieces):
                    yield from cut_at_stops(pieces, prompt.stop)
        except (httpx2.HTTPError, OfflineModeIsEnabled, json.JSONDecodeError) as exc:
            # from None: the chained error holds the server's reply, which may quote the prompt.
            raise self._translate(exc, route) from None

    def _client(self) -> InferenceClient:
        # Without a token, huggingface_hub would send the machine's own Hugging Face token
        # (HF_TOKEN, `hf auth login`) to this server; a None header value suppresses it.
        headers: dict[str, Any] = {} if self._token else {"authorization": None}
        return InferenceClient(self.url, token=self._token, timeout=self.timeout, headers=headers)

    def _chat_pieces(
        self, client: InferenceClient, prompt: Prompt, params: GenerationParams
    ) -> Generator[str, None, None]:
        greedy = params.temperature <= 0
        chunks = client.chat_completion(
            [dict(message) for message in prompt.messages],
            stream=True,
            model=self.model,
            max_tokens=params.max_new_tokens,
            stop=prompt.stop[:MAX_SERVER_STOPS] or None,
            # TGI, vLLM and OpenAI all read temperature 0 as greedy decoding.
            temperature=0.0 if greedy else params.temperature,
            top_p=None if greedy else _nucleus(params.top_p),
        )
        finished = False
        for chunk in chunks:
            for choice in chunk.choices:
                if choice.delta.content:
                    yield choice.delta.content
                finished = finished or choice.finish_reason is not None
        if not finished:
            raise BackendUnavailable(f"{self._where}{CHAT_ROUTE}: the stream ended early")

    def _transcript_pieces(
        self, client: InferenceClient, prompt: Prompt, params: GenerationParams
    ) -> Generator[str, None, None]:
        sample = params.temperature > 0
        events = client.text_generation(
            prompt.text,
            stream=True,
            details=True,  # to see which tokens are special and which event is the last
            max_new_tokens=params.max_new_tokens,
            stop=prompt.stop[:MAX_SERVER_STOPS] or None,
            do_sample=sample,
            # TGI rejects a temperature of 0; greedy decoding is do_sample false without warpers.
            temperature=params.temperature if sample else None,
            top_p=_nucleus(params.top_p) if sample else None,
            repetition_penalty=params.repetition_penalty,
        )
        finished = False
        for event in events:
            if not event.token.special:  # the end-of-sequence token is streamed as text too
                yield event.token.text
            finished = finished or event.generated_text is not None
        if not finished:
            raise BackendUnavailable(f"{self._where}{GENERATE_ROUTE}: the stream ended early")

    def _translate(self, exc: Exception, route: str) -> Exception:
        where = f"{self._where}{route}"
        response = _response_of(exc)
        if response is not None:
            return _status_error(response, where)
        if isinstance(exc, OfflineModeIsEnabled):
            return BackendRequestError(f"{where}: {_OFFLINE_HINT}")
        if isinstance(exc, InferenceTimeoutError | httpx2.TimeoutException):
            return BackendUnavailable(f"{where}: no answer within {self.timeout:g}s")
        if isinstance(exc, httpx2.UnsupportedProtocol):
            return BackendRequestError(f"{where}: {exc} (model.tgi_url)")
        if isinstance(exc, httpx2.TransportError):
            # Transport messages come from the OS or the HTTP parser, never from the request.
            return BackendUnavailable(f"{where}: {type(exc).__name__}: {str(exc)[:200]}")
        if isinstance(exc, ServerValidationError):
            return BackendRequestError(f"{where}: the server rejected the request (validation)")
        if isinstance(exc, TextGenerationError):  # an error event in the middle of the stream
            return BackendUnavailable(f"{where}: generation failed ({type(exc).__name__})")
        if isinstance(exc, json.JSONDecodeError):
            return BackendUnavailable(f"{where}: an event of the stream is not JSON")
        return BackendUnavailable(f"{where}: request failed ({type(exc).__name__})")

    # -- operations ----------------------------------------------------------------------
    def health(self) -> bool:
        """True when the server answers GET /health with 200, i.e. the model is loaded."""
        headers = {"authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            response = get_session().get(
                f"{self.url}/health", headers=headers, timeout=self.timeout
            )
        except OfflineModeIsEnabled:
            log.warning("%s/health: %s", self._where, _OFFLINE_HINT)
            return False
        except httpx2.HTTPError:
            return False
        return response.status_code == 200

    def close(self) -> None:
        """Nothing to release: each request has its own client, and the tokenizer is memory."""


def _nucleus(top_p: float) -> float | None:
    # 1.0 means no nucleus filtering, and TGI rejects it: top_p must lie in (0, 1).
    return top_p if top_p < 1.0 else None


def _response_of(exc: BaseException) -> httpx2.Response | None:
    """The HTTP error response behind ``exc``: huggingface_hub raises its own error types
    ``from`` the HTTP error for TGI's error bodies."""
    current: BaseException | None = exc
    while current is not None:
        response = getattr(current, "response", None)
        if isinstance(response, httpx2.Response):
            return response
        current = current.__cause__
    return None


def _status_error(response: httpx2.Response, where: str) -> Exception:
    status = response.status_code
    body = _json_body(response)
    error_type = body.get("error_type")
    detail = f"HTTP {status}"
    if isinstance(error_type, str) and _ERROR_TYPE.fullmatch(error_type):
        detail += f" ({error_type})"
    if status >= 500 or status in RETRYABLE_CLIENT_STATUSES:
        retry_after = _retry_after(response.headers.get("retry-after"), body)
        return BackendUnavailable(f"{where}: server unavailable, {detail}", retry_after)
    hints = {401: " (model.tgi_token)", 403: " (model.tgi_token)", 404: " (model.tgi_url)"}
    return BackendRequestError(
        f"{where}: request rejected, {detail}{hints.get(status, '')}", status
    )


def _json_body(response: httpx2.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (httpx2.ResponseNotRead, UnicodeDecodeError, json.JSONDecodeError):
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


def _redact(url: str) -> str:
    """The URL without credentials, query or fragment, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
