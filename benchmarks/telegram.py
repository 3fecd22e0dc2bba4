"""The Telegram adapter under load, against the same load without Telegram (console path).

Both phases use the production shape: the service on the real Redis queue, a separate
``soulchat worker`` process (threads pool, concurrency 16) with a fake model of fixed latency,
replies over Redis streams, and a SQLite store in a temp dir. Simulated users each send
``--messages`` measured messages (after one unmeasured warm-up message), one after another:
the next message ``--think-s`` after the reply, as a person reads and answers.

* **telegram**: every user is a private chat on the fake Bot API server
  (``tests/fakes/telegram_api.py``, in this process); ``soulchat telegram`` runs as its own
  process, as in production, long-polls the fake, and its front desk and paced reply writer
  answer. A reply counts as delivered when the fake
  records the final text (a successful sendMessage or editMessageText carrying it). Users give
  consent first (not measured).
* **baseline (console path)**: the same users call ``service.receive`` directly with a sink
  that records the final reply, as ``soulchat chat`` does.

Reported: replies delivered per second, p50/p99 overhead beyond the model's own latency, Bot
API calls per reply, lost replies (must be 0) and calls that broke Telegram's per-chat limits
(must be 0, counted by the fake), and the bot process's CPU time per reply. On a small
machine every process here (load, fake server, bot, worker, Redis) shares the same cores, and
Telegram's own limit of about one message a second per chat bounds each user's turn from
below.

    .venv/bin/python benchmarks/telegram.py --users 200 --messages 5

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This file is named telegram.py, as the issue asks; its own folder on sys.path would shadow
# the python-telegram-bot package of the same name.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_common import benchmark_lock, logger  # noqa: E402
from inference.backends.fake import FAKE_REPLY  # noqa: E402

log = logger("telegram")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def overhead_figures(latencies: list[float], model_ms: float) -> dict[str, int]:
    """Time beyond the model's own, in ms: p50, p90, p99 and the worst."""
    figures = {
        "p50": percentile(latencies, 0.5),
        "p90": percentile(latencies, 0.9),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies, default=0.0),
    }
    return {f"overhead_{k}_ms": round((v - model_ms / 1000) * 1000) for k, v in figures.items()}


def worker_env(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SOULCHAT_DATA_DIR=str(data_dir),
        SOULCHAT_QUEUE__BROKER_URL=args.redis_url,
        SOULCHAT_QUEUE__REPLY_URL=args.redis_url,
        SOULCHAT_QUEUE__WORKER_POOL="threads",
        SOULCHAT_QUEUE__WORKER_CONCURRENCY="16",
        SOULCHAT_MODEL__BACKEND="fake",
        SOULCHAT_MODEL__FAKE_LATENCY_MS=str(args.model_ms),
        SOULCHAT_LOG_LEVEL=args.log_level,
    )
    return env


def make_settings(args: argparse.Namespace, data_dir: Path, base_url: str = "") -> Any:
    from soulchat.config import load_settings

    database = {"url": args.phase_database_url} if args.phase_database_url else {}
    return load_settings(
        data_dir=data_dir,
        queue={"broker_url": args.redis_url, "reply_url": args.redis_url},
        model={"backend": "fake", "fake_latency_ms": args.model_ms},
        telegram={"base_url": base_url, "flood_messages": 1000},
        database=database,
    )


