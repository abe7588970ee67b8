"""``scale``: events ingested over HTTP and routed into signals per second, for ONE org and for
MANY orgs (50), on several topologies of ``serve`` nodes and routers, with every process's CPU share.

Method: signed Standard Webhooks events (``POST /webhooks/events/<org>``, as in ``e2e``) at max
rate, closed loop over ``--connections`` keep-alive connections split evenly over the serve nodes,
one load-generator process per serve node; every event is about a contact owned by a user no
client watches. One org: 64 users of the bench org, each owning one contact. Many orgs: 50 fresh
orgs with 2 users and 2 contacts each, event ``n`` to org ``n mod 50``. Each phase lasts half of
``--duration`` (at least 1 s); the value is the feed entries written per second during it (one
per event: a new signal or a grouped repeat), so it is the rate the whole path sustains, ingest
and routing together; ``ingested_per_s`` beside it is what the gateways accepted. After each phase
the bench waits until every accepted event is in a feed; lost/duplicated: feed entries against
events accepted, and each event's sequence number in the feeds.

Why HTTP ingest and not the ``route`` scenario's producer (``EventLog.append`` from the bench): the
serve nodes are half of what is scaled, and without WebSocket clients they take part only as the
ingest path; so here ingest is in the figure on purpose, and ``limit`` says, from the CPU shares,
whether the machine's cores, one process, or neither flattened each phase (``route`` measures the
routers alone).

Topologies (serve nodes, routers), each run for one org and for many: 1 and 2 serve nodes × 1, 2
and 4 routers, twelve phases of 4 s at ``--duration 8`` (about 75 s with provisioning, router
start-ups and drains). Works on
one Redis and with ``--redis-cluster`` (the orgs then spread over the cluster's masters by their
hash tags). Self-contained only: it starts and stops serve nodes and routers.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from gateway.bench.agents import Agent
from gateway.bench.context import Bench, endpoint_of, merge
from gateway.bench.feedtimes import routed_rate, seq_check, write_latency
from gateway.bench.figures import Figure
from gateway.bench.procfs import CpuMeter, MachineMeter
from gateway.bench.provision import add_pairs, provision
from gateway.bench.scaling import Row, gains, group_shares, limit_of, scale_figure
from gateway.bench.scenarios.common import STALL_SECONDS, live_routers, set_routers
from gateway.bench.stack import Proc
from gateway.bench.streams import EventLoad
from gateway.store import keys

# (serve nodes, routers) per phase, in this order: the full grid, walked so that each step starts
# or stops as few processes as it can (stopping a router hands its partitions over at once).
TOPOLOGIES = ((1, 1), (1, 2), (1, 4), (2, 4), (2, 2), (2, 1))
MANY_ORGS = 50
USERS_PER_ORG = 2
ONE_ORG_CONTACTS = 64
_FIRST_PHONE = 750_000
# After the topology changed: new routers take their partition leases over, a stopped one hands its
# own over; the first phase on the new topology should not carry the handover alone.
SETTLE_SECONDS = 1.0


@dataclass
class Target:
    """The orgs of one side of the figure: the load spec's orgs and the feeds their events reach."""

    orgs: int
    spec: list[dict[str, Any]]
    feeds: list[str]


async def _targets(b: Bench) -> list[Target]:
    pairs = await add_pairs(b.admin, b.org.id, "scale-", ONE_ORG_CONTACTS, _FIRST_PHONE)
    one = Target(
        1,
        [{"org": b.org.id, "webhook_secret": b.org.webhook_secret, "contacts": pairs.contacts}],
        [keys.feed(b.org.id, u) for u in pairs.users],
    )
    orgs = await asyncio.gather(*(provision(b.admin, USERS_PER_ORG, sending=False) for _ in range(MANY_ORGS)))
    many = Target(
        MANY_ORGS,
        [{"org": o.id, "webhook_secret": o.webhook_secret, "contacts": o.contacts} for o in orgs],
        [keys.feed(o.id, u) for o in orgs for u in o.users],
    )
    return [one, many]


def _pids(b: Bench, agents: list[Agent]) -> dict[str, int]:
    """Every process of the stack (all serve nodes, routers, Redis) and the generators in use."""
    pids = {k: v for k, v in b.pids().items() if not k.startswith("generator") and k != "ws_clients"}
    for i, agent in enumerate(agents):
        pids[f"generator-{i + 1}"] = agent.proc.pid
    return pids


