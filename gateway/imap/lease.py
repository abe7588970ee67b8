"""The per-mailbox lease in Redis: at most one process listens to a mailbox at a time.

Acquire is ``SET NX PX``; the holder renews it every third of its length and releases it on a
clean stop, so a standby process takes over within one lease length after the holder dies.
"""

from __future__ import annotations

import os
import socket
from functools import cache
from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from gateway import keys


@cache
def _source() -> str:
    return resources.files("gateway.lua").joinpath("imap_lease.lua").read_text(encoding="utf-8")


def holder_token() -> str:
    """Readable and unique: ``GET`` on the lease key shows which process listens."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"


class Lease:
    def __init__(self, redis: Redis, org: str, mailbox: str, ttl_ms: int, token: str | None = None) -> None:
        self._r = redis
        self.key = keys.imap_lease(org, mailbox)
        self.ttl_ms = ttl_ms
        self.token = token or holder_token()
        self._script: AsyncScript = redis.register_script(_source())

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it (or keep it if we already do)."""
        if await self._r.set(self.key, self.token, nx=True, px=self.ttl_ms):
            return True
        return await self.renew()

    async def renew(self) -> bool:
        return bool(await self._script(keys=[self.key], args=[self.token, "renew", self.ttl_ms]))

    async def release(self) -> None:
        await self._script(keys=[self.key], args=[self.token, "release", 0])

    async def holder(self) -> str | None:
        value: str | None = await self._r.get(self.key)
        return value
