"""Batch routing (issue 10) against a real Redis and real router processes: one org's events spread
over the partitions and the routers, each contact's events reach the feed in the order they were
accepted, and a batch routed again after a failure before its XACK applies nothing twice."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.config import load_config
from gateway.devtools.net import free_port
from gateway.routing.router import Router
from gateway.services import Services, open_services
from gateway.store import keys
from tests.support.api import post_event, provision_org
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR, wait_for

CONTACTS = 12
PER_CONTACT = 25


async def _routed_by(health_port: int) -> int:
    """Events a router process has routed, from its /metrics (all partitions)."""
    async with httpx.AsyncClient(timeout=5 * FACTOR) as http:
        text = (await http.get(f"http://127.0.0.1:{health_port}/metrics")).text
    return int(
        sum(float(v) for v in re.findall(r'^signalgate_router_events_total\{partition="\d+"\} (\S+)', text, re.M))
    )


async def test_one_org_over_two_routers_keeps_each_contacts_order(fresh_redis: RedisServer, procs: Processes) -> None:
    """One org, 12 contacts, 25 events each posted in order per contact (contacts concurrently), two
    routers: the events use many partitions, both routers route some, every event is in the feed
    once, and each contact's signals are in the feed in the order their events were accepted."""
    gw, _ = procs.serve(fresh_redis.url)
    ports = [free_port(), free_port()]
    env = {"SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS": "0", "SIGNALGATE_ROUTER_BATCH_SIZE": "20"}
    for port in ports:
        procs.router(fresh_redis.url, SIGNALGATE_GATEWAY_HEALTH_PORT=str(port), **env)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, gw, "spread-" + uuid.uuid4().hex[:6])
        for k in range(CONTACTS):
            body = {"kind": "contact", "name": f"顧客 {k}", "emails": [], "phones": [], "owner": "u1"}
            r = await client.put(f"/api/v1/orgs/{org.id}/contacts/k{k}", json=body, headers=gw.admin)
            assert r.status_code == 201, r.text
        await asyncio.sleep(1.5 * FACTOR)  # both routers have seen each other and shared the leases

        async def post_in_order(k: int) -> None:
            for i in range(PER_CONTACT):
                event = {"type": "desk.ticket", "contact": {"id": f"k{k}"}, "title": f"k{k}-{i}"}
                assert (await post_event(client, org, event)).status_code == 202

        await asyncio.gather(*(post_in_order(k) for k in range(CONTACTS)))
        n = CONTACTS * PER_CONTACT
        feed = keys.feed(org.id, "u1")
        redis = aioredis.from_url(fresh_redis.url, decode_responses=True)
        try:
            await wait_for(lambda: _feed_len(redis, feed, n), timeout=30)
            partitions = {p for p in range(keys.PARTITIONS) if await redis.xlen(keys.events_stream(p))}
            entries = await redis.xrange(feed)
        finally:
            await redis.aclose()
    assert len(partitions) >= 6, partitions  # 12 contacts of one org: not one partition any more
    assert len(entries) == n
    titles = [_title(fields) for _, fields in entries]
    assert sorted(titles) == sorted(f"k{k}-{i}" for k in range(CONTACTS) for i in range(PER_CONTACT))
    for k in range(CONTACTS):
        mine = [int(t.split("-")[1]) for t in titles if t.startswith(f"k{k}-")]
        assert mine == list(range(PER_CONTACT)), (k, mine)
    routed = [await _routed_by(port) for port in ports]
    assert sum(routed) == n and min(routed) > 0, routed


async def _feed_len(redis: aioredis.Redis, feed: str, n: int) -> bool:
    return int(await redis.xlen(feed)) >= n


def _title(fields: dict[str, str]) -> str:
    return str(orjson.loads(fields["s"])["title"])


