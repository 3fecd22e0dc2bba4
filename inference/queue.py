"""The Celery app: one task, ``soulchat.generate``, configured for at-least-once delivery.

- late acks + reject on worker loss: a job whose worker dies is delivered again;
- prefetch 1: a worker holds no job it is not working on;
- time limits below the broker's visibility timeout: a slow job is never handed out twice;
- retries with exponential backoff when the model backend is unavailable;
- the turn key makes a redelivered job a no-op once its reply was sent.

The app is built from ``Settings`` by ``create_app``; the worker's runtime (model, reply
channel) is created lazily in the process that executes tasks, or handed in by the embedded
worker.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from kombu import Exchange, Queue
from kombu.exceptions import OperationalError

from inference import sqlite_queue
from inference.backends.base import BackendUnavailable
from inference.job import GenerationJob
from inference.worker import WorkerRuntime, run_job
from soulchat.config import QueueSettings, Settings
from soulchat.urls import redact_url

log = logging.getLogger(__name__)
sqlite_queue.register()

GENERATE_TASK = "soulchat.generate"
GENERATE_QUEUE = "soulchat.generate"


class BrokerUnreachable(Exception):
    """The message broker cannot be reached; the message names the URL and the fix."""


class _LazyRuntime:
    def __init__(self, factory: Callable[[], WorkerRuntime]) -> None:
        self._factory = factory
        self._runtime: WorkerRuntime | None = None
        self._lock = threading.Lock()

    def get(self) -> WorkerRuntime:
        with self._lock:
            if self._runtime is None:
                self._runtime = self._factory()
            return self._runtime


def generate_queue() -> Queue:
    return Queue(
        GENERATE_QUEUE, Exchange(GENERATE_QUEUE, type="direct"), routing_key=GENERATE_QUEUE
    )


def celery_config(queue: QueueSettings) -> dict[str, Any]:
    return {
        "task_queues": [generate_queue()],
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": queue.task_soft_time_limit_s,
        "task_time_limit": queue.task_time_limit_s,
        "broker_transport_options": {
            "visibility_timeout": queue.visibility_timeout_s,
            "polling_interval": queue.polling_interval_s,
            # Redis: look for jobs of dead workers every few seconds (kombu's default scans
            # only every 100 s, on top of the visibility timeout).
            "unacked_restore_interval": max(1, min(10, queue.visibility_timeout_s // 10)),
            "unacked_restore_throttle": 1,
        },
        "broker_connection_retry_on_startup": True,
        "task_default_queue": GENERATE_QUEUE,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
    }


def backoff_s(retries: int, cap: float, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(max(retry_after, 0.0), cap)
    return min(cap, 2.0**retries) * (0.5 + random.random() / 2)


def create_app(
    settings: Settings, runtime_factory: Callable[[], WorkerRuntime] | None = None
) -> Celery:
    """The Celery app. Without ``runtime_factory`` the app can only send jobs."""
    sqlite_queue.prepare(settings.queue.broker_url)
    app = Celery("soulchat", broker=settings.queue.broker_url, set_as_current=False)
    app.conf.update(celery_config(settings.queue))
    runtime = _LazyRuntime(runtime_factory or _no_runtime)
    queue = settings.queue

    # shared=False: each app (one per test, say) keeps its own runtime in its own task.
    @app.task(bind=True, name=GENERATE_TASK, max_retries=queue.max_retries, shared=False)
    def generate(self: Any, payload: dict[str, Any]) -> str:
        final = self.request.retries >= queue.max_retries
        try:
            return run_job(runtime.get(), payload, final_attempt=final).value
        except BackendUnavailable as exc:
            delay = backoff_s(self.request.retries, queue.retry_backoff_max_s, exc.retry_after)
            raise self.retry(exc=exc, countdown=delay) from exc

    return app


def _no_runtime() -> WorkerRuntime:
    raise RuntimeError("this Celery app was built to send jobs, not to run them")


def send_job(app: Celery, job: GenerationJob) -> None:
    """Publish a job; ``expires`` drops it if it waits in the queue past its deadline."""
    app.send_task(
        GENERATE_TASK,
        args=[job.model_dump(mode="json")],
        queue=GENERATE_QUEUE,
        expires=datetime.fromtimestamp(job.deadline, UTC),
        task_id=job.turn_key,
    )


def check_broker(app: Celery, url: str, timeout_s: float = 5.0) -> None:
    """Fail fast, naming the URL, when the broker cannot be reached; declare the queue, so
    jobs sent before any worker has started wait for one instead of being dropped."""
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout_s)
            generate_queue()(connection.default_channel).declare()
    except (OperationalError, OSError) as exc:
        raise BrokerUnreachable(
            f"cannot reach the message broker at {redact_url(url)} ({exc}). Start it, or set "
            "SOULCHAT_QUEUE__BROKER_URL (empty uses the embedded queue)."
        ) from None
