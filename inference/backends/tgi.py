"""Generation by a Text Generation Inference server (or vLLM, or any OpenAI-compatible
server) over HTTP, through the shared Messages API client (``inference.messages_api``).

chat_template prompts go to the Messages API (``POST /v1/chat/completions``), which TGI, vLLM
and every OpenAI-compatible server offer; the server applies the model's chat template.
transcript prompts go to TGI's own API (``POST /`` with ``stream: true``), which only TGI
offers.

Failures the server can get over (overload, outage, timeout, a broken stream) raise
``BackendUnavailable`` so the job is retried, with the server's Retry-After; requests the
server rejects raise ``BackendRequestError``. No message carries the user's text, the server's
own error text (it may quote the prompt) or the token. What is the backend's own: the stop
strings (cut here, as the server takes only four and streams the stop string itself) and
measuring prompts with the model's tokenizer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing
from typing import Any

from inference.backends.base import BackendUnavailable
from inference.backends.stops import cut_at_stops
from inference.job import GenerationParams
from inference.messages_api import (
    ApiError,
    ChatRequest,
    GenerateRequest,
    MessagesClient,
)
from inference.prompt import Prompt, estimate_prompt_tokens


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
        # One connection pool, shared by the worker's threads.
        self._api = MessagesClient(
            url,
            model=model,
            token=token or None,
            timeout=timeout,
            url_setting="model.tgi_url",
            token_setting="model.tgi_token",
        )
        self.url = self._api.base_url
        self.model = model
        self.timeout = timeout
        self.tokenizer_name = tokenizer
        self._tokenizer: Any = None
        self._tokenizer_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TGIBackend({self._api.where('')!r}, model={self.model!r})"

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
        if prompt.style == "transcript":
            request = GenerateRequest.sampled(prompt.text, params, stop=prompt.stop)
            pieces = self._api.stream_generate(request)
        else:
            chat = ChatRequest.sampled(prompt.messages, params, stop=prompt.stop)
            pieces = self._api.stream_chat(chat)
        try:
            # Closing the pieces (a stop string, or the worker giving up) closes the
            # connection, which ends the server's work on an abandoned stream.
            with closing(pieces):
                yield from cut_at_stops(pieces, prompt.stop)
        except ApiError as exc:
            # from None: nothing chained, though the client's errors quote nothing either.
            if exc.retryable:
                raise BackendUnavailable(str(exc), exc.retry_after) from None
            raise BackendRequestError(str(exc), exc.status) from None

    # -- operations ----------------------------------------------------------------------
    def health(self) -> bool:
        """True when the server answers GET /health with 200, i.e. the model is loaded."""
        return self._api.health()

    def close(self) -> None:
        """Close the connection pool (the tokenizer is only memory)."""
        self._api.close()
