"""Real Celery workers (separate processes) on a real Redis broker, replies over Redis streams."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.backends.fake import FAKE_REPLY
from inference.job import GenerationJob, GenerationParams, JobTurn, ReplyEvent
from inference.queue import check_broker, create_app, send_job
from inference.replies import RedisReplyInbox, RedisReplyPublisher
from soulchat.config import Settings, load_settings
from tests.waiting import HANG_S

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _settings(redis_url: str, tmp_path: Path, **queue: object) -> Settings:
    return load_settings(
        data_dir=tmp_path,
        queue={"broker_url": redis_url, **queue},
        model={"backend": "fake", "fake_latency_ms": 300, "fake_tokens": 6},
    )


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SOULCHAT_DATA_DIR=str(settings.data_dir),
        SOULCHAT_QUEUE__BROKER_URL=settings.queue.broker_url,
        SOULCHAT_QUEUE__VISIBILITY_TIMEOUT_S=str(settings.queue.visibility_timeout_s),
        SOULCHAT_QUEUE__TASK_TIME_LIMIT_S=str(settings.queue.task_time_limit_s),
        SOULCHAT_QUEUE__TASK_SOFT_TIME_LIMIT_S=str(settings.queue.task_soft_time_limit_s),
        SOULCHAT_QUEUE__WORKER_POOL="threads",
        SOULCHAT_QUEUE__WORKER_CONCURRENCY="2",
        SOULCHAT_MODEL__BACKEND="fake",
        SOULCHAT_MODEL__FAKE_LATENCY_MS=str(settings.model.fake_latency_ms),
        SOULCHAT_MODEL__FAKE_TOKENS=str(settings.model.fake_tokens),
        SOULCHAT_LOG_LEVEL="INFO",
    )
    return env


def _die_with_parent() -> None:
    """A worker outlives a killed test run otherwise, and steals the next run's jobs."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Worker:
    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "soulchat.cli", "worker"],
            env=_env(settings),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.log.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def _job(inbox: str) -> GenerationJob:
    return GenerationJob(
        turn_key=uuid.uuid4().hex,
        reply_to=inbox,
        locale="en",
        style="chat_template",
        system_prompt="be kind",
        turns=[JobTurn(role="user", text="I can't sleep")],
        max_context_tokens=512,
        params=GenerationParams(),
        deadline=time.time() + 120,
    )


async def _events_until_done(queue: asyncio.Queue[ReplyEvent], timeout: float) -> list[ReplyEvent]:
    events: list[ReplyEvent] = []
    async with asyncio.timeout(timeout):
        while not events or events[-1].kind not in ("done", "error"):
            events.append(await queue.get())
    return events


async def test_a_job_goes_through_a_real_worker_and_streams_back(
    redis_url: str, tmp_path: Path, workers: list[Worker]
) -> None:
    settings = _settings(redis_url, tmp_path)
    workers.append(Worker(settings, tmp_path / "worker.log"))
    inbox = RedisReplyInbox(redis_url)
    await inbox.start()
    try:
        job = _job(inbox.address)
        events_queue = inbox.subscribe(job.turn_key)
        app = create_app(settings)
        check_broker(app, redis_url)  # as every adapter does at start
        send_job(app, job)
        events = await _events_until_done(events_queue, HANG_S)
    finally:
        await inbox.stop()
    assert events[-1].kind == "done"
    assert events[-1].text.startswith("".join(e.text for e in events if e.kind == "delta"))
    assert events[-1].text == FAKE_REPLY
    # The worker remembers the turn just after publishing its last event: wait for that.
    publisher = RedisReplyPublisher(redis_url)
    async with asyncio.timeout(HANG_S):
        while not publisher.is_done(job.turn_key):
            await asyncio.sleep(0.02)


async def test_a_worker_killed_mid_reply_is_replaced_and_answers_exactly_once(
    redis_url: str, tmp_path: Path, workers: list[Worker]
) -> None:
    settings = _settings(
        redis_url,
        tmp_path,
        visibility_timeout_s=6,
        task_time_limit_s=5,
        task_soft_time_limit_s=4,
    ).model_copy()
    settings.model.fake_latency_ms = 3000
    settings.model.fake_tokens = 30
    first = Worker(settings, tmp_path / "first.log")
    inbox = RedisReplyInbox(redis_url)
    await inbox.start()
    try:
        job = _job(inbox.address)
        events_queue = inbox.subscribe(job.turn_key)
        app = create_app(settings)
        check_broker(app, redis_url)
        send_job(app, job)
        async with asyncio.timeout(60):
            first_event = await events_queue.get()
        first.kill()  # SIGKILL mid-reply: no ack, no chance to clean up
        workers.append(Worker(settings, tmp_path / "second.log"))
        events = await _events_until_done(events_queue, 90)
        await asyncio.sleep(2)  # anything else would arrive now
        extra = []
        while not events_queue.empty():
            extra.append(events_queue.get_nowait())
    finally:
        await inbox.stop()
    assert events[-1].kind == "done"
    second_run = [e.text for e in events if e.run == events[-1].run and e.kind == "delta"]
    assert events[-1].text.startswith("".join(second_run))  # streamed again from the start
    assert first_event.kind == "delta"
    assert events[-1].run != first_event.run  # the answer came from the new worker's run
    assert [e.kind for e in extra if e.kind == "done"] == []