class FinalWatcher:
    """Times of delivered final replies per chat, read incrementally from the fake's log.

    The fake logs a call when it arrives and fills in its status when it has answered, so
    calls still unanswered are looked at again on the next poll."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.seen = 0
        self.unanswered: list[Any] = []
        self.delivered: dict[int, list[float]] = {}

    def poll(self) -> None:
        with self.fake._lock:
            new = self.fake.calls[self.seen :]
            self.seen = len(self.fake.calls)
        calls, self.unanswered = [*self.unanswered, *new], []
        for call in calls:
            if call.status == 0:
                self.unanswered.append(call)
                continue
            final = call.method in ("sendMessage", "editMessageText") and call.status == 200
            if final and call.params.get("text") == FAKE_REPLY:
                # Calls finish out of order: keep each chat's times sorted.
                bisect.insort(self.delivered.setdefault(int(call.chat_id), []), call.monotonic)

    def count(self, chat_id: int) -> int:
        return len(self.delivered.get(chat_id, []))


def bot_env(args: argparse.Namespace, data_dir: Path, fake: Any) -> dict[str, str]:
    env = worker_env(args, data_dir)
    env.update(
        SOULCHAT_TELEGRAM__TOKEN=fake.token,
        SOULCHAT_TELEGRAM__BASE_URL=fake.base_url,
        SOULCHAT_TELEGRAM__FLOOD_MESSAGES="1000",
    )
    if args.phase_database_url:
        env["SOULCHAT_DATABASE__URL"] = args.phase_database_url
    return env


async def give_consent(args: argparse.Namespace, data_dir: Path, users: list[int]) -> None:
    from bots.runtime import open_service

    async with open_service(make_settings(args, data_dir), embedded_worker=False) as service:
        for user in users:
            await service.commands.set_consent("telegram", str(user), True)


def stored_roles(args: argparse.Namespace, data_dir: Path, user: int) -> list[str]:
    """Roles of the messages stored for a user, for diagnosing a lost reply."""
    from soulchat.store import open_store

    store = open_store(make_settings(args, data_dir))
    try:
        record = store.find_user("telegram", str(user))
        if record is None:
            return ["(no user)"]
        conversation = store.open_conversation(record.id)
        return [m.role for m in store.recent_messages(conversation, 100)]
    finally:
        store.close()


async def wait_for_polling(fake: Any, bot: Any, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not fake.calls_to("getUpdates"):
        if not bot.alive() or time.monotonic() > deadline:
            raise SystemExit(f"soulchat telegram did not start; see {bot.log_path}")
        await asyncio.sleep(0.1)


async def telegram_phase(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    from benchmarks.pipeline import Child
    from tests.fakes.telegram_api import FakeTelegramServer

    users = list(range(1000, 1000 + args.users))
    with FakeTelegramServer() as fake:
        for user in users:
            fake.user(user, language_code="en")
            fake.private_chat(user)
        await give_consent(args, data_dir, users)
        bot = Child(
            "soulchat-telegram",
            [sys.executable, "-m", "soulchat.cli", "telegram"],
            bot_env(args, data_dir, fake),
            data_dir.parent / "telegram.log",
        )
        try:
            await wait_for_polling(fake, bot)
            watcher = FinalWatcher(fake)
            calls_before = len(fake.calls)
            cpu_before = bot.cpu_s()
            latencies: list[float] = []
            lost: list[tuple[int, int]] = []
            started = time.monotonic()

            async def one_user(user: int) -> None:
                for index in range(args.messages + 1):  # the first one warms up, unmeasured
                    await asyncio.sleep(args.think_s)
                    sent = time.monotonic()
                    fake.user_text(f"message {index} from a tired person", user_id=user)
                    deadline = sent + args.timeout_s
                    while watcher.count(user) <= index and time.monotonic() < deadline:
                        await asyncio.sleep(0.02)
                    if index and watcher.count(user) > index:
                        latencies.append(watcher.delivered[user][index] - sent)
                    elif watcher.count(user) <= index:
                        lost.append((user, index))

            async def watch() -> None:
                while True:
                    watcher.poll()
                    await asyncio.sleep(0.01)

            watching = asyncio.create_task(watch())
            await asyncio.gather(*(one_user(user) for user in users))
            elapsed = time.monotonic() - started
            bot_cpu = bot.cpu_s() - cpu_before
            watching.cancel()
            watcher.poll()
            # Calls into a chat (sends, edits, typing); getUpdates polls are not per reply.
            with fake._lock:
                calls = sum(1 for c in fake.calls[calls_before:] if c.chat_id is not None)
            if lost:
                bot.process.send_signal(signal.SIGUSR1)  # the bot logs where its tasks wait
                await asyncio.sleep(1)
            for user, index in lost:
                others = [t for t in fake.bot_texts(user) if t != FAKE_REPLY]
                log(f"no reply to message {index} of user {user}; other bot texts: {others}")
                log(f"  stored for this user: {stored_roles(args, data_dir, user)}")
                chat_calls = [
                    f"{c.method} {c.status} +{c.monotonic - started:.1f}s"
                    for c in fake.chat_log(user)
                ]
                log(f"  calls into the chat: {chat_calls}")
            if lost:
                log(f"updates never fetched: {len(fake.pending_updates)}")
        finally:
            bot.stop()
            if lost:
                lines = bot.log_path.read_text().splitlines()
                notable = [line for line in lines if "HTTP Request" not in line]
                log("the bot's log, HTTP requests left out:\n" + "\n".join(notable[-80:]))
        delivered = sum(watcher.count(user) for user in users) - args.users  # minus warm-ups
        expected = args.users * args.messages
        return {
            "replies_per_s": round(delivered / elapsed, 1),
            **overhead_figures(latencies, args.model_ms),
            "api_calls_per_reply": round(calls / max(delivered, 1), 2),
            "bot_cpu_ms_per_reply": round(bot_cpu * 1000 / max(delivered + args.users, 1), 1),
            "lost_replies": expected - min(delivered, expected),
            "duplicate_replies": max(delivered - expected, 0),
            "limit_breaks": len(fake.violations),
        }


async def console_phase(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    from bots.conversation import Inbound
    from bots.runtime import open_service

    settings = make_settings(args, data_dir)
    latencies: list[float] = []
    delivered = 0

    class Sink:
        def __init__(self) -> None:
            self.done = asyncio.Event()

        async def notice(self, text: str) -> None: ...
        async def typing(self) -> None: ...
        async def reply_progress(self, text: str) -> None: ...
        async def reply_restarted(self) -> None: ...

        async def reply_final(self, text: str, *, replaced: bool) -> None:
            self.done.set()

    async with open_service(settings, embedded_worker=False) as service:
        started = time.monotonic()
        cpu_before = time.process_time()

        async def one_user(user: int) -> None:
            nonlocal delivered
            for index in range(args.messages + 1):  # the first one warms up, unmeasured
                await asyncio.sleep(args.think_s)
                sink = Sink()
                sent = time.monotonic()
                text = f"message {index} from a tired person"
                await service.receive(Inbound("console", str(user), text, locale="en"), sink)
                try:
                    await asyncio.wait_for(sink.done.wait(), args.timeout_s)
                except TimeoutError:
                    continue
                if index:
                    latencies.append(time.monotonic() - sent)
                    delivered += 1

        await asyncio.gather(*(one_user(user) for user in range(args.users)))
        elapsed = time.monotonic() - started
        # This process is the console "bot" (plus a trivial load generator).
        cpu = time.process_time() - cpu_before
    expected = args.users * args.messages
    return {
        "replies_per_s": round(delivered / elapsed, 1),
        **overhead_figures(latencies, args.model_ms),
        "cpu_ms_per_reply": round(cpu * 1000 / max(delivered + args.users, 1), 1),
        "lost_replies": expected - delivered,
    }


@contextlib.contextmanager
def phase_database(args: argparse.Namespace) -> Iterator[None]:
    """A scratch PostgreSQL database for one phase, when asked for one."""
    if not args.database_url:
        yield
        return
    from benchmarks.pipeline import scratch_postgres

    with scratch_postgres(args.database_url) as url:
        args.phase_database_url = url
        try:
            yield
        finally:
            args.phase_database_url = ""


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The load both chat-adapter benchmarks put on the service."""
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--model-ms", type=float, default=50)
    parser.add_argument("--timeout-s", type=float, default=120)
    # People take a while to read and answer; without a pause, Telegram's own limit of one
    # message a second per chat, not SoulChat, would set every user's pace.
    parser.add_argument("--think-s", type=float, default=1.2)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL server for the store (default: SQLite)"
    )
    parser.add_argument("--log-level", default="WARNING", help="of the bot and worker processes")
    parser.add_argument("--lock-wait", type=float, default=600)


