"""Things due at a time, kept in Redis: one sorted set per partition (``sg:{p:N}:due``).

An entry names what is due (``kind``: ``snooze`` for a snoozed signal's return; other kinds may
follow, e.g. ``unread_for`` rules), the org and user it is about, the time (ms, also its score)
and an optional ``ref``. It lives in the partition of its org (:func:`keys.partition_of`), so a
waker polls a fixed 16 keys however many orgs there are.

Exactly once is the *handler's* business, not this set's: an entry is written *before* the state
it is about (a crash in between leaves an entry whose handler finds nothing to do), handlers
apply it with a script that checks the state still asks for exactly this time, and the entry is
removed after its handler ran. Two wakers may handle the same entry; the second changes nothing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson
from redis.asyncio import Redis

from gateway.store import keys


class DueEntry(NamedTuple):
    kind: str
    org: str
    user: str
    at_ms: int
    ref: str = ""

    @property
    def partition(self) -> int:
        return keys.partition_of(self.org)

    def member(self) -> str:
        """The sorted-set member: equal entries are one member (writing one twice is harmless)."""
        return orjson.dumps([self.kind, self.org, self.user, self.at_ms, self.ref]).decode()


def parse_member(member: str) -> DueEntry | None:
    """The entry a member encodes (None: not one of ours)."""
    try:
        raw = orjson.loads(member)
    except orjson.JSONDecodeError:
        return None
    if not (isinstance(raw, list) and len(raw) == 5 and all(isinstance(x, str) for x in raw[:3] + raw[4:])):
        return None
    if not isinstance(raw[3], int):
        return None
    return DueEntry(raw[0], raw[1], raw[2], raw[3], raw[4])


class Pending(NamedTuple):
    partition: int
    member: str
    entry: DueEntry | None


class DueSet:
    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def add(self, entry: DueEntry) -> None:
        await self._r.zadd(keys.due(entry.partition), {entry.member(): entry.at_ms})

    async def pending(self, now_ms: int, per_partition: int = 200) -> list[Pending]:
        """Entries due at ``now_ms`` or earlier, oldest first per partition (one round trip)."""
        async with self._r.pipeline(transaction=False) as pipe:
            for p in range(keys.PARTITIONS):
                pipe.zrangebyscore(keys.due(p), "-inf", now_ms, start=0, num=per_partition)
            replies: list[Any] = await pipe.execute()
        return [Pending(p, m, parse_member(m)) for p, members in enumerate(replies) for m in members]

    async def remove(self, partition: int, member: str) -> None:
        await self._r.zrem(keys.due(partition), member)
