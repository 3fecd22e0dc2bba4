"""End-to-end throughput and latency of SoulChat's real message path, against bare Celery.

The path measured is the production one: ``ConversationService`` (opened with
``open_service(embedded_worker=False)``) stores each message, publishes a ``GenerationJob`` on a
real Redis broker, one or more separate ``soulchat worker`` processes (threads pool, fake model
with a fixed latency) stream the reply back over Redis streams, and the service stores it and
hands it to a sink. "Added latency" is the time from ``service.receive()`` to ``reply_final``
minus the fake model's fixed latency: everything SoulChat adds around the model.

Phases, all in one run and on the same broker (a dedicated Redis DB, flushed before and after):

1. baseline: a bare Celery no-op task with a Redis result backend, a worker with the same pool
   and concurrency, and as many concurrent client threads as there are users, each waiting on
   ``.get()`` before sending its next task (closed loop) -> tasks/s, p50/p99 round trip;
2. pipeline, closed loop: every simulated user sends its messages one after another, waiting for
   each final reply, all users at once -> delivered messages/s, added latency p50/p99;
3. pipeline, open loop: messages arrive at a fixed rate (default 50/s), each from a user that
   is not waiting for a reply -> added latency p50/p99 at that rate.

With ``--rounds N`` (default 2) phase 2 runs N times and the baseline N times (once before
the pipeline, then after it); the best round of each is reported, since other load on a shared
machine only ever slows a round, and every round's figure is listed. Before phase 2 every user
sends one unmeasured message (creates the users and conversations,
waits for the workers to start). Every message must get exactly one reply: the sinks count
missing and extra replies, and the store is checked at the end (user messages without an
answer, answers given twice). JSON: ``value`` = closed-loop messages/s, ``baseline`` = bare
Celery tasks/s, ``ratio`` = value / baseline (target >= 0.5), ``open_loop_added_latency_p99_ms``
(target <= 50), ``lost_replies`` / ``duplicate_replies`` (must be 0), and CPU milliseconds per
message of the service process, the worker(s) and Redis (the same for the baseline), which show
where the time goes on a small machine. ``--executor-threads`` and ``--switch-interval-ms`` are
for experiments only (they change the service process, not SoulChat's code).

    .venv/bin/python benchmarks/pipeline.py                      # SQLite store in a temp dir
    .venv/bin/python benchmarks/pipeline.py --database-url postgresql://postgres@127.0.0.1:5432/test

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import concurrent.futures
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_common import benchmark_lock, logger  # noqa: E402

PLATFORM = "bench"
BASELINE_QUEUE = "bench.noop"
BASELINE_TASK = "bench.noop"
MESSAGES = (
    "I had a long day at work and I feel tired.",
    "My sister and I argued about the holidays again.",
    "I keep thinking about the exam next week.",
    "Work has been stressful and I can not switch off in the evening.",
    "I moved to a new city and do not know anyone yet.",
    "Thanks, that helps a bit. What else could I try?",
    "My friend did not reply to my message and I feel ignored.",
    "I want to be kinder to myself but it is hard.",
)


log = logger("pipeline")


# -- child processes -------------------------------------------------------------------------
def _die_with_parent() -> None:
    """Children get SIGKILL if this process dies without cleaning up (kill -9, crash)."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Child:
    """A subprocess in its own process group, stopped (TERM, then KILL) on every exit path."""

    running: list[Child] = []  # noqa: RUF012 - process-wide registry on purpose

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log_path: Path):
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            list(argv),
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        Child.running.append(self)

    def cpu_s(self) -> float:
        """CPU seconds (user + system) used so far by the process (Linux /proc; 0 if gone)."""
        return process_cpu_s(self.process.pid)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace_s: float = 10.0) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        # Leftovers in the group (none expected): make sure.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if not self._log.closed:
            self._log.close()
        if self in Child.running:
            Child.running.remove(self)

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def process_cpu_s(pid: int) -> float:
    """utime + stime of a process from /proc/PID/stat, in seconds (0.0 when unreadable)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def stop_all_children() -> None:
    for child in list(Child.running):
        child.stop(grace_s=5.0)


STOP = threading.Event()  # a signal arrived: send nothing more, clean up, leave


def kill_children_now() -> None:
    """From a signal handler: SIGKILL every child's process group, without waiting."""
    for child in list(Child.running):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.process.pid, signal.SIGKILL)


