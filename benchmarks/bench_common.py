"""What both benchmarks share: progress lines on stderr and a machine-wide lock."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path


def logger(name: str) -> Callable[[str], None]:
    def log(message: str) -> None:
        print(f"[{name} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    return log


@contextlib.contextmanager
def benchmark_lock(wait_s: float, log: Callable[[str], None]) -> Iterator[None]:
    """One SoulChat benchmark at a time on this machine: they share the CPU (and the pipeline
    benchmark a Redis DB that it flushes). Waits up to ``wait_s`` for a running one to end."""
    import fcntl

    path = Path(tempfile.gettempdir()) / "soulchat-benchmarks.lock"
    with path.open("a") as handle:
        deadline = time.monotonic() + wait_s
        waiting = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    log(f"another SoulChat benchmark holds {path}; waiting up to {wait_s:g}s")
                    waiting = True
                if time.monotonic() > deadline:
                    raise SystemExit(f"gave up waiting for {path} (--lock-wait)") from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
