"""Failover in seconds (SPEC "Running" → "Failover"): a SIGKILLed router's pending events and a
SIGKILLed listener's mailbox are taken over by a live peer or by the restart within
``[gateway] failover_seconds`` (default 5) of the death — from heartbeats, never by waiting for an
entry to look idle — and nothing is applied twice. Real processes, real Redis, real Dovecot.

The routers run with the shipped ``claim_idle_ms`` / ``claim_interval_ms`` (15 s / 5 s) and the
mailboxes with the shipped ``lease_seconds`` (30 s): only the heartbeats can make these fast.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import redis as redis_sync
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from gateway.config import load_config
from gateway.domain.events import Event
from gateway.ingest.imap.rules import mailbox_id
from gateway.routing.router import Router
from gateway.services import open_services
from gateway.store import keys
from gateway.store.event_log import EventLog
from gateway.store.mailboxes import LeaseLost, Mailboxes
from gateway.store.scripts import load_scripts
from tests.support.api import Gateway, OrgCtx, post_event, provision_org, signals_of
from tests.support.imap import Dovecot, MailUser, imap_env, mail
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.streams import webhook_stream
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import live_feed

FAILOVER_SECONDS = 5.0  # the default of [gateway] failover_seconds
# What the bound allows on top of failover_seconds: polling, process start-up on a busy machine.
SLACK_SECONDS = 1.5 * FACTOR
# A `signalgate imap` process has no health endpoint to wait for: what starting one may take here.
START_SECONDS = 2.0 * FACTOR
# A second contact, so a repeated mail would show as a signal with count 2 (not grouped with the first).
OTHER_SENDER = "jane@acme.example.com"
SHIPPED_ROUTER = {
    "SIGNALGATE_ROUTER_CLAIM_IDLE_MS": "15000",
    "SIGNALGATE_ROUTER_CLAIM_INTERVAL_MS": "5000",
    "SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS": "0",  # one signal per event: a repeat would show
}


@pytest.fixture
async def aredis(fresh_redis: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(fresh_redis.url, decode_responses=True)
    yield client
    await client.aclose()


async def consumer_of(r: Redis, stream: str, pid: int) -> str | None:
    """The router consumer name of process ``pid`` (``<host>-<pid>-<random>``) once it has read."""
    try:
        infos = await r.xinfo_consumers(stream, keys.ROUTER_GROUP)
    except ResponseError:  # no stream or no group yet
        return None
    return next((str(i["name"]) for i in infos if f"-{pid}-" in str(i["name"])), None)


async def pending_of(r: Redis, stream: str, consumer: str) -> int:
    return len(await r.xpending_range(stream, keys.ROUTER_GROUP, "-", "+", 1000, consumername=consumer))


async def titles(client: httpx.AsyncClient, org: OrgCtx) -> list[str]:
    return [s["title"] for s in (await signals_of(client, org, limit=500))["signals"]]


async def test_router_sigkilled_while_300_events_stream_in(
    fresh_redis: RedisServer, procs: Processes, aredis: Redis
) -> None:
    """Two routers; one is SIGKILLed holding pending entries while 300 events stream in: every
    event is routed within failover_seconds of the death, and each signal exists exactly once."""
    n = 300
    gw, _ = procs.serve(fresh_redis.url, with_router=False, **SHIPPED_ROUTER)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, gw, "failover-" + uuid.uuid4().hex[:6])
        # Each router reads only the partitions it holds a lease on (issue 10): the events name
        # u1's contacts in six ways, so they use several partitions and the victim holds some.
        refs = [{kind: value} for contact in ("c-yamada", "c-suzuki") for kind, value in _refs(org, contact)]
        streams = sorted({webhook_stream(org.id, ref) for ref in refs})
        routers = [procs.router(fresh_redis.url, **SHIPPED_ROUTER) for _ in range(2)]
        victim = await _holder_of_most(aredis, streams, routers)
        posted = 0
        killed_at: float | None = None

        async def post() -> None:
            # At least n events; more (up to 500, one page of the feed API) while the victim has
            # not been caught holding entries.
            nonlocal posted
            while posted < n or (killed_at is None and posted < 500):
                i = posted
                posted += 1
                event = {"type": "desk.ticket", "contact": refs[i % len(refs)], "title": f"e{i}"}
                assert (await post_event(client, org, event)).status_code == 202

        streaming = asyncio.gather(*(post() for _ in range(8)))
        # Kill the victim the moment it holds entries it has read but not acknowledged.
        deadline = time.monotonic() + 20 * FACTOR
        victim_name = None
        # The victim routes fast: freeze it (SIGSTOP) and look; kill it if it holds entries read but
        # not acknowledged, else let it go on (SIGCONT) and look again.
        while True:
            assert time.monotonic() < deadline and posted < 500, "the victim never held a pending entry"
            victim_name = victim_name or await consumer_of(aredis, streams[0], victim.pid)
            if posted >= n // 5 and victim_name:
                victim.send_signal(signal.SIGSTOP)
                # A frozen router blocked in XREADGROUP still gets the entries appended meanwhile.
                if await _pending_within(aredis, streams, victim_name, 0.05):
                    break
                victim.send_signal(signal.SIGCONT)
            await asyncio.sleep(0.002)
        victim.send_signal(signal.SIGKILL)
        killed = killed_at = time.monotonic()
        await asyncio.to_thread(victim.wait)
        held = await _pending_in(aredis, streams, victim_name)
        assert held > 0, "the router must die holding entries for this test to mean anything"
        await streaming
        n = posted  # every event accepted, also those posted while catching the victim
        feed = keys.feed(org.id, "u1")

        async def all_routed() -> bool:
            pending = [(await aredis.xpending(s, keys.ROUTER_GROUP))["pending"] for s in streams]
            return await aredis.xlen(feed) >= n and not any(pending)

        await wait_for(all_routed, timeout=30, interval=0.02)
        took = time.monotonic() - killed
        print(f"\n{held} pending entries of the killed router; all {n} routed {took:.2f} s after SIGKILL")
        assert took <= FAILOVER_SECONDS + SLACK_SECONDS
        await asyncio.sleep(1.0 * FACTOR)  # a late duplicate would show up by now
        assert await aredis.xlen(feed) == n
        got = await titles(client, org)
        assert sorted(got) == sorted(f"e{i}" for i in range(n))
        for stream in streams:
            consumers = [str(i["name"]) for i in await aredis.xinfo_consumers(stream, keys.ROUTER_GROUP)]
            assert victim_name not in consumers, "a dead consumer leaves the group once its entries are taken over"


async def _holder_of_most(
    aredis: Redis, streams: list[str], routers: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    """Once the routers share the partitions (every lease held, each router holding some): the
    router holding most of the partitions of ``streams`` (a victim reading none of them could never
    hold their entries)."""
    holders: list[str] = []

    async def shared() -> bool:
        nonlocal holders
        holders = [await aredis.get(keys.partition_lease(p)) or "" for p in range(keys.PARTITIONS)]
        return all(holders) and all(any(f"-{r.pid}-" in h for h in holders) for r in routers)

    await wait_for(shared, timeout=START_SECONDS * 5, interval=0.05)
    used = [p for p in range(keys.PARTITIONS) if keys.events_stream(p) in streams]
    return max(routers, key=lambda r: sum(1 for p in used if f"-{r.pid}-" in holders[p]))


async def _pending_within(aredis: Redis, streams: list[str], consumer: str, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while True:
        held = await _pending_in(aredis, streams, consumer)
        if held or time.monotonic() > deadline:
            return held
        await asyncio.sleep(0.005)


def _refs(org: OrgCtx, contact: str) -> list[tuple[str, str]]:
    """A contact named by id, by its first email and by its first phone."""
    rec = org.contacts[contact]
    return [("id", contact), ("email", rec["emails"][0]), ("phone", rec["phones"][0]["number"])]


async def _pending_in(r: Redis, streams: list[str], consumer: str) -> int:
    return sum([await pending_of(r, stream, consumer) for stream in streams])


async def test_up_sigkilled_after_accepting_20_events_restart_routes_them_within_seconds(
    fresh_redis: RedisServer, procs: Processes, aredis: Redis
) -> None:
    """`signalgate up` SIGKILLed right after accepting 20 events (some read, not yet routed) and
    restarted at once: all accepted events are routed within failover_seconds of the death, none
    twice."""
    gw, proc = procs.serve(fresh_redis.url, with_router=True, **SHIPPED_ROUTER)
    # A second node that only accepts (no router): what it appends while `up` is frozen is handed to
    # `up`'s blocked read by Redis, so `up` dies holding it even on a machine where `up` routes its
    # own 20 before the test can freeze it.
    other, _ = procs.serve(fresh_redis.url, with_router=False, **SHIPPED_ROUTER)
    async with (
        httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client,
        httpx.AsyncClient(base_url=other.base_url, timeout=10 * FACTOR) as client2,
    ):
        org = await provision_org(client, gw, "failover-up-" + uuid.uuid4().hex[:6])
        stream = webhook_stream(org.id, {"id": "c-yamada"})
        posted: list[str] = []

        async def accept(via: httpx.AsyncClient, n: int) -> None:
            batch = [f"k{len(posted) + i}" for i in range(n)]
            events = [{"type": "desk.ticket", "contact": {"id": "c-yamada"}, "title": t} for t in batch]
            responses = await asyncio.gather(*(post_event(via, org, e) for e in events))
            assert all(r.status_code == 202 for r in responses)
            posted.extend(batch)

        async def held_within(seconds: float) -> int:
            deadline = time.monotonic() + seconds
            while True:
                held: int = (await aredis.xpending(stream, keys.ROUTER_GROUP))["pending"]
                if held or time.monotonic() > deadline:
                    return held
                await asyncio.sleep(0.005)

        # Freeze `up` right after it accepted 20 events; kill it if it holds some of them read but
        # not routed. Else the other node accepts a few while `up` is frozen (its blocked read
        # takes them); else let `up` go on and try again — so the test always means something.
        for _ in range(10):
            await accept(client, 20)
            proc.send_signal(signal.SIGSTOP)
            killed = time.monotonic()  # its heartbeat stops being refreshed from here
            if await held_within(0):
                break
            await accept(client2, 3)
            if await held_within(0.5 * FACTOR):
                break
            proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGKILL)
        await asyncio.to_thread(proc.wait)
    held = (await aredis.xpending(stream, keys.ROUTER_GROUP))["pending"]
    routed = await aredis.xlen(keys.feed(org.id, "u1"))
    print(f"\nat SIGKILL: {len(posted)} accepted, {routed} routed, {held} read but not routed")
    assert held > 0, "`up` must die holding entries for this test to mean anything"
    gw2, _ = await asyncio.to_thread(procs.serve, fresh_redis.url, with_router=True, **SHIPPED_ROUTER)
    healthy = time.monotonic() - killed
    async with httpx.AsyncClient(base_url=gw2.base_url, timeout=10 * FACTOR) as client:

        async def all_routed() -> bool:
            pending: int = (await aredis.xpending(stream, keys.ROUTER_GROUP))["pending"]
            return pending == 0 and len(await titles(client, org)) >= len(posted)

        await wait_for(all_routed, timeout=30, interval=0.02)
        took = time.monotonic() - killed
        print(f"restart healthy {healthy:.2f} s after the death; all signals {took:.2f} s after it")
        # Within failover_seconds of the death — unless starting the process took longer on this
        # machine, then within one failover check of its start.
        assert took <= max(FAILOVER_SECONDS, healthy + 1.0) + SLACK_SECONDS
        await asyncio.sleep(1.0 * FACTOR)
        assert sorted(await titles(client, org)) == sorted(posted)
        assert await aredis.xlen(keys.feed(org.id, "u1")) == len(posted)


# --- the store steps, raced against a real Redis ---------------------------------------------------


async def test_racing_claimers_split_a_dead_consumers_entries(aredis: Redis) -> None:
    """Eight routers claim one dead consumer's 250 pending entries at once: each entry goes to
    exactly one of them, none is lost, and the dead consumer leaves the group."""
    events = EventLog(aredis, load_scripts(aredis))
    await events.ensure_groups()
    org = "race-" + uuid.uuid4().hex[:6]
    p = keys.partition_of(org)
    for i in range(250):
        await events.append(org, "test", {"i": i})
    held = await events.read(p, "dead-1", 250, 100)
    assert len(held) == 250

    async def claimer(k: int) -> list[str]:
        got: list[str] = []
        while batch := await events.claim_orphans(p, "dead-1", f"live-{k}", 7):
            got += [entry_id for entry_id, fields in batch if fields["org"] == org]
        return got

    claimed = await asyncio.gather(*(claimer(k) for k in range(8)))
    every = [entry_id for got in claimed for entry_id in got]
    assert sorted(every) == sorted(entry_id for entry_id, _ in held)  # each exactly once
    assert "dead-1" not in await events.consumers(p)
    assert (await aredis.xpending(keys.events_stream(p), keys.ROUTER_GROUP))["pending"] == 250


async def test_only_a_dead_holders_lease_is_taken_and_by_one_standby(aredis: Redis) -> None:
    """A mailbox lease whose holder beats is never taken; once its heartbeat is gone exactly one of
    ten racing standbys takes it, and the old holder can no longer renew or move the checkpoint."""
    scripts = load_scripts(aredis)
    org, box = "lease-" + uuid.uuid4().hex[:6], "mb"
    boxes = Mailboxes(aredis, scripts)
    holder = boxes.lease(org, box, 30_000)
    assert await holder.acquire()
    checkpoint = boxes.checkpoints(org, box, holder)
    await checkpoint.reset(1, 10, None)
    await boxes.heartbeats.beat(holder.token, 30_000)
    standbys = [boxes.lease(org, box, 30_000) for _ in range(10)]
    assert await asyncio.gather(*(s.take_from_dead() for s in standbys)) == [None] * 10
    await boxes.heartbeats.end(holder.token)  # the holder died (its key expired)
    taken = await asyncio.gather(*(s.take_from_dead() for s in standbys))
    assert taken.count(holder.token) == 1 and taken.count(None) == 9
    winner = standbys[taken.index(holder.token)]
    assert await winner.holder() == winner.token and await winner.renew()
    assert not await holder.renew()
    with pytest.raises(LeaseLost):
        await checkpoint.advance(1, 11, None)
    assert await boxes.checkpoints(org, box, winner).advance(1, 11, None)


# --- IMAP ---------------------------------------------------------------------------------------


def shipped_lease_env(dovecot: Dovecot, user: MailUser, org: str) -> dict[str, str]:
    # imap_env shortens the lease to 2 s for other tests; here it is the shipped 30 s.
    return imap_env(dovecot, user, org, "u1", lease_seconds="30")


async def wait_listening(r: redis_sync.Redis, dovecot: Dovecot, user: MailUser, org: str, pid: int) -> None:
    lease = keys.imap_lease(org, mailbox_id(org, "127.0.0.1", dovecot.port, user.address, "INBOX"))
    await wait_for(lambda: f":{pid}:" in (r.get(lease) or "") and dovecot.connections(user) >= 1, timeout=20)


async def email_titles(client: httpx.AsyncClient, org: OrgCtx) -> list[tuple[str, int]]:
    signals = (await signals_of(client, org, limit=500))["signals"]
    return sorted((s["title"], s["count"]) for s in signals if s["type"].startswith("email."))


async def test_imap_holder_sigkilled_peer_resumes_the_mailbox_within_seconds(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """Two `signalgate imap` processes (lease 30 s): SIGKILL the holder while mail waits; the standby
    takes the mailbox over and routes that mail within failover_seconds of the death, once."""
    user = dovecot.add_user()
    env = shipped_lease_env(dovecot, user, org.id)
    first = procs.imap(redis_server.url, **env)
    await wait_listening(sync_redis, dovecot, user, org.id, first.pid)
    second = procs.imap(redis_server.url, **env)
    feed = await live_feed(gateway, org.tokens["u1"])
    await dovecot.adeliver(user, mail("before the crash"))
    assert (await feed.signal("email.received", timeout=10))["title"] == "before the crash"
    first.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    await asyncio.to_thread(first.wait)
    await dovecot.adeliver(user, mail("while the holder is dead", sender=OTHER_SENDER, name="Jane Smith"))
    sig = await feed.signal("email.received", timeout=30)
    took = time.monotonic() - killed
    print(f"\nmail waiting at SIGKILL was routed by the standby {took:.2f} s after it")
    assert sig["title"] == "while the holder is dead"
    assert took <= FAILOVER_SECONDS + SLACK_SECONDS
    await wait_listening(sync_redis, dovecot, user, org.id, second.pid)
    await asyncio.sleep(1.0 * FACTOR)
    assert await email_titles(client, org) == [("before the crash", 1), ("while the holder is dead", 1)]
    await feed.ws.close()


async def test_imap_process_sigkilled_and_restarted_resumes_within_seconds(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """The only `signalgate imap` process is SIGKILLed, mail arrives, it is restarted: its new
    incarnation takes its predecessor's lease (no heartbeat) and routes the mail within seconds."""
    user = dovecot.add_user()
    env = shipped_lease_env(dovecot, user, org.id)
    first = procs.imap(redis_server.url, **env)
    await wait_listening(sync_redis, dovecot, user, org.id, first.pid)
    feed = await live_feed(gateway, org.tokens["u1"])
    await dovecot.adeliver(user, mail("before the crash"))
    assert (await feed.signal("email.received", timeout=10))["title"] == "before the crash"
    first.send_signal(signal.SIGKILL)
    await asyncio.to_thread(first.wait)
    await dovecot.adeliver(user, mail("while it was down", sender=OTHER_SENDER, name="Jane Smith"))
    restarted = time.monotonic()
    procs.imap(redis_server.url, **env)
    sig = await feed.signal("email.received", timeout=40)
    took = time.monotonic() - restarted
    print(f"\nmail that arrived while down was routed {took:.2f} s after the restart began")
    assert sig["title"] == "while it was down"
    assert took <= FAILOVER_SECONDS + SLACK_SECONDS + START_SECONDS
    await asyncio.sleep(1.0 * FACTOR)
    assert await email_titles(client, org) == [("before the crash", 1), ("while it was down", 1)]
    await feed.ws.close()


