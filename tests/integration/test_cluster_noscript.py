"""One master of the cluster loses its script cache (a restart, a SCRIPT FLUSH) while an ingest
batch spans masters: only the calls that got NOSCRIPT run again — the ones the other masters
already appended are not appended twice (tracking hits carry no dedupe id to catch a repeat)."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import redis as redis_sync
from redis.crc import key_slot

from gateway.domain.tracking import TrackingClaim, sign
from gateway.store import keys
from tests.support.api import Gateway, OrgCtx, provision_org
from tests.support.redis_cluster import RedisCluster
from tests.support.timing import FACTOR, wait_for


def _contact_on(cluster: RedisCluster, org: str, port: int, other: bool) -> str:
    """A contact id whose track.* events land in a partition served by ``port`` (or, ``other``, not)."""
    for i in range(10_000):
        cid = f"c-n{i}"
        slot = key_slot(keys.events_stream(keys.partition_of(org, f"id:{cid}")).encode())
        if (cluster.owner(slot) == port) != other:
            return cid
    raise AssertionError("no such contact")


async def _opened_counts(client: httpx.AsyncClient, org: OrgCtx) -> int:
    """u1's email.opened signals, each with its count: how many opens the routers applied."""
    r = await client.get(
        "/api/v1/me/signals", params={"type": "email.opened", "limit": 500}, headers=org.user_headers("u1")
    )
    assert r.status_code == 200, r.text
    return sum(int(s["count"]) for s in r.json()["signals"])


async def test_noscript_on_one_master_reruns_only_the_calls_it_refused(
    redis_cluster: RedisCluster, cluster_gateways: tuple[Gateway, Gateway]
) -> None:
    """Bursts of pixel hits for two contacts, one in a partition on the master that keeps
    forgetting its scripts (SCRIPT FLUSH every 50 ms), one on another: each hit is one open in
    the owner's feed — the sum of the email.opened counts is the number of hits, not more."""
    a, _ = cluster_gateways
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, a, "ns-" + uuid.uuid4().hex[:10])
        flushed = redis_cluster.ports[0]
        on, off = _contact_on(redis_cluster, org.id, flushed, False), _contact_on(redis_cluster, org.id, flushed, True)
        for cid in (on, off):
            body = {"kind": "lead", "name": cid, "owner": "u1"}
            r = await client.put(f"/api/v1/orgs/{org.id}/contacts/{cid}", json=body, headers=a.admin)
            assert r.status_code == 201, r.text
        pixels = [f"/t/o/{sign(a.secret_key, TrackingClaim(org.id, 'n-1', c))}" for _ in range(40) for c in (on, off)]
        flushing = True

        def flusher() -> int:
            n = 0
            with redis_sync.Redis(port=flushed) as node:
                while flushing:
                    node.script_flush()
                    n += 1
                    time.sleep(0.05)
            return n

        flushes = asyncio.create_task(asyncio.to_thread(flusher))
        try:
            for _ in range(3):
                responses = await asyncio.gather(*(client.get(p) for p in pixels))
                assert [r.status_code for r in responses] == [200] * len(pixels)
        finally:
            flushing = False
        assert await flushes > 3
        total = 3 * len(pixels)
        await wait_for(lambda: _opened_counts(client, org), timeout=20, interval=0.2)

        async def applied() -> int | None:
            n = await _opened_counts(client, org)
            return n if n >= total else None

        try:
            await wait_for(applied, timeout=20, interval=0.2)
        except TimeoutError:
            pass
        await asyncio.sleep(1)  # anything applied twice has arrived by now
        assert await _opened_counts(client, org) == total
        assert (await client.delete(f"/api/v1/orgs/{org.id}", headers=a.admin)).status_code == 204
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)