# -- exactly once under a replayed batch ------------------------------------------------------------
async def _provision(svc: Services, org: str) -> None:
    await svc.tenancy.put_org({"id": org, "name": "x", "plan": "standard", "timezone": "Asia/Tokyo", "country": "JP"})
    for user in ("u1", "u2"):
        await svc.tenancy.put_user(org, {"id": user, "name": user})
    for i in range(6):
        contact = {"id": f"c{i}", "kind": "contact", "name": f"n{i}", "emails": [f"c{i}@x.example"],
                   "phones": [f"+81901234567{i}"], "owner": "u1" if i % 2 else "u2"}  # fmt: skip
        await svc.tenancy.put_contact(org, contact)
    await svc.notifications.create(org, {"id": "n1", "channel": "email", "template": "t1", "contact": "c1"})


async def _append_mixed(svc: Services, org: str) -> int:
    """Events of every batched kind; returns how many feed entries they must make."""
    signals = 0
    for i in range(40):
        c = i % 6
        await svc.events.append(org, "webhook", {"type": "desk.ticket", "contact": {"id": f"c{c}"}, "title": f"w{i}"})
        await svc.events.append(org, "webhook", {"type": "survey.answered", "contact": {"email": f"C{c}@x.example"}})
        await svc.events.append(org, "twilio.sms", {"MessageSid": f"SM{i}", "From": f"+81901234567{c}", "Body": "b"})
        signals += 3
    for _ in range(3):  # repeat opens and a click of one email: one open and one click counted
        await svc.events.append(org, "track.open", {"notification": "n1", "contact": "c1"})
        await svc.events.append(org, "track.click", {"notification": "n1", "contact": "c1", "url": "https://x"})
        signals += 2
    for i in range(5):  # nobody to tell: counted once each as unmatched
        await svc.events.append(org, "webhook", {"type": "desk.ticket", "contact": {"id": "nobody"}, "title": str(i)})
    return signals


async def test_a_batch_routed_again_after_a_failed_ack_applies_nothing_twice(
    fresh_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The XACK of the first batches fails (Redis went away), on its own or with the next read: the
    restarted loops route those batches again — every feed entry, unmatched count and report count
    still exists exactly once."""
    config = load_config(None, {"SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS": "0"})
    org = "replay-" + uuid.uuid4().hex[:6]
    async with open_services(config, fresh_redis.url, secrets=False) as svc:
        await _provision(svc, org)
        await svc.events.ensure_groups()
        expected = await _append_mixed(svc, org)
        router = Router(svc, config.router)
        fail_acks = 3
        real_ack = svc.events.ack
        failed: list[int] = []

        async def ack(partition: int, *ids: str) -> None:
            if len(failed) < fail_acks and ids:
                failed.append(len(ids))
                raise RedisConnectionError("connection lost before XACK (test)")
            await real_ack(partition, *ids)

        real_read = svc.events.read

        async def read(partition: int, consumer: str, count: int, block_ms: int, acked: Sequence[str] = ()) -> Any:
            # The read loop acknowledges a routed batch with its next read (XACK first, same round trip).
            if len(failed) < fail_acks and acked:
                failed.append(len(acked))
                raise RedisConnectionError("connection lost before XACK (test)")
            return await real_read(partition, consumer, count, block_ms, acked)

        monkeypatch.setattr(svc.events, "ack", ack)
        monkeypatch.setattr(svc.events, "read", read)
        stop = asyncio.Event()
        running = asyncio.create_task(router.run(stop))

        async def settled() -> bool:
            pending = [await svc.redis.xpending(keys.events_stream(p), keys.ROUTER_GROUP) for p in range(16)]
            return len(failed) == fail_acks and not any(p["pending"] for p in pending)

        try:
            await wait_for(settled, timeout=20)
            await asyncio.sleep(0.3 * FACTOR)
        finally:
            stop.set()
            await running
        r = svc.redis
        written = await r.xlen(keys.feed(org, "u1")) + await r.xlen(keys.feed(org, "u2"))
        stats = await r.hgetall(keys.stats(org))
        notification = await svc.notifications.get(org, "n1")
        report = {
            k: v for d in [await r.hgetall(k) for k in await r.keys(f"sg:{{{org}}}:report:*")] for k, v in d.items()
        }
    assert sum(failed) > 0
    assert written == expected
    assert stats == {"unmatched:webhook": "5"}
    assert notification is not None and "opened_ms" in notification and "clicked_ms" in notification
    assert (report["opened"], report["clicked"]) == ("1", "1")