async def test_a_restarted_partition_loop_finishes_what_it_had_read_at_once(fresh_redis: RedisServer) -> None:
    """A bug while handling an entry restarts that partition's loop (same consumer name): the entry
    it had read is handled again right after the restart, not after claim_idle_ms (15 s)."""
    config = load_config(None, {})
    seen: list[str] = []

    async with open_services(config, fresh_redis.url, secrets=False) as svc:
        router = Router(svc, config.router)

        async def handle(event: Event) -> None:
            seen.append(event.id)
            if len(seen) == 1:
                raise RuntimeError("a bug in handling (test)")

        router.handle = handle  # type: ignore[method-assign]
        stop = asyncio.Event()
        running = asyncio.create_task(router.run(stop))
        try:
            org = "restart-" + uuid.uuid4().hex[:6]
            await svc.events.ensure_groups()
            accepted = await svc.events.append(org, "test", {"type": "desk.ticket"})
            started = time.monotonic()
            await wait_for(lambda: len(seen) >= 2, timeout=10, interval=0.02)
            took = time.monotonic() - started
        finally:
            stop.set()
            await running
    assert seen[0] == seen[1], seen
    assert took < 5 * FACTOR, f"handled again only after {took:.1f} s"
    print(f"\nre-handled {took:.2f} s after the bug ({accepted})")
