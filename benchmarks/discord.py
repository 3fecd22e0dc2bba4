"""The Discord adapter under load, against the same load without Discord (console path).

The load and the production shape are the Telegram benchmark's (``benchmarks/telegram.py``):
the service on the real Redis queue, a separate ``soulchat worker`` process (threads pool,
concurrency 16) with a fake model of fixed latency, replies over Redis streams, a SQLite store
in a temp dir; each simulated user sends ``--messages`` measured messages (after one unmeasured
warm-up) one after another, the next ``--think-s`` after the reply.

* **discord**: every user DMs the bot. discord.py runs unmodified against simcord's in-memory
  Discord (REST routes and gateway events), in this process: there is no loopback Discord
  server to run ``soulchat discord`` against as its own process, so the bot shares this process
  with the load generator (which only creates messages and reads the REST log). A message is
  created in the user's DM as Discord would deliver it; a reply counts as delivered when the
  bot's REST call carrying the final text (a new message or an edit) is seen, polled every
  10 ms. Users give consent first (not measured).
* **baseline (console path)**: the same users call ``service.receive`` directly.

Reported: replies delivered per second, p50/p99 overhead beyond the model's own latency,
Discord REST calls per reply, lost replies (must be 0), messages screened without the
semantic layer because it was busy, and CPU time per reply of the bot's process.

    .venv/bin/python benchmarks/discord.py --users 200 --messages 5

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This file is named discord.py, as the issue asks; its own folder on sys.path would shadow
# the discord.py package of the same name.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_common import logger  # noqa: E402
from benchmarks.telegram import (  # noqa: E402
    add_load_arguments,
    make_settings,
    overhead_figures,
    run_phases,
)
from inference.backends.fake import FAKE_REPLY  # noqa: E402

log = logger("discord")


class FinalWatcher:
    """When each DM channel got its final replies, read incrementally from the REST log."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.seen = 0
        self.delivered: dict[int, list[float]] = {}

    def poll(self) -> None:
        now = time.monotonic()
        requests = self.backend.http_requests
        new, self.seen = requests[self.seen :], len(requests)
        for request in new:
            body = request.json if isinstance(request.json, dict) else {}
            if body.get("content") != FAKE_REPLY or request.method not in ("POST", "PATCH"):
                continue
            channel = int(request.path.split("/")[2])
            self.delivered.setdefault(channel, []).append(now)

    def count(self, channel: int) -> int:
        return len(self.delivered.get(channel, []))


async def discord_phase(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    import simcord

    from bots.discord.app import SoulChatDiscord
    from bots.runtime import open_runtime

    settings = make_settings(args, data_dir)
    settings.discord.flood_messages = 1000
    async with open_runtime(settings, embedded_worker=False) as runtime:
        service = runtime.service
        bot = SoulChatDiscord(runtime)
        async with simcord.run(bot, settle_timeout=60, check_errors=False) as env:
            users = [env.create_user(f"user{n}") for n in range(args.users)]
            channels = {user.id: user.dm_channel.id for user in users}
            for user in users:
                await service.commands.set_consent("discord", str(user.id), True)
            watcher = FinalWatcher(env.backend)
            watcher.poll()
            calls_before = len(env.backend.http_requests)
            cpu_before = time.process_time()
            latencies: list[float] = []
            lost: list[tuple[int, int]] = []
            started = time.monotonic()

            async def one_user(user: Any) -> None:
                channel = channels[user.id]
                for index in range(args.messages + 1):  # the first one warms up, unmeasured
                    await asyncio.sleep(args.think_s)
                    sent = time.monotonic()
                    env.backend.create_message(
                        channel, user.id, f"message {index} from a tired person"
                    )
                    deadline = sent + args.timeout_s
                    while watcher.count(channel) <= index and time.monotonic() < deadline:
                        await asyncio.sleep(0.01)
                    if index and watcher.count(channel) > index:
                        latencies.append(watcher.delivered[channel][index] - sent)
                    elif watcher.count(channel) <= index:
                        lost.append((user.id, index))

            async def watch() -> None:
                while True:
                    watcher.poll()
                    await asyncio.sleep(0.01)

            watching = asyncio.create_task(watch())
            await asyncio.gather(*(one_user(user) for user in users))
            elapsed = time.monotonic() - started
            cpu = time.process_time() - cpu_before
            watching.cancel()
            watcher.poll()
            calls = len(env.backend.http_requests) - calls_before
            for user_id, index in lost[:10]:
                log(f"no reply to message {index} of user {user_id}")
            shed = service.semantic_shed
        await bot.close()
    delivered = sum(watcher.count(channel) for channel in channels.values()) - args.users
    expected = args.users * args.messages
    return {
        "replies_per_s": round(delivered / elapsed, 1),
        **overhead_figures(latencies, args.model_ms),
        "api_calls_per_reply": round(calls / max(delivered, 1), 2),
        "cpu_ms_per_reply": round(cpu * 1000 / max(delivered + args.users, 1), 1),
        "lost_replies": expected - min(delivered, expected),
        "duplicate_replies": max(delivered - expected, 0),
        "screened_without_semantic_layer": shed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_load_arguments(parser)
    args = parser.parse_args()
    baseline, result = run_phases(args, log, "discord", discord_phase)
    summary = {
        "benchmark": "discord",
        "users": args.users,
        "messages": args.messages,
        "model_ms": args.model_ms,
        "think_s": args.think_s,
        "store": "postgresql" if args.database_url else "sqlite",
        "value": result["replies_per_s"],
        "baseline": baseline["replies_per_s"],
        "ratio": round(result["replies_per_s"] / baseline["replies_per_s"], 2),
        "discord": result,
        "console": baseline,
    }
    print(
        f"discord {result['replies_per_s']} replies/s vs console {baseline['replies_per_s']} "
        f"({summary['ratio']}); p99 overhead {result['overhead_p99_ms']} ms vs "
        f"{baseline['overhead_p99_ms']} ms; {result['api_calls_per_reply']} API calls/reply; "
        f"lost {result['lost_replies']}"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
