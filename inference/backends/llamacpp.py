"""In-process generation with llama.cpp (the ``xllamacpp`` wheel), on the CPU.

Runs a GGUF model as it ships (quantised, no conversion) at several times the speed of
transformers on a CPU, and applies LoRA adapters in GGUF form (``lora_gguf`` converts a peft
adapter once). The prompt is rendered by the model's own Hugging Face tokenizer, as training
renders it, and sent to llama.cpp as text with its special tokens; the token count comes from
the same tokenizer. llama.cpp keeps the previous prompt's KV cache, so a later turn of the same
conversation only evaluates what is new.

``xllamacpp.Server`` is llama.cpp's server without the need to talk HTTP to it: requests are
JSON, and a streamed request calls back once per piece on the caller's thread until it ends or
the callback returns True (which cancels it). It also opens an HTTP port on loopback; a random
API key that nobody is told keeps that port closed.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from inference.backends import rendering
from inference.backends.base import BackendUnavailable
from inference.backends.checkpoints import ModelNotFound, ModelSource, gguf_tokenizer
from inference.backends.stops import cut_at_stops
from inference.job import GenerationParams
from inference.prompt import Prompt

log = logging.getLogger(__name__)

_END = object()  # queue sentinel: the request finished


def default_threads() -> int:
    """Every core this process may run on (llama.cpp's own default counts the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def wait_until_serving(server: Any) -> None:
    """Return once llama.cpp's task loop has answered a request.

    ``xllamacpp.Server()`` returns when the model is loaded, a moment before its loop thread
    enters ``start_loop()``, which sets the loop's running flag. A server released in that
    moment (a test, or a person who quits while the model loads) has its ``terminate()``
    overwritten by that flag, and its destructor then joins a loop that never ends: the
    process hangs on exit. A request goes through the loop, so once it is answered the
    flag is set and ``terminate()`` ends the loop."""
    server.handle_completions(
        {"prompt": " ", "n_predict": 0, "stream": False, "cache_prompt": False}
    )


class LlamaCppBackend:
    name = "llamacpp"

    def __init__(
        self, server: Any, tokenizer: Any, gguf: Path, adapter: Path | None, api_key: str
    ) -> None:
        self.server = server
        self.tokenizer = tokenizer
        self.gguf = gguf
        self.adapter = adapter
        self._api_key = api_key
        self._lock = threading.Lock()
        # Reusing the cached start of the last prompt saves its evaluation, but a prompt
        # evaluated in other batches gives slightly other logits, so a greedy reply can
        # change; evaluation turns it off to be repeatable.
        self.cache_prompt = True

    @classmethod
    def load(
        cls,
        source: ModelSource,
        *,
        adapter: Path | None = None,
        context_tokens: int = 4096,
        threads: int = 0,
        cache_dir: Path | None = None,
    ) -> LlamaCppBackend:
        """Start llama.cpp on the GGUF file ``source`` with an optional GGUF LoRA adapter."""
        if not source.gguf_file:
            raise ModelNotFound(
                f"the llamacpp backend runs GGUF files, and {source.describe()} is not one: "
                "set SOULCHAT_MODEL__PATH to a .gguf file, or SOULCHAT_MODEL__BACKEND=local "
                "to run a checkpoint directory with transformers"
            )
        import xllamacpp

        gguf = Path(source.location) / source.gguf_file
        started = time.perf_counter()
        tokenizer = gguf_tokenizer(source, cache_dir)
        params = xllamacpp.CommonParams()
        params.model.path = str(gguf)
        params.n_ctx = context_tokens
        params.n_parallel = 1  # one generation at a time, as the lock below enforces
        params.cpuparams.n_threads = threads or default_threads()
        params.cpuparams_batch.n_threads = threads or default_threads()
        params.warmup = False
        params.verbosity = -1  # llama.cpp writes to stderr, which is the user's terminal
        api_key = secrets.token_hex(16)
        params.api_keys = [api_key]
        if adapter is not None:
            params.lora_adapters = [xllamacpp.CommonAdapterLoraInfo(str(adapter), 1.0)]
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:  # llama.cpp reports a bad file as a bare runtime error
            raise ModelNotFound(f"llama.cpp cannot load {gguf}: {exc}") from exc
        wait_until_serving(server)
        log.info(
            "loaded %s%s with llama.cpp in %.1fs",
            gguf.name,
            f" + adapter {adapter.name}" if adapter else "",
            time.perf_counter() - started,
        )
        return cls(server, tokenizer, gguf, adapter, api_key)

    # -- prompt measurement --------------------------------------------------------------
    def render_text(self, prompt: Prompt) -> str:
        return rendering.render_text(self.tokenizer, prompt)

    def count_tokens(self, prompt: Prompt) -> int:
        return len(rendering.encode(self.tokenizer, self.render_text(prompt)))

    def control_markers(self) -> list[str]:
        return rendering.control_markers(self.tokenizer)

    def engine_tokens(self, text: str) -> list[int]:
        """llama.cpp's own tokenization of ``text`` (special tokens parsed, as a prompt is),
        through its loopback HTTP port: what the parity of prompts with training is checked
        against, since the in-process API has no tokenizer call."""
        import httpx

        response = httpx.post(
            f"{self.server.listening_address}/tokenize",
            json={"content": text, "add_special": False, "parse_special": True},
            headers={"Authorization": f"Bearer {self._api_key}"},
            timeout=30,
        )
        response.raise_for_status()
        return [int(token) for token in response.json()["tokens"]]

    # -- generation ----------------------------------------------------------------------
    def prefill(self, system_prompt: str) -> None:
        """Evaluate the start every chat-template prompt shares (the system prompt and the
        opening of the user turn), so that the first reply after start only evaluates the
        person's own words: on 2 cores a 130-token system prompt takes most of a second."""
        marker = "\ufffcSOULCHAT\ufffc"
        rendered = self.render_text(
            Prompt(
                style="chat_template",
                messages=[
                    {"role": "system", "content": system_prompt},
                    {"role": "user", "content": marker},
                ],
            )
        )
        shared = rendered.split(marker, 1)[0]
        with self._lock:
            self.server.handle_completions(
                {"prompt": shared, "n_predict": 0, "stream": False, "cache_prompt": True}
            )

    def request(self, prompt: Prompt, params: GenerationParams, adapter_scale: float) -> dict:
        """The llama.cpp completion request for ``prompt`` (streamed)."""
        body: dict[str, Any] = {
            "prompt": self.render_text(prompt),
            "stream": True,
            "n_predict": params.max_new_tokens,
            "temperature": max(params.temperature, 0.0),  # 0: greedy
            "top_p": params.top_p,
            "repeat_penalty": params.repetition_penalty,
            "stop": [stop for stop in prompt.stop if stop],
            "cache_prompt": self.cache_prompt,
        }
        if self.adapter is not None:
            body["lora"] = [{"id": 0, "scale": adapter_scale}]
        return body

    def stream(
        self, prompt: Prompt, params: GenerationParams, *, adapter_scale: float = 1.0
    ) -> Iterator[str]:
        pieces: queue.Queue[object] = queue.Queue()
        cancelled = threading.Event()
        failure: list[str] = []

        def on_piece(raw: str) -> bool:
            try:
                event = json.loads(raw)
            except ValueError:
                failure.append("unreadable event from llama.cpp")
                return True
            if "error" in event:
                failure.append(str(event["error"].get("message", event["error"]))[:200])
                return True
            for choice in event.get("choices", ()):
                if choice.get("text"):
                    pieces.put(choice["text"])
            return cancelled.is_set()  # True cancels the request

        def run() -> None:
            try:
                self.server.handle_completions(
                    json.dumps(self.request(prompt, params, adapter_scale)), on_piece
                )
            except Exception as exc:  # reported to the consumer below
                failure.append(repr(exc)[:200])
            finally:
                pieces.put(_END)

        def drain() -> Iterator[str]:
            while (piece := pieces.get()) is not _END:
                assert isinstance(piece, str)
                yield piece

        with self._lock:
            thread = threading.Thread(target=run, name="soulchat-llamacpp", daemon=True)
            thread.start()
            try:
                yield from cut_at_stops(drain(), prompt.stop)
            finally:
                cancelled.set()  # also when the consumer gives up early
                thread.join()
        if failure:
            raise BackendUnavailable(f"llama.cpp generation failed: {failure[0]}")

    def close(self) -> None:
        self.server = None
