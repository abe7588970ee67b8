"""A segment send's per-member results name their contacts (issue 14 follow-up): the gateway's
``GET .../fanouts/{id}/results`` over HTTP, and the store reading a page's results and contacts in
one round trip however long the page (a real Redis)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from redis.asyncio import Redis

from gateway.domain.segments import new_fanout
from gateway.store import keys
from gateway.store.scripts import load_scripts
from gateway.store.segments import Segments
from tests.support.api import OrgCtx
from tests.support.redis import RedisServer

NAMES = {"n-1": "佐藤 花子", "n-2": "Kato Ichiro", "n-3": "鈴木 一郎", "n-4": "田中 次郎"}


class _CountingRedis(Redis):  # type: ignore[misc]  # redis' asyncio client is untyped here
    """Counts round trips: every command sent on its own, and every pipeline sent."""

    round_trips = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.round_trips += 1
        return await super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
        pipe = super().pipeline(transaction, shard_hint)
        send = pipe.execute

        async def execute(raise_on_error: bool = True) -> list[Any]:
            self.round_trips += 1
            out: list[Any] = await send(raise_on_error)
            return out

        pipe.execute = execute
        return pipe


@pytest.fixture
async def counting(redis_server: RedisServer) -> AsyncIterator[_CountingRedis]:
    client = _CountingRedis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


async def _send(redis: Redis, org: str) -> str:
    """A segment send whose first step texted n-1, n-3 and n-4 and skipped n-2 (the worker's records)."""
    segments = Segments(redis, load_scripts(redis))
    batch = "fo_" + uuid.uuid4().hex[:24]
    assert await segments.create_fanout(org, batch, new_fanout("s1", batch, "2030-01-01T00:00:00Z", body={}))
    results = [
        {"contact": cid, "notification": f"n_{cid}"} if cid != "n-2" else {"contact": cid, "error": "no_phone_in_field"}
        for cid in NAMES
    ]
    await segments.fanout_step(org, batch, results, {"step": 1})
    return batch


async def test_results_name_each_contact_and_a_deleted_one_is_null(
    client: httpx.AsyncClient, org: OrgCtx, redis_server: RedisServer
) -> None:
    admin = org.gateway.admin
    for cid, name in NAMES.items():
        r = await client.put(f"/api/v1/orgs/{org.id}/contacts/{cid}", json={"name": name}, headers=admin)
        assert r.status_code in (200, 201), r.text
    redis = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        batch = await _send(redis, org.id)
    finally:
        await redis.aclose()
    assert (await client.delete(f"/api/v1/orgs/{org.id}/contacts/n-3", headers=admin)).status_code == 204

    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"/api/v1/orgs/{org.id}/fanouts/{batch}/results", params=params, headers=admin)
        assert r.status_code == 200, r.text
        rows += r.json()["results"]
        cursor = r.json()["cursor"]
        if cursor is None:
            break
    assert rows == [
        {"contact": "n-1", "name": "佐藤 花子", "notification": "n_n-1"},
        {"contact": "n-2", "name": "Kato Ichiro", "error": "no_phone_in_field"},
        {"contact": "n-3", "name": None, "notification": "n_n-3"},
        {"contact": "n-4", "name": "田中 次郎", "notification": "n_n-4"},
    ]


async def test_a_page_is_read_in_two_round_trips_whatever_its_size(counting: _CountingRedis) -> None:
    """The page's member ids (ZRANGEBYLEX), then its results and its contacts together (one pipeline)."""
    org = "fn-" + uuid.uuid4().hex[:8]
    for cid, name in NAMES.items():
        await counting.hset(keys.contacts(org), cid, orjson.dumps({"id": cid, "name": name}))
    batch = await _send(counting, org)
    segments = Segments(counting, load_scripts(counting))
    for limit in (1, 4):
        counting.round_trips = 0
        page, _ = await segments.fanout_results(org, batch, None, limit)
        assert [r["name"] for r in page] == list(NAMES.values())[:limit]
        assert counting.round_trips == 2, (limit, counting.round_trips)
