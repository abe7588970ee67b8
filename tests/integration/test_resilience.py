"""Crashes, restarts and scale-out with real processes: nothing accepted is lost or repeated."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import redis as redis_sync
import websockets
from websockets.exceptions import ConnectionClosed

from gateway.store import keys
from tests.support.api import post_event, provision_org, signals_of
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.streams import webhook_stream
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import live_feed


async def _titles(client: httpx.AsyncClient, org_id: str, token: str) -> list[str]:
    r = await client.get("/api/v1/me/signals", params={"limit": 500}, headers={"Authorization": f"Bearer {token}"})
    return [s["title"] for s in r.json()["signals"]]


async def test_router_killed_mid_batch_loses_and_repeats_nothing(fresh_redis: RedisServer, procs: Processes) -> None:
    """SIGKILL a router while it holds a batch; another router reclaims it; each signal exists exactly once."""
    n = 400  # at most one REST page (500)
    gw, _ = procs.serve(fresh_redis.url)
    # Batches of 50: one batch's feed writes are a few script calls in one round trip (issue 10),
    # so the router dies between batches: some written, one batch read and not acknowledged.
    env = {"SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS": "0", "SIGNALGATE_ROUTER_BATCH_SIZE": "50"}
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as client:
        org = await provision_org(client, gw, "crash-router")
        for i in range(n):
            r = await post_event(client, org, {"type": "desk.ticket", "contact": {"id": "c-yamada"}, "title": f"e{i}"})
            assert r.status_code == 202
        sync = redis_sync.Redis.from_url(fresh_redis.url, decode_responses=True)
        feed_key = keys.feed(org.id, "u1")
        stream = webhook_stream(org.id, {"id": "c-yamada"})
        first = procs.router(fresh_redis.url, **env)
        deadline = time.monotonic() + 20 * FACTOR
        # Freeze the router (SIGSTOP) once it has written something and look: kill it if it holds
        # a batch read and not acknowledged, else let it go on (SIGCONT) and look again.
        while time.monotonic() < deadline:
            if 0 < sync.xlen(feed_key) < n:
                first.send_signal(signal.SIGSTOP)
                time.sleep(0.02)  # what it had sent before it froze is done by now
                if sync.xpending(stream, keys.ROUTER_GROUP)["pending"] and sync.xlen(feed_key) < n:
                    break
                first.send_signal(signal.SIGCONT)
            time.sleep(0.002)
        first.send_signal(signal.SIGKILL)
        first.wait()
        written_at_kill = sync.xlen(feed_key)
        pending_at_kill = sync.xpending(stream, keys.ROUTER_GROUP)["pending"]
        assert 0 < written_at_kill < n, "the router must die mid-batch for this test to mean anything"
        assert pending_at_kill > 0, (written_at_kill, pending_at_kill)
        procs.router(fresh_redis.url, **env)
        await wait_for(lambda: sync.xlen(feed_key) >= n, timeout=30)
        await asyncio.sleep(1.0 * FACTOR)  # a late duplicate would show up by now
        titles = await _titles(client, org.id, org.tokens["u1"])
        assert len(titles) == n
        assert sorted(titles) == sorted(f"e{i}" for i in range(n))
        assert sync.xlen(feed_key) == n
        assert sync.xpending(stream, keys.ROUTER_GROUP)["pending"] == 0
        sync.close()


async def test_gateway_killed_after_accepting_loses_nothing(fresh_redis: RedisServer, procs: Processes) -> None:
    """SIGKILL `signalgate up` right after it accepted 20 events; after restart all 20 signals exist once."""
    gw, proc = procs.serve(fresh_redis.url, with_router=True, SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS="0")
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as client:
        org = await provision_org(client, gw, "crash-gateway")
        for i in range(20):
            r = await post_event(client, org, {"type": "desk.ticket", "contact": {"id": "c-yamada"}, "title": f"k{i}"})
            assert r.status_code == 202
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    gw2, _ = procs.serve(fresh_redis.url, with_router=True, SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS="0")
    async with httpx.AsyncClient(base_url=gw2.base_url, timeout=10) as client:
        await wait_for(lambda: _count(client, org.tokens["u1"], 20), timeout=20)
        titles = await _titles(client, org.id, org.tokens["u1"])
        assert sorted(titles) == sorted(f"k{i}" for i in range(20))


async def _count(client: httpx.AsyncClient, token: str, n: int) -> bool:
    r = await client.get("/api/v1/me/signals", params={"limit": 500}, headers={"Authorization": f"Bearer {token}"})
    return len(r.json()["signals"]) >= n


async def test_two_gateway_nodes_share_live_delivery(redis_server: RedisServer, procs: Processes) -> None:
    """A client on node B receives a signal whose webhook was posted to node A."""
    node_a, _ = procs.serve(redis_server.url)
    node_b, _ = procs.serve(redis_server.url)
    procs.router(redis_server.url)
    async with httpx.AsyncClient(base_url=node_a.base_url, timeout=10) as client:
        org = await provision_org(client, node_a, "two-nodes")
        on_b = await live_feed(node_b, org.tokens["u1"])
        on_a = await live_feed(node_a, org.tokens["u1"])
        await post_event(client, org, {"type": "event.checked_in", "contact": {"id": "c-yamada"}, "title": "受付完了"})
        got_b = await on_b.signal("event.checked_in")
        got_a = await on_a.signal("event.checked_in")
        assert got_a == got_b and got_b["title"] == "受付完了"
        await on_a.ws.close()
        await on_b.ws.close()
        assert (await signals_of(client, org))["unread"] == 1


async def test_sigterm_closes_websockets_with_1001_and_exits(redis_server: RedisServer, procs: Processes) -> None:
    """On SIGTERM the node closes WebSockets with 1001 (resume elsewhere) and exits within 10 s."""
    gw, proc = procs.serve(redis_server.url)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as client:
        org = await provision_org(client, gw, "sigterm")
    feed = await live_feed(gw, org.tokens["u1"])
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        while True:
            await asyncio.wait_for(feed.ws.recv(), 10)
    except ConnectionClosed:
        pass
    assert feed.ws.close_code == 1001
    await asyncio.to_thread(proc.wait, 10)
    assert proc.returncode == 0
    assert time.monotonic() - started < 10
    # A new connection attempt is refused once the node is gone.
    try:
        async with websockets.connect(gw.ws_url, open_timeout=1):
            raise AssertionError("node still accepting after SIGTERM")
    except OSError:
        pass