def _terminate(signum: int, _frame: Any) -> None:
    STOP.set()
    kill_children_now()
    raise SystemExit(128 + signum)


# -- statistics ------------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000.0, 2)


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# -- Redis helpers ---------------------------------------------------------------------------
def redis_cpu_s(client: Any) -> float:
    info = client.info("cpu")
    return float(info.get("used_cpu_user", 0.0)) + float(info.get("used_cpu_sys", 0.0))


# -- phase 1: bare Celery round trip ----------------------------------------------------------
def baseline_app(url: str) -> Any:
    """A bare Celery app: one no-op task, a Redis broker and a Redis result backend."""
    from celery import Celery

    app = Celery("bench_baseline", broker=url, backend=url, set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=BASELINE_QUEUE,
        result_expires=600,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )

    @app.task(name=BASELINE_TASK, shared=False)
    def noop() -> None:
        return None

    return app


def run_baseline_worker(url: str, concurrency: int) -> None:
    """Entry point of the baseline worker subprocess (``--baseline-worker``)."""
    app = baseline_app(url)
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            "--loglevel=WARNING",
            f"--queues={BASELINE_QUEUE}",
            "--without-gossip",
            "--without-mingle",
        ]
    )


def baseline_phase(args: argparse.Namespace, url: str, workdir: Path, redis: Any) -> dict[str, Any]:
    log(
        f"baseline: starting {args.workers} bare Celery worker(s), threads pool, "
        f"concurrency {args.concurrency}"
    )
    workers = [
        Child(
            f"baseline-worker-{i}",
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--baseline-worker",
                "--broker",
                url,
                "--concurrency",
                str(args.concurrency),
            ],
            dict(os.environ),
            workdir / f"baseline-worker-{i}.log",
        )
        for i in range(args.workers)
    ]
    app = baseline_app(url)
    send = app.signature(BASELINE_TASK)
    clients = args.users
    per_client = max(1, args.baseline_tasks // clients)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []
    ready = threading.Barrier(clients + 1)
    go = threading.Event()
    stop = threading.Event()

    def client(index: int) -> None:
        try:
            # Warm-up: this thread's result-backend connection and the worker itself.
            send.apply_async().get(timeout=args.start_timeout)
        except BaseException as exc:  # reported below
            errors.append(exc)
        try:
            ready.wait(args.start_timeout + 30)
        except threading.BrokenBarrierError:
            return
        go.wait()
        mine = latencies[index]
        for _ in range(per_client):
            if stop.is_set():
                return
            started = time.perf_counter()
            try:
                send.apply_async().get(timeout=args.reply_timeout)
            except BaseException as exc:
                errors.append(exc)
                continue
            mine.append(time.perf_counter() - started)

    threads = [
        threading.Thread(target=client, args=(i,), name=f"baseline-client-{i}", daemon=True)
        for i in range(clients)
    ]
    try:
        for thread in threads:
            thread.start()
        ready.wait(args.start_timeout + 30)
        if errors:
            raise RuntimeError(
                f"baseline warm-up failed: {errors[0]!r}\n" + "\n".join(w.tail() for w in workers)
            )
        log(f"baseline: {clients} clients x {per_client} no-op round trips")
        cpu_before = [w.cpu_s() for w in workers]
        self_before = time.process_time()
        redis_before = redis_cpu_s(redis)
        started = time.perf_counter()
        go.set()
        deadline = started + args.phase_timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.perf_counter()))
        elapsed = time.perf_counter() - started
        stop.set()
        worker_cpu = sum(w.cpu_s() for w in workers) - sum(cpu_before)
        self_cpu = time.process_time() - self_before
        redis_cpu = redis_cpu_s(redis) - redis_before
    finally:
        go.set()
        stop.set()
        ready.abort()
        for worker in workers:
            worker.stop()
    flat = [x for mine in latencies for x in mine]
    done = len(flat)
    rate = done / elapsed if elapsed > 0 else 0.0
    log(
        f"baseline: {done} round trips in {elapsed:.2f}s = {rate:.1f} tasks/s, "
        f"p50 {ms(percentile(flat, 50))} ms, p99 {ms(percentile(flat, 99))} ms, "
        f"errors {len(errors)}"
    )
    return {
        "tasks": done,
        "errors": len(errors),
        "seconds": elapsed,
        "rate": rate,
        "p50_s": percentile(flat, 50),
        "p99_s": percentile(flat, 99),
        "cpu_ms_per_task": {
            "client": self_cpu * 1000 / max(done, 1),
            "worker": worker_cpu * 1000 / max(done, 1),
            "redis": redis_cpu * 1000 / max(done, 1),
        },
    }


