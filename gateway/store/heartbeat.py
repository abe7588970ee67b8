"""Heartbeats: each long-running process proves it is alive with a key that has a short TTL.

A *member* is one incarnation of a worker of some kind — a router's consumer name, an IMAP
process's lease token — unique per process start, so a restarted process never mistakes its
predecessor's work for its own. The member refreshes ``sg:{node:hb}:<member>`` (``SET PX``, so a
key lost in a Redis restart comes back) well within its TTL; when the key is gone the member is
dead, and its work (pending stream entries, mailbox leases) may be taken over. The timing comes
from :class:`gateway.domain.failover.FailoverTiming`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence

from redis.asyncio import Redis

from gateway.domain.failover import FailoverTiming
from gateway.store import keys
from gateway.store.errors import StoreError

log = logging.getLogger("signalgate.failover")


class Heartbeats:
    """Reads and writes the heartbeat keys of any member."""

    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def beat(self, member: str, ttl_ms: int) -> None:
        await self._r.set(keys.heartbeat(member), str(int(time.time() * 1000)), px=ttl_ms)

    async def alive(self, members: Sequence[str]) -> set[str]:
        """Which of ``members`` have a heartbeat now (one MGET: every key shares one hash tag)."""
        if not members:
            return set()
        values = await self._r.mget([keys.heartbeat(m) for m in members])
        return {m for m, v in zip(members, values, strict=True) if v is not None}

    async def end(self, member: str) -> None:
        """A clean stop: the member is gone now, not one TTL from now."""
        await self._r.delete(keys.heartbeat(member))


class Heartbeat:
    """Keeps one member's heartbeat alive while its process works: ``async with hb.kept(): ...``."""

    def __init__(self, heartbeats: Heartbeats, member: str, timing: FailoverTiming) -> None:
        self._hb = heartbeats
        self.member = member
        self._timing = timing

    @contextlib.asynccontextmanager
    async def kept(self) -> AsyncIterator[None]:
        """Beat once before the block (so no peer sees the block's work as orphaned), refresh every
        :attr:`FailoverTiming.beat_seconds` during it, and remove the key when it ends (a clean stop
        or a crash hands the work over at once, not one TTL later)."""
        await self._first_beat()
        task = asyncio.create_task(self._refresh(), name=f"heartbeat-{self.member}")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            with contextlib.suppress(StoreError):
                await self._hb.end(self.member)

    async def _first_beat(self) -> None:
        """Work starts only once the heartbeat exists; while Redis is down, retry every beat."""
        while True:
            try:
                await self._hb.beat(self.member, self._timing.heartbeat_ttl_ms)
                return
            except StoreError as exc:
                log.warning("heartbeat %s: cannot start (%s); retrying", self.member, exc)
                await asyncio.sleep(self._timing.beat_seconds)

    async def _refresh(self) -> None:
        """Redis errors are logged once and retried at the next beat; peers may call us dead
        meanwhile, which is safe (entries are applied idempotently, checkpoints fenced by the lease)."""
        failing = False
        while True:
            await asyncio.sleep(self._timing.beat_seconds)
            try:
                await self._hb.beat(self.member, self._timing.heartbeat_ttl_ms)
            except StoreError as exc:
                if not failing:
                    log.warning("heartbeat %s: cannot refresh (%s)", self.member, exc)
                failing = True
                continue
            if failing:
                log.info("heartbeat %s: refreshed again", self.member)
            failing = False
