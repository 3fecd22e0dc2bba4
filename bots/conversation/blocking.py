"""The threads that blocking store calls run on, one pool per process.

Store and queue calls block; the event loop must not. The conversation engine and the
operator desk share this pool, so the database sees one bounded number of connections from a
bot process. SQLite takes one writer at a time, so more threads only queue on its lock
(measured: 2 beat asyncio's default of 6); PostgreSQL gets 8.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

_T = TypeVar("_T")


class StoreThreads:
    def __init__(self, dialect: str) -> None:
        workers = 2 if dialect == "sqlite" else 8
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="soulchat-store")

    async def run(self, function: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        loop = asyncio.get_running_loop()
        call = partial(function, *args, **kwargs) if kwargs else partial(function, *args)
        return await loop.run_in_executor(self._pool, call)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
