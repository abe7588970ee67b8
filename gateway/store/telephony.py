"""The org's telephony records in Redis: its Twilio numbers and its user groups.

One hash per org for each (``keys.numbers``, ``keys.groups``), under the org's hash tag, so
deleting an org removes them with the rest of its keys. Records are validated before they get
here (:mod:`gateway.domain.telephony`); this module only stores and reads them.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.store import call_flows, keys


def _load(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else dict(orjson.loads(raw))


class Numbers:
    """The org's phone numbers, by E.164."""

    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def get_number(self, org: str, e164: str) -> dict[str, Any] | None:
        return _load(await self._r.hget(keys.numbers(org), e164))

    async def list_numbers(self, org: str) -> list[dict[str, Any]]:
        """Every number of the org, ordered by E.164."""
        raw = await self._r.hvals(keys.numbers(org))
        return sorted((orjson.loads(v) for v in raw), key=lambda n: n["phone_number"])

    async def put_number(self, org: str, rec: dict[str, Any]) -> None:
        await self._r.hset(keys.numbers(org), rec["phone_number"], orjson.dumps(rec))

    async def delete_number(self, org: str, e164: str) -> bool:
        return bool(await self._r.hdel(keys.numbers(org), e164))

    async def flows_on_number(self, org: str, e164: str) -> bool:
        """Whether a published, enabled call flow answers on ``e164`` (a release is then refused)."""
        return await call_flows.flows_on_number(self._r, org, e164)


class Groups:
    """The org's telephony groups (rung together by call flows), by id."""

    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def get_group(self, org: str, group: str) -> dict[str, Any] | None:
        return _load(await self._r.hget(keys.groups(org), group))

    async def list_groups(self, org: str) -> list[dict[str, Any]]:
        """Every group of the org, ordered by id."""
        raw = await self._r.hvals(keys.groups(org))
        return sorted((orjson.loads(v) for v in raw), key=lambda g: g["id"])

    async def put_group(self, org: str, rec: dict[str, Any]) -> None:
        await self._r.hset(keys.groups(org), rec["id"], orjson.dumps(rec))

    async def delete_group(self, org: str, group: str) -> bool:
        return bool(await self._r.hdel(keys.groups(org), group))
