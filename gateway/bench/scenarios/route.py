"""``route``: events of ONE org turned into signals per second, with 1, 2 and 4 router processes.

Method: the bench process appends the org's events straight to the event log with
``EventLog.append`` (the call every ingest endpoint makes, dedupe included, with the payload the
Standard Webhooks endpoint stores), spread over 64 contacts, each owned by its own user (users
only this scenario has, so no WebSocket client receives them). The producer is closed-loop: it
keeps 1,000 events appended and not yet routed, so the routers are never idle and are the
bottleneck (``producer_min_backlog`` in the JSON shows the backlog never ran dry). The value is
the feed entries Redis wrote per second while the producer ran (one entry per event, new signal
or grouped repeat); the latency runs from the append (``occurred_at``) to the feed write (the
feed entry's id), both in Redis-clock milliseconds, so it is the time an event waits behind the
1,000 in flight plus its routing. Lost/duplicated: the users' signal counts through the public
API against the events appended (grouped repeats included), and each event's sequence number
in the feeds. Baseline: a bare consumer process doing the same number of ``XADD`` +
``XREADGROUP`` + ``XACK`` round trips, one event at a time, against the same Redis.
"""

from __future__ import annotations

import os
import time

from gateway.bench.agents import LineChannel
from gateway.bench.context import Bench
from gateway.bench.feedtimes import FeedWrite, drain_rate, route_figure, routed_rate, seq_check, write_latency
from gateway.bench.figures import Figure
from gateway.bench.payloads import EVENT_TYPE
from gateway.bench.procfs import CpuMeter
from gateway.bench.provision import Pairs, add_pairs, signal_total
from gateway.bench.scenarios.common import STALL_SECONDS, live_routers, set_routers
from gateway.bench.stats import Latency, latency_ms, rate
from gateway.bench.streams import EventLoad, Produced
from gateway.store import keys

ROUTER_COUNTS = (1, 2, 4)
# Events appended and not yet routed, kept so by the producer (like the ingest phases' connections).
WINDOW = 1000
CONTACTS = 64
_FIRST_PHONE = 700_000
_BASELINE_START_SECONDS = 30.0


async def _phase(b: Bench, load: EventLoad, pairs: Pairs, feeds: list[str], routers: int) -> Figure:
    s = b.settings
    types = {EVENT_TYPE}
    before = await signal_total(b.base_url, pairs.tokens, types)
    routed_before = await load.routed(feeds)
    meter = CpuMeter(b.pids() | {"producer": os.getpid()})
    with b.ui.phase(f"route: one org, {routers} router(s), {WINDOW:,} events in flight", s.duration):
        meter.start(time.monotonic())
        produced = await load.closed_loop(b.org.id, pairs.contacts, feeds, s.duration, WINDOW, b.next_seq())
        cpu = meter.stop(time.monotonic())
    with b.ui.phase(f"route: {routers} router(s), waiting until every appended event is a signal"):
        waited = time.monotonic()
        await load.wait_routed(feeds, routed_before + len(produced.seqs), STALL_SECONDS)
        drain = round(time.monotonic() - waited, 2)
        total = await signal_total(b.base_url, pairs.tokens, types)
    sent = set(produced.seqs)
    writes = [w for w in await load.writes_since(feeds, produced.started_ms) if w.seq in sent]
    return _figure(routers, produced, writes, before, total, cpu, drain)


def _figure(
    routers: int,
    produced: Produced,
    writes: list[FeedWrite],
    before: int,
    total: int,
    cpu: dict[str, float],
    drain: float,
) -> Figure:
    expected = before + len(produced.seqs)
    seq_lost, seq_dup = seq_check(produced.seqs, writes)
    fig = Figure(
        route_figure(routers),
        routed_rate(writes, produced.started_ms, produced.stopped_ms),
        "events/s",
        latency=write_latency(writes),
        lost=max(expected - total, seq_lost, 0),
        duplicated=max(total - expected, seq_dup, 0),
        extra={
            "routers": routers,
            "contacts": CONTACTS,
            "window": WINDOW,
            "events": len(produced.seqs),
            "feed_entries": len(writes),
            "producer_min_backlog": produced.min_backlog,
            "drain_s": drain,
            "drain_events_per_s": drain_rate(writes, produced.stopped_ms),
            "cpu": cpu,
        },
    )
    if produced.min_backlog == 0:
        fig.notes.append("the routers caught up with the producer at least once: the producer limited this figure")
    return fig


async def _baseline(b: Bench, events: int) -> tuple[float, Latency, dict[str, float]]:
    """The bare consumer: ``events`` XADD + XREADGROUP + XACK round trips (at most --duration s)."""
    # The queue's Redis: the same server as the stack's, or with --redis-cluster the plain one beside it.
    args = ["streams", "--redis", b.stack.queue_url, "--count", str(max(events, 100))]
    proc = await b.stack.python_module(
        "bare-streams", "gateway.bench.baselines", *args, "--seconds", str(b.settings.duration), pipes=True
    )
    meter = CpuMeter(b.pids(bare=proc))
    meter.start(time.monotonic())
    try:
        with b.ui.phase("route: baseline, a bare XADD + XREADGROUP + XACK consumer", b.settings.duration):
            out = await LineChannel(proc).read(within=b.settings.duration + _BASELINE_START_SECONDS)
    finally:
        cpu = meter.stop(time.monotonic())
        await b.stack.stop([proc])
    return rate(int(out["events"]), float(out["seconds"])), latency_ms(out["latencies_us"]), cpu


async def run_route(b: Bench) -> None:
    if not b.local:
        b.notes.append("route skipped: it starts and stops router processes of the self-contained stack")
        b.ui.log("[yellow]route skipped[/yellow]: --target")
        return
    with b.ui.phase(f"route: {CONTACTS} users of the bench org, each owning one contact"):
        pairs = await add_pairs(b.admin, b.org.id, "route-", CONTACTS, _FIRST_PHONE)
    feeds = [keys.feed(b.org.id, u) for u in pairs.users]
    load = EventLoad(b.stack.redis_url, cluster=b.stack.on_cluster)
    initial = len(live_routers(b))
    figures: list[Figure] = []
    try:
        for routers in ROUTER_COUNTS:
            with b.ui.phase(f"route: {routers} router process(es)"):
                await set_routers(b, load, routers)
            figures.append(await _phase(b, load, pairs, feeds, routers))
        with b.ui.phase(f"route: back to {initial} router(s)"):
            await set_routers(b, load, initial)
        value, latency, cpu = await _baseline(b, int(figures[0].extra["events"]))
    finally:
        await load.aclose()
    for fig in figures:
        fig.baseline, fig.baseline_latency = value, latency
        fig.extra["baseline_cpu"] = cpu
        b.add(fig)
