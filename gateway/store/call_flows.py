"""Call flows in Redis: drafts, published revisions, the live switch and the number index.

Every write goes through ``call_flow_write.lua`` (one script, one hash slot: the org's), which
keeps the index "number -> the published, enabled flow answering it" exact under concurrency:
two flows racing to go live on one number never both win (:class:`NumberTaken`), and none goes live
on a number the org no longer has (:class:`NumberGone`; the release takes it out atomically with its
own check, :mod:`gateway.store.telephony`). A publish keeps
the revision it replaces for :data:`RETIRED_KEEP_MS`, so a call that started on it is served to
its end by the steps it started with (the callback tokens carry the revision).
"""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

from gateway.domain.clock import now_ms
from gateway.store import keys
from gateway.store.scripts import Scripts

# Twilio ends a call after at most 4 hours unless told otherwise (TimeLimit caps at 24 hours): a
# retired revision is kept a day, then pruned by the next write of the org's flows.
RETIRED_KEEP_MS = 24 * 3600 * 1000


class NumberTaken(Exception):
    """Another published, enabled flow already answers on the number (409 ``number_has_flow``)."""

    def __init__(self, holder: str, number: str) -> None:
        super().__init__(f"flow {holder!r} already answers on {number}")
        self.holder = holder
        self.number = number  # where the flow would have gone live (its published number)


class NumberGone(Exception):
    """The number is no longer the org's (released, or being released): nothing goes live on it."""

    def __init__(self, number: str) -> None:
        super().__init__(f"{number} is no longer one of the org's numbers")
        self.number = number


def _keys(org: str, flow: str) -> list[str]:
    return [
        keys.call_flow(org, flow),
        keys.call_flows(org),
        keys.call_flow_numbers(org),
        keys.call_flow_revs(org),
        keys.call_flow_retired(org),
        keys.call_flow_seq(org),
        keys.numbers(org),
    ]


def _view(flow: str, raw: dict[str, str]) -> dict[str, Any]:
    """The API's view of a stored flow: the draft's name/description/number at the top."""
    draft = orjson.loads(raw["draft"])
    published = orjson.loads(raw["published"]) if raw.get("published") else None
    version = int(raw.get("version") or 0)
    return {
        "id": flow,
        "name": draft["name"],
        "description": draft["description"],
        "number": draft["number"],
        "enabled": raw.get("enabled") == "1",
        "draft": draft,
        "published": published,
        "version": version,
        "rev": int(raw["rev"]) if raw.get("rev") else None,
        "draft_differs": raw.get("published") != raw["draft"],
        "created_ms": int(raw.get("created_ms") or 0),
        "updated_ms": int(raw.get("updated_ms") or 0),
        "published_ms": int(raw["published_ms"]) if raw.get("published_ms") else None,
    }


class CallFlows:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._write = scripts.call_flow_write

    async def get(self, org: str, flow: str) -> dict[str, Any] | None:
        raw = await self._r.hgetall(keys.call_flow(org, flow))
        return _view(flow, raw) if raw.get("draft") else None

    async def list(self, org: str) -> list[dict[str, Any]]:
        ids = sorted(await self._r.smembers(keys.call_flows(org)))
        async with self._r.pipeline(transaction=False) as pipe:
            for flow in ids:
                pipe.hgetall(keys.call_flow(org, flow))
            raws = await pipe.execute()
        return [_view(flow, raw) for flow, raw in zip(ids, raws, strict=True) if raw.get("draft")]

    async def put(self, org: str, flow: str, draft: dict[str, Any], enabled: bool | None) -> bool:
        """Save the draft (and switch the flow on or off at once); True when the flow is new."""
        switch = "" if enabled is None else ("1" if enabled else "0")
        args = ["put", flow, now_ms(), RETIRED_KEEP_MS, orjson.dumps(draft), draft["number"], switch]
        reply = await self._write(keys=_keys(org, flow), args=args)
        return str(_ok(reply)[1]) == "created"

    async def publish(self, org: str, flow: str) -> int | None:
        """Make the draft live; the new version, or None when the flow does not exist."""
        reply = await self._write(keys=_keys(org, flow), args=["publish", flow, now_ms(), RETIRED_KEEP_MS])
        if reply[0] == "not_found":
            return None
        return int(_ok(reply)[1])

    async def delete(self, org: str, flow: str) -> bool:
        reply = await self._write(keys=_keys(org, flow), args=["delete", flow, now_ms(), RETIRED_KEEP_MS])
        return str(_ok(reply, missing_ok=True)[0]) == "ok"

    async def live_on(self, org: str, e164: str) -> tuple[str, int, dict[str, Any]] | None:
        """(flow id, revision, published steps document) of the flow answering calls to ``e164``."""
        flow = await self._r.hget(keys.call_flow_numbers(org), e164)
        if flow is None:
            return None
        rev = await self._r.hget(keys.call_flow(org, flow), "rev")
        if rev is None:
            return None
        doc = await self.revision(org, flow, int(rev))
        return None if doc is None else (flow, int(rev), doc)

    async def revision(self, org: str, flow: str, rev: int) -> dict[str, Any] | None:
        """A published revision (the live one, or a retired one still kept)."""
        raw = await self._r.hget(keys.call_flow_revs(org), f"{flow}:{rev}")
        return None if raw is None else dict(orjson.loads(raw))


def _ok(reply: list[Any], *, missing_ok: bool = False) -> list[Any]:
    status = reply[0]
    if status == "conflict":
        raise NumberTaken(str(reply[1]), str(reply[2]))
    if status == "no_number":
        raise NumberGone(str(reply[1]))
    if status == "not_found" and missing_ok:
        return ["not_found"]
    if status != "ok":
        raise RuntimeError(f"call_flow_write answered {reply!r}")
    return reply