# -- phases 2 and 3: the SoulChat pipeline ----------------------------------------------------
@dataclass
class Sample:
    sent: float  # service.receive() called
    stored: float  # service.receive() returned
    final: float | None  # reply_final seen; None: no reply in time


@dataclass
class UserSink:
    """A ReplySink that wakes the simulated user when its reply is final."""

    unavailable_text: str
    waiter: asyncio.Future[float | None] | None = None
    finals: int = 0
    extra_finals: int = 0
    replaced: int = 0
    progress: int = 0
    restarts: int = 0
    notices: list[str] = field(default_factory=list)

    async def notice(self, text: str) -> None:
        self.notices.append(text)
        if text == self.unavailable_text and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)  # the turn failed: no reply will come

    async def typing(self) -> None:
        pass

    async def reply_progress(self, text: str) -> None:
        self.progress += 1

    async def reply_restarted(self) -> None:
        self.restarts += 1

    async def reply_final(self, text: str, *, replaced: bool) -> None:
        now = time.perf_counter()
        self.finals += 1
        self.replaced += int(replaced)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(now)
        else:
            self.extra_finals += 1


@dataclass
class SimUser:
    user_id: str
    sink: UserSink
    sent: int = 0
    busy: bool = False


async def send_one(service: Any, user: SimUser, timeout: float) -> Sample:
    from bots.conversation import Inbound

    if STOP.is_set():
        raise asyncio.CancelledError
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[float | None] = loop.create_future()
    user.sink.waiter = waiter
    user.busy = True
    text = MESSAGES[(user.sent + zlib.crc32(user.user_id.encode())) % len(MESSAGES)]
    message_id = f"{user.user_id}-{user.sent}"
    user.sent += 1
    try:
        sent = time.perf_counter()
        await service.receive(
            Inbound(PLATFORM, user.user_id, text, message_id=message_id, locale="en"), user.sink
        )
        stored = time.perf_counter()
        try:
            final = await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            final = None
        return Sample(sent, stored, final)
    finally:
        user.sink.waiter = None
        user.busy = False


def summarise(samples: list[Sample], latency_s: float, elapsed: float) -> dict[str, Any]:
    delivered = [s for s in samples if s.final is not None]
    added = [s.final - s.sent - latency_s for s in delivered if s.final is not None]
    receive = [s.stored - s.sent for s in samples]
    return {
        "sent": len(samples),
        "delivered": len(delivered),
        "lost": len(samples) - len(delivered),
        "seconds": elapsed,
        "rate": len(delivered) / elapsed if elapsed > 0 else 0.0,
        "added_p50_s": percentile(added, 50),
        "added_p90_s": percentile(added, 90),
        "added_p99_s": percentile(added, 99),
        "added_max_s": max(added) if added else None,
        "receive_p50_s": percentile(receive, 50),
        "receive_p99_s": percentile(receive, 99),
    }


