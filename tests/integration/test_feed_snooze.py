"""A snoozed signal comes back exactly once at its time, from Redis (the per-partition due set),
on whichever node the user is connected: two `signalgate up` nodes, each running a waker and each
holding a connection of the user; also on a Redis Cluster."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import redis as redis_sync

from gateway.store import keys
from tests.support.api import Gateway, OrgCtx, post_event, provision_org, signals_of, survey
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.redis_cluster import RedisCluster
from tests.support.timing import FACTOR
from tests.support.ws import Feed, live_feed


async def _signals(client: httpx.AsyncClient, org: OrgCtx, feed: Feed, n: int) -> list[str]:
    """``n`` distinct signals through the real ingest path (grouping is off on these nodes)."""
    ids = []
    for i in range(n):
        r = await post_event(client, org, survey({"id": "c-yamada"}, title=f"s{i}"))
        assert r.status_code == 202
        ids.append((await feed.signal("survey.answered"))["id"])
    return ids


async def _post(client: httpx.AsyncClient, org: OrgCtx, op: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(f"/api/v1/me/signals/{op}", json=body, headers=org.user_headers())
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def _collect(feed: Feed, seconds: float) -> list[tuple[float, dict[str, Any]]]:
    """Every frame for ``seconds``, with its arrival time."""
    got: list[tuple[float, dict[str, Any]]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            frame = await asyncio.wait_for(feed.ws.recv(), left)
        except TimeoutError:
            break
        got.append((time.time(), json.loads(frame)))
    return got


async def _snooze_round(gws: tuple[Gateway, ...], org: OrgCtx) -> None:
    """Three signals snoozed for the same time; one re-snoozed later, one un-snoozed: only the first
    comes back, once per connection, at its time, unread, with an unread frame."""
    feeds = [await live_feed(gw, org.tokens["u1"]) for gw in gws]
    async with httpx.AsyncClient(base_url=gws[0].base_url, timeout=10 * FACTOR) as client:
        a, b, c = await _signals(client, org, feeds[0], 3)
        for other in feeds[1:]:
            await other.until(lambda f: f["type"] == "signal" and f["signal"]["id"] == c)
        await _post(client, org, "read", {"ids": [a, b, c]})
        lead = 3.0 * FACTOR
        until = datetime.now(tz=UTC) + timedelta(seconds=lead)
        assert await _post(client, org, "snooze", {"ids": [a, b, c], "until": until.isoformat()}) == {
            "unread": 0,
            "unknown": [],
        }
        await _post(client, org, "snooze", {"ids": [b], "until": (until + timedelta(hours=1)).isoformat()})
        await _post(client, org, "snooze", {"ids": [c], "until": None})
        assert [s["id"] for s in (await signals_of(client, org))["signals"]] == [c]
        frames = await asyncio.gather(*(_collect(f, lead + 3.0 * FACTOR) for f in feeds))
        for got in frames:
            signals = [(at, f["signal"]) for at, f in got if f["type"] == "signal"]
            assert [s["id"] for _, s in signals] == [a], got
            at, sig = signals[0]
            assert (sig["read"], sig["archived"], sig["snoozed_until"]) == (False, False, None)
            assert until.timestamp() - 0.05 <= at <= until.timestamp() + 2.0 * FACTOR
            woke = [f for _, f in got if f["type"] == "state" and "snoozed_until" in f and f["ids"] == [a]]
            assert woke[-1] == {"type": "state", "ids": [a], "read": False, "snoozed_until": None}
            assert got[-1][1] == {"type": "unread", "count": 1}  # a woke unread; c came back read
        inbox = await signals_of(client, org)
        assert [(s["id"], s["read"]) for s in inbox["signals"]] == [(a, False), (c, True)]
        assert inbox["unread"] == 1
        snoozed = (await signals_of(client, org, view="snoozed"))["signals"]
        assert [s["id"] for s in snoozed] == [b]
    for f in feeds:
        await f.ws.close()


async def test_snooze_returns_once_with_two_nodes(fresh_redis: RedisServer, procs: Processes) -> None:
    no_groups = {"SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS": "0"}
    one, _ = procs.serve(fresh_redis.url, with_router=True, **no_groups)
    two, _ = procs.serve(fresh_redis.url, with_router=True, **no_groups)
    async with httpx.AsyncClient(base_url=one.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, one, "snooze-" + uuid.uuid4().hex[:8])
        health = (await client.get("/healthz")).json()
    assert "waker" in str(health), health
    await _snooze_round((one, two), org)
    # The woken entry left the due set; the re-snoozed one's entry waits for its time.
    r = redis_sync.Redis.from_url(fresh_redis.url, decode_responses=True)
    due = r.zrange(keys.due(keys.partition_of(org.id)), 0, -1)
    assert len(due) == 1 and org.id in due[0]


async def test_snooze_returns_once_on_a_cluster(
    redis_cluster: RedisCluster, cluster_env: dict[str, str], procs: Processes
) -> None:
    one, _ = procs.serve(redis_cluster.url, with_router=True, **cluster_env)
    two, _ = procs.serve(redis_cluster.url, with_router=True, **cluster_env)
    async with httpx.AsyncClient(base_url=one.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, one, "snz-cl-" + uuid.uuid4().hex[:8])
    before = redis_cluster.crossslot_errors()
    await _snooze_round((one, two), org)
    assert redis_cluster.crossslot_errors() == before
