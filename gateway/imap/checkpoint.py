"""Per-mailbox checkpoint in Redis: UIDVALIDITY, last handled UID, newest INTERNALDATE.

Writes go through ``imap_checkpoint.lua`` together with the lease check, so only the process
holding the mailbox's lease moves the checkpoint, and only forward. The rules that read it are in
:mod:`gateway.imap.rules`.
"""

from __future__ import annotations

import time
from functools import cache
from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from gateway import keys
from gateway.imap.rules import Checkpoint


@cache
def _source() -> str:
    return resources.files("gateway.lua").joinpath("imap_checkpoint.lua").read_text(encoding="utf-8")


class LeaseLost(Exception):
    """This process no longer holds the mailbox's lease; it must stop listening at once."""


class ValidityChanged(Exception):
    """The stored UIDVALIDITY is not the one this connection works with; re-plan from SELECT."""


class Checkpoints:
    def __init__(self, redis: Redis, org: str, mailbox: str, lease_key: str, token: str) -> None:
        self._r = redis
        self.key = keys.imap_checkpoint(org, mailbox)
        self._lease_key = lease_key
        self._token = token
        self._script: AsyncScript = redis.register_script(_source())

    async def get(self) -> Checkpoint | None:
        raw = await self._r.hgetall(self.key)
        if not raw.get("uidvalidity", "").isdigit() or not raw.get("uid", "").isdigit():
            return None
        high = raw.get("high_water_ms", "")
        return Checkpoint(int(raw["uidvalidity"]), int(raw["uid"]), int(high) if high.isdigit() else None)

    async def reset(self, uidvalidity: int, uid: int, high_water_ms: int | None) -> None:
        await self._write("reset", uidvalidity, uid, high_water_ms)

    async def advance(self, uidvalidity: int, uid: int, high_water_ms: int | None) -> bool:
        """Move to ``uid``; False when the checkpoint was already there (a replay)."""
        return await self._write("advance", uidvalidity, uid, high_water_ms) == 1

    async def _write(self, mode: str, uidvalidity: int, uid: int, high_water_ms: int | None) -> int:
        result = int(
            await self._script(
                keys=[self._lease_key, self.key],
                args=[
                    self._token,
                    mode,
                    uidvalidity,
                    uid,
                    "" if high_water_ms is None else high_water_ms,
                    int(time.time() * 1000),
                ],
            )
        )
        if result == -1:
            raise LeaseLost(self._lease_key)
        if result == -2:
            raise ValidityChanged(self.key)
        return result
