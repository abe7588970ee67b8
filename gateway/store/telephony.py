"""The org's telephony records in Redis: its Twilio numbers and its user groups.

One hash per org for each (``keys.numbers``, ``keys.groups``), under the org's hash tag, so
deleting an org removes them with the rest of its keys. Records are validated before they get
here (:mod:`gateway.domain.telephony`); this module only stores and reads them.
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.domain.telephony import numbers_with_status
from gateway.store import keys
from gateway.store.scripts import Scripts


def _load(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else dict(orjson.loads(raw))


class NumberInUse(Exception):
    """A published, enabled call flow answers on the number (409 ``number_in_use``)."""


class Numbers:
    """The org's phone numbers, by E.164."""

    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._release = scripts.number_release

    async def get_number(self, org: str, e164: str) -> dict[str, Any] | None:
        return _load(await self._r.hget(keys.numbers(org), e164))

    async def list_numbers(self, org: str) -> list[dict[str, Any]]:
        """Every number of the org, ordered by E.164."""
        raw = await self._r.hvals(keys.numbers(org))
        return sorted((orjson.loads(v) for v in raw), key=lambda n: n["phone_number"])

    async def list_with_status(self, org: str) -> list[dict[str, Any]]:
        """The org's numbers and those parked while Twilio releases them, each with its
        ``status`` (``active``/``releasing``), ordered by E.164."""
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hvals(keys.numbers(org))
            pipe.hvals(keys.numbers_releasing(org))
            active, parked = await pipe.execute()
        return numbers_with_status([orjson.loads(v) for v in active], [orjson.loads(v) for v in parked])

    async def get_with_status(self, org: str, e164: str) -> dict[str, Any] | None:
        """One number of the org, or parked while released, with its ``status``; None when neither."""
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hget(keys.numbers(org), e164)
            pipe.hget(keys.numbers_releasing(org), e164)
            active, parked = await pipe.execute()
        found = numbers_with_status(
            [orjson.loads(v) for v in (active,) if v], [orjson.loads(v) for v in (parked,) if v]
        )
        return found[0] if found else None

    async def put_number(self, org: str, rec: dict[str, Any]) -> None:
        await self._r.hset(keys.numbers(org), rec["phone_number"], orjson.dumps(rec))

    async def begin_release(self, org: str, e164: str) -> dict[str, Any] | None:
        """Take ``e164`` out of the org's numbers unless a published, enabled call flow answers on
        it (:class:`NumberInUse`), in one step with that check (``number_release.lua``), so no
        flow goes live on it from now on. Its record (parked until :meth:`release_done` or
        :meth:`restore`), or None when it is not the org's. A number parked by a release cut
        short is answered again, so a retried ``DELETE`` finishes it."""
        reply = await self._release(keys=self._keys(org), args=["begin", e164])
        if reply[0] == "in_use":
            raise NumberInUse(e164)
        return _load(reply[1]) if reply[0] == "ok" else None

    async def restore(self, org: str, e164: str) -> None:
        """Twilio refused the release: the number is the org's again."""
        await self._release(keys=self._keys(org), args=["restore", e164])

    async def release_done(self, org: str, e164: str) -> None:
        """Twilio released the number: forget its parked record."""
        await self._release(keys=self._keys(org), args=["done", e164])

    @staticmethod
    def _keys(org: str) -> list[str]:
        return [keys.numbers(org), keys.numbers_releasing(org), keys.call_flow_numbers(org)]


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
