"""The reply path: how a worker's tokens reach the adapter process that owns the user.

Every adapter process owns one *inbox*; a job names it in ``reply_to``. Workers publish
``ReplyEvent``s to that inbox and the adapter's single reader hands each event to the turn
waiting for it. Two implementations of the same contract:

- Redis (``redis://``): the inbox is a Redis stream (XADD by workers, one blocking XREAD loop
  per adapter process). Works across processes and machines.
- Memory (``memory://``): the inbox is an asyncio queue fed from the worker thread. Only for the
  embedded worker that runs inside the adapter process.

The same objects also remember which turns are finished, so a redelivered job does not
generate a second reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections import OrderedDict
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis

from inference.job import ReplyEvent

log = logging.getLogger(__name__)

INBOX_PREFIX = "soulchat:inbox:"
DONE_PREFIX = "soulchat:done:"
DONE_TTL_S = 24 * 3600
INBOX_TTL_S = 24 * 3600
INBOX_MAXLEN = 100_000


class ReplyPublisher(Protocol):
    """Worker side (synchronous)."""

    def publish(self, inbox: str, event: ReplyEvent) -> None: ...

    def mark_done(self, turn_key: str) -> None: ...

    def is_done(self, turn_key: str) -> bool: ...


class ReplyInbox(Protocol):
    """Adapter side (asyncio)."""

    address: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def subscribe(self, turn_key: str) -> asyncio.Queue[ReplyEvent]: ...

    def unsubscribe(self, turn_key: str) -> None: ...


class _Subscriptions:
    """Queues of the turns this process is waiting for, by turn key."""

    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[ReplyEvent]] = {}

    def subscribe(self, turn_key: str) -> asyncio.Queue[ReplyEvent]:
        return self._queues.setdefault(turn_key, asyncio.Queue())

    def unsubscribe(self, turn_key: str) -> None:
        self._queues.pop(turn_key, None)

    def dispatch(self, event: ReplyEvent) -> None:
        queue = self._queues.get(event.turn_key)
        if queue is not None:  # events of finished or unknown turns are dropped
            queue.put_nowait(event)


# -- memory ----------------------------------------------------------------------------------
class MemoryInbox(_Subscriptions):
    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._loop = None

    def deliver_threadsafe(self, event: ReplyEvent) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.dispatch, event)


class MemoryReplyBus:
    """Inboxes and finished-turn memory shared by an adapter and its embedded worker."""

    def __init__(self, remembered_turns: int = 10_000) -> None:
        self._inboxes: dict[str, MemoryInbox] = {}
        self._done: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered_turns
        self._lock = threading.Lock()

    def inbox(self) -> MemoryInbox:
        inbox = MemoryInbox(f"memory:{uuid.uuid4().hex}")
        self._inboxes[inbox.address] = inbox
        return inbox

    def publish(self, inbox: str, event: ReplyEvent) -> None:
        target = self._inboxes.get(inbox)
        if target is None:
            log.warning(
                "reply for unknown inbox %s dropped (embedded worker, other process?)", inbox
            )
            return
        target.deliver_threadsafe(event)

    def mark_done(self, turn_key: str) -> None:
        with self._lock:
            self._done[turn_key] = None
            while len(self._done) > self._remembered:
                self._done.popitem(last=False)

    def is_done(self, turn_key: str) -> bool:
        with self._lock:
            return turn_key in self._done


# -- redis -----------------------------------------------------------------------------------
class RedisReplyPublisher:
    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url)

    def publish(self, inbox: str, event: ReplyEvent) -> None:
        pipe = self._redis.pipeline(transaction=False)
        pipe.xadd(inbox, {"e": event.model_dump_json()}, maxlen=INBOX_MAXLEN, approximate=True)
        pipe.expire(inbox, INBOX_TTL_S)
        pipe.execute()

    def mark_done(self, turn_key: str) -> None:
        self._redis.set(DONE_PREFIX + turn_key, 1, ex=DONE_TTL_S)

    def is_done(self, turn_key: str) -> bool:
        return bool(self._redis.exists(DONE_PREFIX + turn_key))

    def close(self) -> None:
        self._redis.close()


class RedisReplyInbox(_Subscriptions):
    def __init__(self, url: str, block_ms: int = 500) -> None:
        super().__init__()
        self.address = INBOX_PREFIX + uuid.uuid4().hex
        self._url = url
        self._block_ms = block_ms
        self._redis: aioredis.Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._redis = aioredis.Redis.from_url(self._url)
        await self._redis.ping()
        self._reader = asyncio.create_task(self._read_forever(), name="soulchat-reply-inbox")

    async def stop(self) -> None:
        # Let the reader finish its current blocking read instead of cancelling it:
        # cancelling a blocked XREAD can leave redis-py waiting on the socket.
        self._stopping = True
        if self._reader is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._reader, self._block_ms / 1000 + 2)
        if self._redis is not None:
            with contextlib.suppress(redis.RedisError):
                await self._redis.delete(self.address)
            await self._redis.aclose()

    async def _read_forever(self) -> None:
        assert self._redis is not None
        last_id = "0-0"
        while not self._stopping:
            try:
                batches: Any = await self._redis.xread(
                    {self.address: last_id}, count=500, block=self._block_ms
                )
            except redis.ConnectionError:
                log.warning("reply inbox lost its Redis connection; retrying")
                await asyncio.sleep(1)
                continue
            for _stream, entries in batches or []:
                for entry_id, fields in entries:
                    last_id = entry_id
                    self._deliver(fields)
                if entries:
                    await self._redis.xtrim(self.address, minid=last_id)

    def _deliver(self, fields: dict[bytes, bytes]) -> None:
        try:
            self.dispatch(ReplyEvent.model_validate_json(fields[b"e"]))
        except (KeyError, ValueError):
            log.warning("malformed reply event dropped from %s", self.address)


def create_publisher(url: str, memory_bus: MemoryReplyBus | None = None) -> ReplyPublisher:
    if url.startswith("memory://"):
        if memory_bus is None:
            raise ValueError(
                "SOULCHAT_QUEUE__REPLY_URL=memory:// works only with the worker embedded in "
                "`soulchat chat`; a separate `soulchat worker` needs a redis:// reply URL"
            )
        return memory_bus
    return RedisReplyPublisher(url)


def create_inbox(url: str, memory_bus: MemoryReplyBus | None = None) -> ReplyInbox:
    if url.startswith("memory://"):
        if memory_bus is None:
            raise ValueError("a memory:// reply channel needs the embedded worker's bus")
        return memory_bus.inbox()
    return RedisReplyInbox(url)