async def run_users(
    service: Any, users: list[SimUser], per_user: int, timeout: float, limit_s: float
) -> tuple[list[Sample], float, int]:
    """Closed loop: each user sends ``per_user`` messages, one after another."""
    samples: list[Sample] = []

    async def one_user(user: SimUser) -> None:
        for _ in range(per_user):
            samples.append(await send_one(service, user, timeout))

    started = time.perf_counter()
    tasks = [asyncio.create_task(one_user(u)) for u in users]
    try:
        done, pending = await asyncio.wait(tasks, timeout=limit_s)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    elapsed = time.perf_counter() - started
    for task in pending:
        task.cancel()
    for task in done:
        if task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
    unfinished = len(users) * per_user - len(samples)
    return samples, elapsed, unfinished


async def open_loop(
    service: Any, users: list[SimUser], rate: float, seconds: float, timeout: float
) -> tuple[list[Sample], float, list[float], int]:
    """Messages arrive every 1/rate s, each from a user that is not waiting for a reply."""
    count = max(1, int(rate * seconds))
    samples: list[Sample] = []
    lags: list[float] = []
    idle = deque(users)
    no_idle = 0
    tasks: list[asyncio.Task[None]] = []

    async def one(user: SimUser) -> None:
        samples.append(await send_one(service, user, timeout))

    start = time.perf_counter() + 0.05
    for k in range(count):
        if STOP.is_set():
            break
        target = start + k / rate
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(max(0.0, time.perf_counter() - target))
        user = None
        for _ in range(len(idle)):
            candidate = idle[0]
            idle.rotate(-1)
            if not candidate.busy:
                user = candidate
                break
        if user is None:  # every user is waiting: a new one arrives
            no_idle += 1
            user = SimUser(f"open-{len(users)}-{k}", UserSink(users[0].sink.unavailable_text))
            users.append(user)
            idle.append(user)
        user.busy = True
        tasks.append(asyncio.create_task(one(user)))
    sent_until = time.perf_counter()
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return samples, sent_until - start, lags, no_idle