def run_phases(
    args: argparse.Namespace,
    log: Any,
    name: str,
    phase: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The console baseline, then ``phase`` (an adapter's), on one ``soulchat worker`` and a
    flushed Redis DB, each with its own store."""
    from benchmarks.pipeline import Child

    args.phase_database_url = ""
    os.environ.setdefault("TQDM_DISABLE", "1")
    with benchmark_lock(args.lock_wait, log), tempfile.TemporaryDirectory() as tmp:
        flush_redis(args.redis_url)
        worker = Child(
            "soulchat-worker",
            [sys.executable, "-m", "soulchat.cli", "worker"],
            worker_env(args, Path(tmp) / "worker"),
            Path(tmp) / "worker.log",
        )
        try:
            log(f"baseline: {args.users} users x {args.messages} messages on the console path")
            with phase_database(args):
                baseline = asyncio.run(console_phase(args, Path(tmp) / "console"))
            log(json.dumps(baseline))
            log(f"{name}: the same load through the adapter")
            with phase_database(args):
                result = asyncio.run(phase(args, Path(tmp) / name))
            log(json.dumps(result))
        finally:
            worker.stop()
            flush_redis(args.redis_url)
    return baseline, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser)
    args = parser.parse_args()
    baseline, telegram = run_phases(args, log, "telegram", telegram_phase)
    summary = {
        "benchmark": "telegram",
        "users": args.users,
        "messages": args.messages,
        "model_ms": args.model_ms,
        "think_s": args.think_s,
        "store": "postgresql" if args.database_url else "sqlite",
        "value": telegram["replies_per_s"],
        "baseline": baseline["replies_per_s"],
        "ratio": round(telegram["replies_per_s"] / baseline["replies_per_s"], 2),
        "telegram": telegram,
        "console": baseline,
    }
    print(
        f"telegram {telegram['replies_per_s']} replies/s vs console {baseline['replies_per_s']} "
        f"({summary['ratio']}); p99 overhead {telegram['overhead_p99_ms']} ms vs "
        f"{baseline['overhead_p99_ms']} ms; {telegram['api_calls_per_reply']} API calls/reply; "
        f"lost {telegram['lost_replies']}, limit breaks {telegram['limit_breaks']}"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
