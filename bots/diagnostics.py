"""``kill -USR1 <pid>``: log where every asyncio task of a bot process is waiting.

For an operator facing a bot that has gone quiet: the dump names each task and the line it is
awaiting, never any data (a user's words live in locals, which are not printed).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import signal

log = logging.getLogger(__name__)


def stop_on_signals(loop: asyncio.AbstractEventLoop) -> asyncio.Event:
    """An event set by Ctrl-C or SIGTERM, with the task dump on SIGUSR1: what a bot process
    waits on until it is asked to stop."""
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    install_task_dump(loop)
    return stop


def install_task_dump(loop: asyncio.AbstractEventLoop) -> None:
    with contextlib.suppress(NotImplementedError, AttributeError):
        loop.add_signal_handler(signal.SIGUSR1, log_tasks)


def log_tasks() -> None:
    """Group the running tasks by where they wait, most common first."""
    places: collections.Counter[str] = collections.Counter()
    for task in asyncio.all_tasks():
        frames = task.get_stack()
        where = " <- ".join(
            f"{f.f_code.co_name} ({f.f_code.co_filename.rsplit('/', 2)[-1]}:{f.f_lineno})"
            for f in reversed(frames)
        )
        places[where or "(not started)"] += 1
    lines = [f"{count:5d} x {where}" for where, count in places.most_common()]
    log.warning("%d asyncio tasks, by where they wait:\n%s", sum(places.values()), "\n".join(lines))