async def _phase(
    b: Bench, load: EventLoad, agents: list[Agent], nodes: list[str], target: Target, routers: int, seconds: float
) -> Figure:
    s = b.settings
    per_node = max(1, s.connections // len(nodes))
    used = agents[: len(nodes)]
    before = await load.routed(target.feeds)
    meter, machine = CpuMeter(_pids(b, used)), MachineMeter()
    label = f"scale: {target.orgs} org(s), {len(nodes)} serve node(s), {routers} router(s)"
    with b.ui.phase(label, seconds):
        started_ms = int(time.time() * 1000)
        meter.start(time.monotonic())
        machine.start(time.monotonic())
        results = await asyncio.gather(
            *(
                agent.call(
                    "http",
                    spec={
                        "kind": "org_events",
                        "host": endpoint_of(url)["host_header"],
                        "orgs": target.spec,
                        "seq_base": b.next_seq(),
                    },
                    endpoint=endpoint_of(url),
                    connections=per_node,
                    duration=seconds,
                    rate=None,
                    count=None,
                    classify="event",
                    prebuild=0,
                    return_seqs=True,
                    warmup=0.0,
                    watch={},
                    cycle=False,
                )
                for agent, url in zip(used, nodes, strict=True)
            )
        )
        cpu = meter.stop(time.monotonic())
        machine_busy = machine.stop(time.monotonic())
        stopped_ms = int(time.time() * 1000)
    out = merge(results)
    sent = set(out.accepted_seqs)
    with b.ui.phase(f"scale: {routers} router(s), waiting until every accepted event is a signal"):
        waited = time.monotonic()
        after = await load.wait_routed(target.feeds, before + len(sent), STALL_SECONDS)
        drain = round(time.monotonic() - waited, 2)
    writes = [w for w in await load.writes_since(target.feeds, started_ms) if w.seq in sent]
    seq_lost, seq_dup = seq_check(sent, writes)
    routed = routed_rate(writes, started_ms, stopped_ms)
    ingested = round(len(sent) / out.window, 1) if out.window else 0.0
    cores = os.cpu_count() or 1
    fig = Figure(
        scale_figure(target.orgs, len(nodes), routers),
        routed,
        "events/s",
        latency=write_latency(writes),
        lost=max(len(sent) - (after - before), seq_lost, 0),
        duplicated=max((after - before) - len(sent), seq_dup, 0),
        extra={
            "orgs": target.orgs,
            "serve_nodes": len(nodes),
            "routers": routers,
            "connections": per_node * len(nodes),
            "ingest": "http",
            "ingested_per_s": ingested,
            "accepted": len(sent),
            "refused": out.refused,
            "statuses": dict(out.statuses),
            "errors": dict(out.errors),
            "feed_entries": len(writes),
            "backlog_at_stop": sum(1 for w in writes if w.written_ms >= stopped_ms),
            "drain_s": drain,
            "cpu": cpu,
            "cpu_by_kind": group_shares(cpu),
            "cpu_total": round(sum(cpu.values()), 2),
            "machine_cpu_busy": machine_busy,  # cores busy machine-wide, other programs included
            "limit": limit_of(cpu, cores, ingested, routed, machine_busy),
        },
    )
    return fig


def _summary(b: Bench, figures: list[Figure], seconds: float) -> Figure:
    rows = [Row(int(f.extra["orgs"]), int(f.extra["serve_nodes"]), int(f.extra["routers"]), f.value) for f in figures]
    best = max(figures, key=lambda f: f.value)
    fig = Figure(
        "scale",
        best.value,
        "events/s",
        latency=best.latency,
        lost=sum(f.lost for f in figures),
        duplicated=sum(f.duplicated for f in figures),
        extra={
            "best": best.name,
            "ingest": "http",
            "redis_cluster": b.stack.on_cluster,
            "cores": os.cpu_count(),
            "phase_s": seconds,
            "topologies": [{"serve_nodes": n, "routers": r} for n, r in TOPOLOGIES],
            "org_counts": sorted({r.orgs for r in rows}),
            "rows": [
                {
                    "figure": f.name,
                    "orgs": f.extra["orgs"],
                    "serve_nodes": f.extra["serve_nodes"],
                    "routers": f.extra["routers"],
                    "ingested_per_s": f.extra["ingested_per_s"],
                    "routed_per_s": f.value,
                    "cpu_total": f.extra["cpu_total"],
                    "machine_cpu_busy": f.extra["machine_cpu_busy"],
                    "cpu_by_kind": f.extra["cpu_by_kind"],
                    "limit": f.extra["limit"],
                }
                for f in figures
            ],
            "gains": gains(rows),
        },
    )
    fig.notes.append("value: the best routed rate over the topologies; gains: each topology against 1 serve, 1 router")
    fig.notes.append("latency: from the gateway's accept (occurred_at) to the feed write, backlog wait included")
    return fig


async def run_scale(b: Bench) -> None:
    if not b.local:
        b.notes.append("scale skipped: it starts and stops serve nodes and routers of the self-contained stack")
        b.ui.log("[yellow]scale skipped[/yellow]: --target")
        return
    seconds = max(1.0, b.settings.duration / 2)
    with b.ui.phase(f"scale: provisioning 64 users of the bench org and {MANY_ORGS} orgs"):
        targets = await _targets(b)
    load = EventLoad(b.stack.redis_url, cluster=b.stack.on_cluster)
    initial = len(live_routers(b))
    agents = list(b.http_agents)
    extra_agents: list[Agent] = []
    extra_nodes: list[Proc] = []
    nodes = [b.base_url]
    figures: list[Figure] = []
    try:
        most = max(n for n, _ in TOPOLOGIES)
        while len(agents) < most:
            agent = await Agent.start(b.stack, "generator", b.ui.on_agent_progress)
            agents.append(agent)
            extra_agents.append(agent)
        for serve_nodes, routers in TOPOLOGIES:
            with b.ui.phase(f"scale: {serve_nodes} serve node(s), {routers} router(s)"):
                while len(nodes) < serve_nodes:
                    url, proc = await b.stack.start_serve()
                    nodes.append(url)
                    extra_nodes.append(proc)
                await set_routers(b, load, routers)
                await asyncio.sleep(SETTLE_SECONDS)
            for target in targets:
                figures.append(await _phase(b, load, agents, nodes[:serve_nodes], target, routers, seconds))
    finally:
        with b.ui.phase(f"scale: back to 1 serve node and {initial} router(s)"):
            await b.stack.stop(extra_nodes + [a.proc for a in extra_agents])
            await set_routers(b, load, initial)
            await load.aclose()
    for fig in figures:
        b.add(fig)
    if figures:
        b.add(_summary(b, figures, seconds))
