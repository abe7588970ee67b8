"""What users did about their signals (``POST /api/v1/me/actions``): the signal acted on, read
from the user's own feed, and the record of the action (``keys.signal_acted``)."""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.store import keys
from gateway.store.scripts import Scripts

# The stream entry of a new signal (a grouped repeat is an update entry with its own id).
_NEW = "n"


class SignalActions:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._s = scripts

    async def signal(self, org: str, user: str, sid: str) -> dict[str, Any] | None:
        """The signal ``sid`` of the user's feed as it stands now (its latest grouped state), or
        None when the user has no such signal (never theirs, or trimmed from the history)."""
        async with self._r.pipeline(transaction=False) as pipe:  # both keys on the org's slot
            pipe.xrange(keys.feed(org, user), min=sid, max=sid, count=1)
            pipe.hget(keys.signal_state(org, user), sid)
            entries, state = await pipe.execute()
        if not entries or entries[0][1].get("k") != _NEW:
            return None
        return dict(orjson.loads(state or entries[0][1]["s"]))

    async def record(self, org: str, user: str, sid: str, acted: dict[str, Any]) -> int:
        """Store ``acted`` for the signal, mark it read and publish a ``state`` frame to every
        connection of the user (``signal_acted.lua``, one step); the unread count after."""
        frame = {"type": "state", "ids": [sid], "read": True, "acted": acted}
        unread = await self._s.signal_acted(
            keys=[keys.signal_acted(org, user), keys.unread(org, user), keys.away_unread(org, user)],
            args=[keys.live_channel(org, user), sid, orjson.dumps(acted), orjson.dumps(frame)],
        )
        return int(unread)

    async def acted(self, org: str, user: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The recorded actions of some signals, by id (those without one are absent)."""
        if not ids:
            return {}
        raw = await self._r.hmget(keys.signal_acted(org, user), ids)
        return {sid: orjson.loads(v) for sid, v in zip(ids, raw, strict=True) if v is not None}
