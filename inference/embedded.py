"""A Celery worker inside the chat process, for the server-less default.

The worker consumes the embedded (SQLite) queue in a background thread with the solo pool,
exactly as ``soulchat worker`` would, and publishes replies to the in-process reply bus. This
is the pattern of ``celery.contrib.testing.worker``: the real consumer, task protocol, acks and
retries, without a separate process.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType
from typing import Any

from celery import Celery
from celery.worker import WorkController
from celery.worker import state as worker_state

log = logging.getLogger(__name__)


class _ReadyWorkController(WorkController):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.ready = threading.Event()
        super().__init__(*args, **kwargs)

    def on_consumer_ready(self, consumer: Any) -> None:
        self.ready.set()


class EmbeddedWorker:
    def __init__(self, app: Celery, *, start_timeout_s: float = 60.0) -> None:
        self.app = app
        self.start_timeout_s = start_timeout_s
        self._worker: _ReadyWorkController | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.app.finalize()
        # The solo pool looks tasks up on the default app; make it ours.
        self.app.set_default()
        self._worker = _ReadyWorkController(
            app=self.app,
            pool="solo",
            concurrency=1,
            hostname=f"embedded-{threading.get_ident()}@soulchat",
            loglevel=logging.WARNING,
            without_heartbeat=True,
            without_mingle=True,
            without_gossip=True,
        )
        worker_state.should_terminate = None
        self._thread = threading.Thread(
            target=self._worker.start, name="soulchat-embedded-worker", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not self._worker.ready.wait(0.1):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the embedded worker did not start (see the log above)")

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._thread is None:
            return
        # Same mechanism as Celery's own embedded test worker. A generation still running is
        # abandoned (daemon thread); its user message stays stored and joins the next turn.
        worker_state.should_terminate = 0
        self._thread.join(timeout_s)
        worker_state.should_terminate = None
        self._thread = None

    def __enter__(self) -> EmbeddedWorker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
