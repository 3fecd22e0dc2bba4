"""What a worker does with one generation job, independent of Celery.

The Celery task in ``inference.queue`` is a thin wrapper around ``run_job``: validate the job,
skip it if nobody waits or its turn is already answered, build the prompt with the backend's
tokenizer, stream the reply to the adapter's inbox, and report how it ended.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError

from inference.backends.base import Backend, BackendUnavailable
from inference.job import EventKind, GenerationJob, ReplyEvent
from inference.prompt import Turn, build_prompt, neutralise_control_markers, system_prompt_for
from inference.replies import MemoryReplyBus, ReplyPublisher, create_publisher
from soulchat.config import Settings

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.04  # coalesce tokens: ~25 reply events a second at most


class Outcome(StrEnum):
    DONE = "done"
    DUPLICATE = "duplicate"
    EXPIRED = "expired"
    INVALID = "invalid"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


@dataclass
class WorkerRuntime:
    """What a worker process holds: the loaded model and the reply channel."""

    backend: Backend
    replies: ReplyPublisher
    time_limit_s: float = 240.0


class _TurnStream:
    """Publishes one run of one turn, coalescing small pieces."""

    def __init__(self, replies: ReplyPublisher, job: GenerationJob) -> None:
        self.replies = replies
        self.job = job
        self.run = uuid.uuid4().hex[:12]
        self.text = ""
        self._pending = ""
        self._last_flush = 0.0

    def _send(self, kind: EventKind, text: str = "", error: str = "") -> None:
        event = ReplyEvent(
            turn_key=self.job.turn_key, run=self.run, kind=kind, text=text, error=error
        )
        self.replies.publish(self.job.reply_to, event)

    def add(self, piece: str) -> None:
        self.text += piece
        self._pending += piece
        now = time.monotonic()
        if now - self._last_flush >= FLUSH_INTERVAL_S:
            self._send("delta", self._pending)
            self._pending, self._last_flush = "", now

    def done(self) -> None:
        # The done event carries the whole reply, so text still pending needs no delta.
        self._send("done", self.text)

    def error(self, reason: str) -> None:
        self._send("error", error=reason)


def worker_runtime(
    settings: Settings, bus: MemoryReplyBus | None = None, backend: Backend | None = None
) -> WorkerRuntime:
    """Load the model and connect the reply channel (blocking; seconds for a local model)."""
    from inference.backends.factory import create_backend

    if backend is None:
        backend = create_backend(settings.model, settings.data_dir / "models")
        prefill = getattr(backend, "prefill", None)  # engines that keep a prompt cache
        if prefill is not None and settings.context.prompt_style == "chat_template":
            prefill(system_prompt_for(settings.default_locale))
    return WorkerRuntime(
        backend=backend,
        replies=create_publisher(settings.queue.reply_url, bus),
        time_limit_s=float(settings.queue.task_soft_time_limit_s),
    )


def parse_job(payload: object) -> GenerationJob | None:
    try:
        return GenerationJob.model_validate(payload)
    except ValidationError as exc:
        # The payload holds user text: log only where the problem is.
        log.error("invalid generation job dropped: %s", [e["loc"] for e in exc.errors()])
        return None


def prompt_for(job: GenerationJob, backend: Backend) -> object:
    markers = backend.control_markers()
    turns = [Turn(t.role, neutralise_control_markers(t.text, markers)) for t in job.prompt_turns()]
    return build_prompt(
        job.system_prompt,
        turns,
        style=job.style,
        locale=job.locale,
        count_tokens=backend.count_tokens,
        budget=job.max_context_tokens - job.params.max_new_tokens,
    )


def run_job(runtime: WorkerRuntime, payload: object, *, final_attempt: bool) -> Outcome:
    """Generate and stream one reply. Raises ``BackendUnavailable`` when a retry should follow
    (``final_attempt`` False); on the final attempt the adapter is told instead."""
    job = parse_job(payload)
    if job is None:
        return Outcome.INVALID
    if time.time() > job.deadline:
        return Outcome.EXPIRED
    if runtime.replies.is_done(job.turn_key):
        log.info("turn %s already answered; redelivery skipped", job.turn_key)
        return Outcome.DUPLICATE
    stream = _TurnStream(runtime.replies, job)
    started = time.monotonic()
    try:
        prompt = prompt_for(job, runtime.backend)
        pieces: Iterator[str] = runtime.backend.stream(prompt, job.params)  # type: ignore[arg-type]
        for piece in pieces:
            stream.add(piece)
            if time.monotonic() - started > runtime.time_limit_s:
                pieces.close()  # type: ignore[attr-defined]
                stream.error("timeout")
                return Outcome.TIMED_OUT
    except BackendUnavailable as exc:
        log.warning("backend unavailable for turn %s: %s", job.turn_key, exc)
        if not final_attempt:
            raise
        stream.error("unavailable")
        return Outcome.FAILED
    except Exception:
        log.exception("generation failed for turn %s", job.turn_key)
        stream.error("internal")
        return Outcome.FAILED
    # Publish first, then remember: a crash in between costs a duplicate generation that the
    # adapter discards, never a lost reply.
    stream.done()
    runtime.replies.mark_done(job.turn_key)
    log.info(
        "turn %s answered: %d chars in %.2fs",
        job.turn_key,
        len(stream.text),
        time.monotonic() - started,
    )
    return Outcome.DONE