def store_check(store: Any) -> dict[str, int]:
    """Exactly one stored answer per user message, from the store itself."""
    from sqlalchemy import and_, exists, func, select
    from sqlalchemy.orm import aliased

    from soulchat.store.models import Message

    answer = aliased(Message)
    with store.engine.connect() as conn:
        users = conn.scalar(select(func.count()).where(Message.role == "user")) or 0
        assistants = conn.scalar(select(func.count()).where(Message.role == "assistant")) or 0
        unanswered = (
            conn.scalar(
                select(func.count()).where(
                    Message.role == "user",
                    ~exists().where(
                        and_(answer.role == "assistant", answer.reply_to_id == Message.id)
                    ),
                )
            )
            or 0
        )
        doubled = (
            conn.scalar(
                select(func.count()).select_from(
                    select(Message.reply_to_id)
                    .where(Message.role == "assistant")
                    .group_by(Message.reply_to_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            )
            or 0
        )
    return {
        "user_messages": int(users),
        "assistant_messages": int(assistants),
        "unanswered": int(unanswered),
        "answered_twice": int(doubled),
    }


async def pipeline_phases(
    args: argparse.Namespace, settings: Any, workers: list[Child], redis: Any
) -> dict[str, Any]:
    from bots.runtime import open_service
    from bots.texts import text as say

    if args.executor_threads:
        asyncio.get_running_loop().set_default_executor(
            concurrent.futures.ThreadPoolExecutor(args.executor_threads)
        )
    latency_s = args.latency_ms / 1000.0
    unavailable = say("en", "unavailable")
    users = [SimUser(f"u{i:04d}", UserSink(unavailable)) for i in range(args.users)]
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()

    def on_signal(signum: int) -> None:
        # Python 3.11's wait_for can swallow a cancellation; failing every waiter and STOP
        # make sure no simulated user goes on sending.
        log(f"signal {signum}: stopping")
        STOP.set()
        kill_children_now()
        for user in users:
            if user.sink.waiter is not None and not user.sink.waiter.done():
                user.sink.waiter.cancel()
        if main_task is not None:
            main_task.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    per_user = max(1, args.messages // args.users)
    result: dict[str, Any] = {}
    async with open_service(settings, embedded_worker=False) as service:
        # Warm-up (not measured): creates every user and conversation, waits for the workers.
        log(f"pipeline: warm-up, 1 message per user ({args.users}), waiting for the worker(s)")
        warm, warm_s, warm_unfinished = await run_users(
            service, users, 1, args.start_timeout, args.start_timeout + 30
        )
        warm_lost = sum(1 for s in warm if s.final is None) + warm_unfinished
        if warm_lost:
            raise RuntimeError(
                f"warm-up: {warm_lost} of {args.users} messages got no reply\n"
                + "\n".join(w.tail() for w in workers)
            )
        log(f"pipeline: warm-up done in {warm_s:.2f}s")

        rounds = []
        for number in range(1, args.rounds + 1):
            log(
                f"pipeline: closed loop {number}/{args.rounds}, {args.users} users x "
                f"{per_user} messages"
            )
            cpu_before = [w.cpu_s() for w in workers]
            self_before = time.process_time()
            redis_before = redis_cpu_s(redis)
            closed, closed_s, unfinished = await run_users(
                service, users, per_user, args.reply_timeout, args.phase_timeout
            )
            worker_cpu = sum(w.cpu_s() for w in workers) - sum(cpu_before)
            self_cpu = time.process_time() - self_before
            redis_cpu = redis_cpu_s(redis) - redis_before
            summary = summarise(closed, latency_s, closed_s)
            summary["lost"] += unfinished
            n = max(summary["delivered"], 1)
            summary["cpu_ms_per_message"] = {
                "service": self_cpu * 1000 / n,
                "worker": worker_cpu * 1000 / n,
                "redis": redis_cpu * 1000 / n,
            }
            rounds.append(summary)
            log(
                f"pipeline: closed loop {number}: {summary['delivered']}/"
                f"{summary['sent'] + unfinished} delivered in {closed_s:.2f}s = "
                f"{summary['rate']:.1f} msg/s, added latency p50 {ms(summary['added_p50_s'])} ms "
                f"p99 {ms(summary['added_p99_s'])} ms, lost {summary['lost']}"
            )
        result["closed_rounds"] = rounds

        if args.open_seconds > 0 and args.rate > 0:
            log(f"pipeline: open loop, {args.rate:g} messages/s for {args.open_seconds:g}s")
            cpu_before = [w.cpu_s() for w in workers]
            self_before = time.process_time()
            opened, open_s, lags, no_idle = await open_loop(
                service, users, args.rate, args.open_seconds, args.reply_timeout
            )
            worker_cpu = sum(w.cpu_s() for w in workers) - sum(cpu_before)
            self_cpu = time.process_time() - self_before
            summary = summarise(opened, latency_s, open_s)
            summary["offered_rate"] = args.rate
            summary["rate"] = summary["delivered"] / open_s if open_s > 0 else 0.0
            summary["send_lag_p99_s"] = percentile(lags, 99)
            summary["users_all_busy"] = no_idle
            n = max(summary["delivered"], 1)
            summary["cpu_ms_per_message"] = {
                "service": self_cpu * 1000 / n,
                "worker": worker_cpu * 1000 / n,
            }
            result["open"] = summary
            log(
                f"pipeline: open loop {summary['delivered']}/{summary['sent']} delivered, "
                f"added latency p50 {ms(summary['added_p50_s'])} ms p99 "
                f"{ms(summary['added_p99_s'])} ms, send lag p99 "
                f"{ms(summary['send_lag_p99_s'])} ms"
            )

        await asyncio.sleep(args.drain_s)  # anything late or doubled would arrive now
        finals = sum(u.sink.finals for u in users)
        extra = sum(u.sink.extra_finals for u in users)
        notices = sum(len(u.sink.notices) for u in users)
        sent = sum(u.sent for u in users)
        result["check"] = {
            "messages_sent": sent,
            "final_replies": finals,
            "extra_replies": extra,
            "replaced_replies": sum(u.sink.replaced for u in users),
            "notices": notices,
            "restarts": sum(u.sink.restarts for u in users),
            **store_check(service.store),
            "turns_marked_done": sum(1 for _ in redis.scan_iter("soulchat:done:*", count=1000)),
        }
    return result


def pipeline_phase(
    args: argparse.Namespace, url: str, workdir: Path, redis: Any, database_url: str
) -> dict[str, Any]:
    from soulchat.config import load_settings

    data_dir = workdir / "data"
    data_dir.mkdir()
    overrides: dict[str, Any] = {
        "data_dir": data_dir,
        "log_level": "WARNING",
        "queue": {"broker_url": url, "reply_url": url},
        "model": {
            "backend": "fake",
            "fake_latency_ms": args.latency_ms,
            "fake_tokens": args.chunks,
        },
    }
    if database_url:
        overrides["database"] = {"url": database_url}
    settings = load_settings(**overrides)
    env = dict(os.environ)
    env.update(
        SOULCHAT_DATA_DIR=str(data_dir),
        SOULCHAT_QUEUE__BROKER_URL=url,
        SOULCHAT_QUEUE__REPLY_URL=url,
        SOULCHAT_QUEUE__WORKER_POOL="threads",
        SOULCHAT_QUEUE__WORKER_CONCURRENCY=str(args.concurrency),
        SOULCHAT_MODEL__BACKEND="fake",
        SOULCHAT_MODEL__FAKE_LATENCY_MS=str(args.latency_ms),
        SOULCHAT_MODEL__FAKE_TOKENS=str(args.chunks),
        SOULCHAT_LOG_LEVEL="WARNING",
    )
    log(
        f"pipeline: starting {args.workers} `soulchat worker` process(es), threads pool, "
        f"concurrency {args.concurrency}, fake model {args.latency_ms:g} ms / {args.chunks} "
        f"chunks; store {settings.database.url.split(':', 1)[0]}"
    )
    workers = [
        Child(
            f"soulchat-worker-{i}",
            [sys.executable, "-m", "soulchat.cli", "worker"],
            env,
            workdir / f"soulchat-worker-{i}.log",
        )
        for i in range(args.workers)
    ]
    try:
        return asyncio.run(pipeline_phases(args, settings, workers, redis))
    except asyncio.CancelledError:
        if STOP.is_set():
            raise SystemExit(130) from None
        raise
    finally:
        # The loop's own signal handlers are gone with it.
        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for worker in workers:
            if not worker.alive() and not STOP.is_set():
                log(f"{worker.name} had exited:\n{worker.tail()}")
            worker.stop()


# -- PostgreSQL scratch database --------------------------------------------------------------
@contextlib.contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    """A fresh database next to the one ``url`` names, dropped afterwards."""
    import psycopg

    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    admin = urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    name = f"soulchat_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"created scratch database {name}")
    try:
        yield urlunsplit((scheme, parts.netloc, "/" + name, parts.query, ""))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped scratch database {name}")


# -- main ------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--redis",
        default="redis://127.0.0.1:6379",
        help="Redis server (loopback), without the DB number",
    )
    parser.add_argument(
        "--redis-db",
        type=int,
        default=14,
        help="dedicated Redis DB, flushed before and after (default 14)",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL server URL: a scratch database is created next to the "
        "one named and dropped afterwards (default: SQLite in a temp dir)",
    )
    parser.add_argument("--users", type=int, default=200, help="simulated users (and clients)")
    parser.add_argument(
        "--messages",
        type=int,
        default=2000,
        help="closed-loop messages in all (spread over the users)",
    )
    parser.add_argument(
        "--baseline-tasks",
        type=int,
        default=None,
        help="bare Celery round trips in all (default: --messages)",
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--concurrency", type=int, default=16, help="threads per worker")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="fake model latency")
    parser.add_argument("--chunks", type=int, default=4, help="fake model chunks per reply")
    parser.add_argument("--rate", type=float, default=50.0, help="open-loop messages/s")
    parser.add_argument(
        "--open-seconds", type=float, default=20.0, help="open-loop duration (0 skips the phase)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="closed-loop rounds, and baseline runs (one before the pipeline, the others "
        "after it); the best of each is reported",
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--reply-timeout",
        type=float,
        default=30.0,
        help="seconds a message waits for its reply before it counts as lost",
    )
    parser.add_argument(
        "--phase-timeout",
        type=float,
        default=150.0,
        help="upper bound of one measured phase, in seconds",
    )
    parser.add_argument(
        "--start-timeout", type=float, default=60.0, help="seconds the worker(s) may take to start"
    )
    parser.add_argument(
        "--drain-s",
        type=float,
        default=2.0,
        help="wait this long at the end for late or doubled replies",
    )
    parser.add_argument(
        "--executor-threads",
        type=int,
        default=0,
        help="experiment: the service loop's default executor size "
        "(0: asyncio's default, as in production)",
    )
    parser.add_argument(
        "--switch-interval-ms",
        type=float,
        default=0.0,
        help="experiment: sys.setswitchinterval of this (service) process "
        "(0: Python's default, 5 ms)",
    )
    parser.add_argument(
        "--lock-wait",
        type=float,
        default=300.0,
        help="seconds to wait while another SoulChat benchmark runs on this machine",
    )
    parser.add_argument("--target-ratio", type=float, default=0.5)
    parser.add_argument("--target-p99-ms", type=float, default=50.0)
    parser.add_argument("--baseline-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--broker", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_tasks is None:
        args.baseline_tasks = args.messages
    if min(args.users, args.messages, args.workers, args.concurrency, args.chunks, args.rounds) < 1:
        parser.error(
            "--users, --messages, --workers, --concurrency, --chunks and --rounds must be >= 1"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.baseline_worker:
        run_baseline_worker(args.broker, args.concurrency)
        return 0
    import redis as redis_lib

    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    signal.signal(signal.SIGTERM, _terminate)
    if args.switch_interval_ms > 0:
        sys.setswitchinterval(args.switch_interval_ms / 1000.0)
    atexit.register(stop_all_children)
    url = f"{args.redis.rstrip('/')}/{args.redis_db}"
    host = urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("only loopback Redis is allowed for this benchmark")
    lock = contextlib.ExitStack()
    lock.enter_context(benchmark_lock(args.lock_wait, log))
    atexit.register(lock.close)
    redis = redis_lib.Redis.from_url(url)
    try:
        redis.ping()
    except redis_lib.RedisError as exc:
        raise SystemExit(f"cannot reach Redis at {url}: {exc}") from None
    redis.flushdb()
    load_before = os.getloadavg()
    started = time.perf_counter()
    out: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="soulchat-bench-") as tmp:
            workdir = Path(tmp)
            baselines = []
            if not args.skip_baseline:
                baselines.append(baseline_phase(args, url, workdir, redis))
                redis.flushdb()
            with contextlib.ExitStack() as stack:
                database_url = ""
                if args.database_url:
                    database_url = stack.enter_context(scratch_postgres(args.database_url))
                pipe = pipeline_phase(args, url, workdir, redis, database_url)
            redis.flushdb()
            for _ in range(1, args.rounds if not args.skip_baseline else 0):
                # Again after the pipeline: the machine's other load drifts.
                baselines.append(baseline_phase(args, url, workdir, redis))
                redis.flushdb()
    finally:
        stop_all_children()
        with contextlib.suppress(Exception):
            redis.flushdb()
        redis.close()
        load_after = os.getloadavg()
        lock.close()

    # Best of the rounds, on both sides: other load on the machine only ever slows a round.
    rounds = pipe["closed_rounds"]
    closed = max(rounds, key=lambda r: r["rate"])
    baseline = max(baselines, key=lambda b: b["rate"]) if baselines else None
    check = pipe["check"]
    opened = pipe.get("open")
    lost = sum(r["lost"] for r in rounds) + (opened["lost"] if opened else 0)
    lost_in_store = check["unanswered"]
    duplicates = check["extra_replies"] + check["answered_twice"]
    value = closed["rate"]
    base_rate = baseline["rate"] if baseline else None
    ratio = value / base_rate if base_rate else None
    open_p99_ms = ms(opened["added_p99_s"]) if opened else None
    out = {
        "benchmark": "pipeline",
        "value": rounded(value, 1),
        "baseline": rounded(base_rate, 1),
        "ratio": rounded(ratio, 3),
        "unit": "messages/s",
        "throughput_target_ratio": args.target_ratio,
        "throughput_target_met": None if ratio is None else ratio >= args.target_ratio,
        "value_runs": [round(r["rate"], 1) for r in rounds],
        "baseline_runs": [round(b["rate"], 1) for b in baselines],
        "added_latency_p50_ms": ms(closed["added_p50_s"]),
        "added_latency_p99_ms": ms(closed["added_p99_s"]),
        "receive_p50_ms": ms(closed["receive_p50_s"]),
        "receive_p99_ms": ms(closed["receive_p99_s"]),
        "baseline_p50_ms": ms(baseline["p50_s"]) if baseline else None,
        "baseline_p99_ms": ms(baseline["p99_s"]) if baseline else None,
        "baseline_errors": baseline["errors"] if baseline else None,
        "open_loop_rate": args.rate if opened else None,
        "open_loop_delivered_rate": rounded(opened["rate"], 1) if opened else None,
        "open_loop_added_latency_p50_ms": ms(opened["added_p50_s"]) if opened else None,
        "open_loop_added_latency_p90_ms": ms(opened["added_p90_s"]) if opened else None,
        "open_loop_added_latency_p99_ms": open_p99_ms,
        "open_loop_added_latency_max_ms": ms(opened["added_max_s"]) if opened else None,
        "open_loop_send_lag_p99_ms": ms(opened["send_lag_p99_s"]) if opened else None,
        "latency_target_p99_ms": args.target_p99_ms,
        "latency_target_met": None if open_p99_ms is None else open_p99_ms <= args.target_p99_ms,
        "lost_replies": lost,
        "lost_replies_in_store": lost_in_store,
        "duplicate_replies": duplicates,
        "exactly_one_reply_each": lost == 0 and lost_in_store == 0 and duplicates == 0,
        "check": check,
        "cpu_ms_per_message": {k: round(v, 3) for k, v in closed["cpu_ms_per_message"].items()},
        "baseline_cpu_ms_per_task": (
            {k: round(v, 3) for k, v in baseline["cpu_ms_per_task"].items()} if baseline else None
        ),
        "worker_capacity_msgs_per_s": round(
            args.workers * args.concurrency / (args.latency_ms / 1000.0), 1
        )
        if args.latency_ms > 0
        else None,
        "users": args.users,
        "messages": closed["sent"],
        "rounds": args.rounds,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "fake_latency_ms": args.latency_ms,
        "fake_chunks": args.chunks,
        "store": "postgresql" if args.database_url else "sqlite",
        "cpu_cores": os.cpu_count(),
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in load_after],
        "wall_s": round(time.perf_counter() - started, 1),
    }
    log(
        f"every message got exactly one reply: {out['exactly_one_reply_each']} (lost {lost}, "
        f"unanswered in store {lost_in_store}, duplicates {duplicates})"
    )
    if ratio is not None:
        log(
            f"throughput target (ratio >= {args.target_ratio}): "
            f"{'MET' if out['throughput_target_met'] else 'NOT MET'} ({ratio:.3f})"
        )
    if open_p99_ms is not None:
        log(
            f"latency target (p99 added <= {args.target_p99_ms:g} ms at {args.rate:g}/s): "
            f"{'MET' if out['latency_target_met'] else 'NOT MET'} ({open_p99_ms} ms)"
        )
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        stop_all_children()
        sys.exit(130)
