"""The stream router: raw events in partition streams -> signals in users' feeds.

Every router joins consumer group ``routers`` on every partition stream; any number of routers
can run. A partition is read by one router at a time, the holder of its lease (``sg:{p:N}:lease``,
renewed before a read once a sixth of it has passed; at most ⌈16 / live routers⌉ per router, so
routers share the partitions and each partition's batches are routed in stream order). A batch is
routed together (:mod:`gateway.routing.batch`) and acknowledged with one XACK after its feed
writes (sent with the next read, in the same round trip), and the write is idempotent per event
(see ``apply_signal.lua``), so a router killed mid-batch loses nothing: each router keeps a
heartbeat under its consumer name (unique per process start), and every ``check_seconds`` each
router looks for consumers whose heartbeat is gone and claims their pending entries
(``claim_orphans.lua``: each entry to exactly one claimer) — within ``[gateway] failover_seconds``
of the death, by a peer or by the restarted process. Re-applying an event changes nothing.

Knobs (``[router]``): ``block_ms`` how long one XREADGROUP waits (1–5 s keeps shutdown fast; capped
at a third of the lease, so the lease is renewed in time),
``batch_size`` entries per read, ``claim_idle_ms`` the safety net for an entry a *live* router left
pending (XAUTOCLAIM), ``claim_interval_ms`` how often each partition loop runs that net and trims
acked entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time

from gateway.config import RouterConfig
from gateway.domain.events import Event
from gateway.domain.failover import FailoverTiming, orphaned, partition_share
from gateway.routing.batch import BatchRouter
from gateway.routing.batch_rules import BATCHED, runs
from gateway.routing.mail import MailRouter
from gateway.routing.waker import Waker
from gateway.services import Services
from gateway.store import keys
from gateway.store.errors import stream_gone
from gateway.store.event_log import Entry
from gateway.store.heartbeat import Heartbeat, Heartbeats
from gateway.supervision.health import Health
from gateway.supervision.supervisor import Supervisor

log = logging.getLogger("signalgate.router")

# A held lease is renewed before a read only once this share of it has passed since it was last
# asked for: a lease asked for at t is ours until at least t + lease, and a read that starts before
# t + lease / 6 ends (it blocks at most lease / 3) by t + lease / 2, so half the lease is left to
# route what it read. Renewing before every read cost a round trip per batch.
RENEW_SHARE = 1 / 6


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(3).hex()}"


class Router:
    def __init__(
        self, services: Services, cfg: RouterConfig, name: str | None = None, supervisor: Supervisor | None = None
    ) -> None:
        self._svc = services
        self._log = services.events
        self._tenancy = services.tenancy
        self._m = services.metrics
        self._mail = MailRouter(services)
        self._batch = BatchRouter(services)
        self._cfg = cfg
        self.name = name or consumer_name()
        self._supervisor = supervisor or Supervisor(Health(services.metrics), services.metrics)
        self._timing = FailoverTiming(services.config.gateway.failover_seconds)
        self._heartbeats = Heartbeats(services.redis)
        # Partition leases: the partitions this router reads now, and how many it may hold.
        self._held: set[int] = set()
        self._taking = 0  # leases being asked for right now (counted against the share)
        self._share = keys.PARTITIONS  # until the first look at the peers
        self._renewed: dict[int, float] = {}  # partition -> when its lease was last asked for (and held)

    async def run(self, stop: asyncio.Event) -> None:
        """Route until ``stop`` is set; each partition has its own loop, and one loop takes over the
        entries of dead routers, each supervised on its own (part ``router``, units ``p<N>`` and
        ``failover``): Redis trouble is retried, a bug restarts that loop only. The heartbeat lives
        exactly as long as the loops."""
        await self._log.join(self.name)
        log.info("router %s consuming %d partitions", self.name, keys.PARTITIONS)
        heartbeat = Heartbeat(self._heartbeats, self.name, self._timing)
        async with heartbeat.kept(), asyncio.TaskGroup() as tg:
            tg.create_task(self._supervisor.run("router", self._failover_loop, stop, unit="failover"), name="failover")
            # Snoozed signals come back from here: every router process runs a waker (part "waker").
            tg.create_task(self._supervisor.run("waker", Waker(self._svc).run, stop), name="waker")
            for p in range(keys.PARTITIONS):
                loop = functools.partial(self._partition_loop, p)
                tg.create_task(self._supervisor.run("router", loop, stop, unit=f"p{p}"), name=f"router-p{p}")

    async def _partition_loop(self, partition: int, stop: asyncio.Event) -> None:
        """Read and route the partition while this router holds its lease (one reader per partition,
        so its batches are routed one after the other, in stream order); else wait for the lease.
        A clean stop gives the lease back at once; a crash leaves it to expire (the supervisor's
        restart, same consumer name, renews it)."""
        try:
            await self._route_partition(partition, stop)
        finally:
            if stop.is_set() and partition in self._held:
                self._held.discard(partition)
                with contextlib.suppress(Exception):
                    await self._log.release(partition, self.name)

    async def _route_partition(self, partition: int, stop: asyncio.Event) -> None:
        """The read loop. A routed batch is acknowledged by the next read (XACK and XREADGROUP in one
        round trip, the XACK applied first), or on its own before anything else this loop does
        (losing the lease, reclaiming, stopping); the routing of a batch is over before its XACK is
        sent either way, so the guarantee is :meth:`_handle_batch`'s."""
        lease_ms = self._timing.heartbeat_ttl_ms
        # A blocked read must end well within the lease, to renew it in time.
        block_ms = max(1, min(self._cfg.block_ms, lease_ms // 3))
        next_claim = 0.0
        drained = False
        unacked: list[str] = []
        try:
            while not stop.is_set():
                try:
                    if not await self._hold(partition, lease_ms):
                        unacked = await self._ack(partition, unacked)
                        drained = False
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), self._timing.check_seconds / 4)
                        continue
                    if not drained:
                        # A loop restarted by the supervisor (same consumer name) first finishes what it
                        # had read and not acknowledged, instead of leaving it to the claim_idle_ms net.
                        await self._drain_own(partition, stop)
                        drained = True
                    if time.monotonic() >= next_claim:
                        unacked = await self._ack(partition, unacked)
                        await self._reclaim(partition)
                        await self._log.trim(partition)
                        next_claim = time.monotonic() + self._cfg.claim_interval_ms / 1000
                    entries = await self._log.read(partition, self.name, self._cfg.batch_size, block_ms, unacked)
                    unacked = []
                    await self._route_batch(partition, entries)
                    unacked = [entry_id for entry_id, _ in entries]
                except Exception as exc:
                    # The stream was deleted under us (NOGROUP, or UNBLOCKED for a blocked read): recreate
                    # its group and go on. Anything else goes to the supervisor, which retries or restarts.
                    if not stream_gone(exc):
                        raise
                    log.info("router partition %d: %s; recreating the consumer group", partition, exc)
                    unacked = []  # their stream is gone
                    await self._log.join(self.name)
        finally:
            if unacked:  # routed: acknowledge them now (if this fails, a replay changes nothing)
                with contextlib.suppress(Exception):
                    await self._log.ack(partition, *unacked)

    async def _ack(self, partition: int, entry_ids: list[str]) -> list[str]:
        """Acknowledge routed entries on their own (not with the next read); what is left: nothing."""
        if entry_ids:
            await self._log.ack(partition, *entry_ids)
        return []

    async def _drain_own(self, partition: int, stop: asyncio.Event) -> None:
        after = "0"
        while after and not stop.is_set():
            after, entries = await self._log.own_pending(partition, self.name, self._cfg.batch_size, after)
            await self._handle_batch(partition, entries)

    async def _hold(self, partition: int, lease_ms: int) -> bool:
        """Take or renew the partition's lease within this router's share of the partitions; a
        router holding more than its share (peers joined) gives this one back."""
        if partition in self._held:
            if len(self._held) > self._share:
                self._held.discard(partition)
                await self._log.release(partition, self.name)
                return False
            asked = time.monotonic()
            if asked < self._renewed.get(partition, 0.0) + lease_ms / 1000 * RENEW_SHARE:
                return True  # renewed moments ago: still ours for most of the lease (see RENEW_SHARE)
            if await self._log.hold(partition, self.name, lease_ms):
                self._renewed[partition] = asked
                return True
            self._held.discard(partition)  # it expired and a peer took it
            return False
        if len(self._held) + self._taking >= self._share:
            return False
        self._taking += 1
        try:
            asked = time.monotonic()
            held = await self._log.hold(partition, self.name, lease_ms)
        finally:
            self._taking -= 1
        if held:
            self._held.add(partition)
            self._renewed[partition] = asked
        return held

    async def _failover_loop(self, stop: asyncio.Event) -> None:
        """Every ``check_seconds``: take over what dead routers held (see :meth:`take_over_dead`)."""
        while not stop.is_set():
            try:
                await self.take_over_dead()
            except Exception as exc:
                if not stream_gone(exc):
                    raise  # to the supervisor: Redis trouble is retried, anything else restarts this loop
                await self._log.join(self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._timing.check_seconds)

    async def take_over_dead(self) -> int:
        """Claim and route the pending entries of every consumer whose heartbeat is gone; how many.
        Also counts the live routers, which sets this router's share of the partition leases."""
        names = await asyncio.gather(*(self._log.consumers(p) for p in range(keys.PARTITIONS)))
        alive = await self._heartbeats.alive(sorted({n for group in names for n in group}))
        self._share = partition_share(keys.PARTITIONS, len(alive | {self.name}))
        jobs = [self._take_over(p, dead) for p, group in enumerate(names) for dead in orphaned(group, alive, self.name)]
        return sum(await asyncio.gather(*jobs))

    async def _take_over(self, partition: int, dead: str) -> int:
        taken = 0
        while True:
            entries = await self._log.claim_orphans(partition, dead, self.name, self._cfg.batch_size)
            if entries:
                taken += len(entries)
                self._m.router_reclaimed.inc(len(entries))
                await self._handle_batch(partition, entries)
            if len(entries) < self._cfg.batch_size:
                break
        if taken:
            log.info(
                "router %s took over %d events of dead router %s on partition %d", self.name, taken, dead, partition
            )
        return taken

    async def _reclaim(self, partition: int) -> None:
        start = "0-0"
        while True:
            start, live = await self._log.reclaim(
                partition, self.name, self._cfg.claim_idle_ms, self._cfg.batch_size, start
            )
            if live:
                self._m.router_reclaimed.inc(len(live))
                log.info("router %s reclaimed %d pending events on partition %d", self.name, len(live), partition)
                await self._handle_batch(partition, live)
            if start == "0-0":
                return

    async def _handle_batch(self, partition: int, entries: list[Entry]) -> None:
        """Route a batch (:meth:`_route_batch`), then acknowledge all of it with one XACK."""
        await self._route_batch(partition, entries)
        await self._log.ack(partition, *(entry_id for entry_id, _ in entries))

    async def _route_batch(self, partition: int, entries: list[Entry]) -> None:
        """Route a batch of one partition in stream order; the caller acknowledges all of it at once.

        Runs of sources in ``BATCHED`` go through :class:`BatchRouter` together (a fixed number of
        round trips per run); any other event (mail) is routed alone by :meth:`handle`, in its
        place. Nothing is acknowledged before the whole batch is routed, so an error anywhere
        leaves it pending: the restarted loop (or a peer, if this router dies) routes it again,
        and every write is idempotent."""
        events: list[Event] = []
        for entry_id, fields in entries:
            try:
                events.append(Event.from_entry(partition, entry_id, fields))
            except (KeyError, ValueError):
                log.error("dropping malformed event %s on partition %d", entry_id, partition)
        if events:
            orgs = await self._tenancy.cached_orgs({e.org for e in events})
            for batched, run in runs(events):
                if batched:
                    await self._batch.route(run, orgs)
                else:
                    await self.handle(run[0])
            now_ms = time.time() * 1000
            observe = self._m.router_latency.observe
            for event in events:
                observe(max(now_ms - event.at_ms, 0.0) / 1000)
            self._m.router_lag.labels(str(partition)).set((now_ms - events[-1].at_ms) / 1000)
        if entries:
            self._m.router_events.labels(str(partition)).inc(len(entries))

    # -- one event ------------------------------------------------------------------------------
    async def handle(self, event: Event) -> None:
        """Route one event on its own (mail; any source the batch does not know does nothing)."""
        org = await self._tenancy.cached_org(event.org)
        if org is None:
            return
        if event.source == "imap.mail":  # mail has its own rules and writes: gateway.routing.mail
            await self._mail.handle(event, org)
        elif event.source in BATCHED:
            await self._batch.route([event], {event.org: org})
