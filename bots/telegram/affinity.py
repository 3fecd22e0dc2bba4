"""Several bot processes behind one webhook: each chat is answered by one process at a time.

A load balancer spreads Telegram's webhook calls over the bot processes without looking
inside them, so one person's messages can reach different processes. What a conversation needs
in memory (one generation at a time, quick messages joined into one turn, words held until
consent, the flood count) lives in the process that answered it last. So a chat *belongs* to
the process that took it, through Redis:

* ``soulchat:tg:chat:<id>`` names the owner; it expires after ``ttl_s`` without updates, so an
  idle chat can move to any process;
* ``soulchat:tg:alive:<process>`` is refreshed every few seconds; when it lapses, the process
  is taken for dead and its chats go to whoever receives their next update;
* an update that reaches a process that does not own its chat is pushed onto the owner's
  list ``soulchat:tg:inbox:<process>``; the owner reads it and handles it as its own. Updates
  left in a dead process's list are taken over with its chats.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio as aioredis

log = logging.getLogger(__name__)

PREFIX = "soulchat:tg:"
HEARTBEAT_S = 3.0
ALIVE_TTL_S = 10
CHAT_TTL_S = 900
INBOX_TTL_S = 24 * 3600

# Take the chat if nobody owns it, we do, or its owner is dead. Returns the owner after the
# call and, when we took it from a dead process, that process (its inbox must be drained).
_CLAIM = """
local owner = redis.call('GET', KEYS[1])
local dead = ''
if owner and owner ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. owner) == 0 then
  dead = owner
  owner = false
end
if not owner or owner == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return {ARGV[1], dead}
end
return {owner, ''}
"""

Deliver = Callable[[dict[str, Any]], Awaitable[None]]


class ChatAffinity:
    def __init__(self, url: str, *, chat_ttl_s: int = CHAT_TTL_S) -> None:
        self.process_id = uuid.uuid4().hex[:12]
        self.chat_ttl_s = chat_ttl_s
        self._redis = aioredis.Redis.from_url(url)
        self._claim = self._redis.register_script(_CLAIM)
        self._tasks: list[asyncio.Task[None]] = []
        self._deliver: Deliver | None = None
        self._stopping = False

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        await self._beat()
        self._tasks = [
            asyncio.create_task(self._heartbeat(), name="soulchat-affinity-heartbeat"),
            asyncio.create_task(self._read_inbox(), name="soulchat-affinity-inbox"),
        ]
        log.info("bot process %s shares chats with the others through Redis", self.process_id)

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(redis.RedisError):
            # Going away: others may take our chats at once, and what is left in our inbox.
            await self._redis.delete(self._key("alive", self.process_id))
        await self._redis.aclose()

    async def owner_elsewhere(self, chat_id: int) -> str | None:
        """None when this process answers the chat (taking it if free); else the owner."""
        owner, dead = await self._claim(
            keys=[self._key("chat", chat_id)],
            args=[self.process_id, self.chat_ttl_s, PREFIX + "alive:"],
        )
        owner, dead = _text(owner), _text(dead)
        if dead:
            log.warning("bot process %s stopped answering; taking over its chats", dead)
            await self._drain(dead)
        return None if owner == self.process_id else owner

    async def forward(self, owner: str, update: dict[str, Any]) -> None:
        inbox = self._key("inbox", owner)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.rpush(inbox, json.dumps(update))
            pipe.expire(inbox, INBOX_TTL_S)
            await pipe.execute()

    # -- background --------------------------------------------------------------------------
    async def _beat(self) -> None:
        await self._redis.set(self._key("alive", self.process_id), 1, ex=ALIVE_TTL_S)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            try:
                await self._beat()
            except redis.RedisError as error:
                log.warning("affinity heartbeat failed: %r", error)

    async def _read_inbox(self) -> None:
        inbox = self._key("inbox", self.process_id)
        while not self._stopping:
            try:
                item = await self._redis.blpop([inbox], timeout=1)
            except redis.RedisError as error:
                log.warning("affinity inbox read failed: %r", error)
                await asyncio.sleep(1)
                continue
            if item is not None:
                await self._hand_over(item[1])

    async def _drain(self, dead: str) -> None:
        inbox = self._key("inbox", dead)
        while True:
            item: Any = await self._redis.lpop(inbox)
            if item is None:
                return
            await self._hand_over(item)

    async def _hand_over(self, raw: bytes | str) -> None:
        assert self._deliver is not None
        try:
            update = json.loads(raw)
        except ValueError:
            log.warning("malformed forwarded update dropped")
            return
        await self._deliver(update)

    @staticmethod
    def _key(kind: str, name: object) -> str:
        return f"{PREFIX}{kind}:{name}"


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return value or ""
