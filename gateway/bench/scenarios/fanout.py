"""``fanout``: a burst of signals, each to every one of N connections, beside ``websockets.broadcast``.

All N clients are connections of one user (the org-wide audience of the burst), so each event
the router writes is one Redis PUBLISH that the hub must turn into N frames. The clock runs from
the first webhook POST to the last frame any client parsed; deliveries/s = N × events / that.
The baseline is the ``websockets`` library's own server broadcasting the same number of frames of
the same shape (a signal frame and an unread frame per event) to the same N clients. Both sides
get the same warm-up: the N clients connect, then the server settles for as long as the e2e fleet
does (:data:`~gateway.bench.scenarios.common.SETTLE_SECONDS`) before the clock starts, so neither
burst also pays for what the connection storm left behind (its garbage collection, buffers), and
the bare server's memory per connection is read after the same settling as the gateway's.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from gateway.bench.agents import LineChannel
from gateway.bench.context import Bench
from gateway.bench.figures import Figure
from gateway.bench.procfs import CpuMeter, rss_kib
from gateway.bench.provision import FAN_CONTACT
from gateway.bench.scenarios.common import CONNECT_CONCURRENCY, SETTLE_SECONDS, events_spec, ws_endpoint
from gateway.bench.stack import wait_port
from gateway.bench.stats import Latency, latency_ms, rate
from gateway.devtools.net import free_port

_BURST_TIMEOUT = 60.0


def burst_size(duration: float) -> int:
    """Events in the burst: 2 per second of ``--duration``, at least 5."""
    return max(5, round(2 * duration))


async def _open(b: Bench, endpoint: dict[str, Any], token: str, group: int) -> int:
    clients = [[j, group, token] for j in range(b.settings.clients)]
    opened = await b.ws_agent.call("ws_open", endpoint=endpoint, clients=clients, concurrency=CONNECT_CONCURRENCY)
    await asyncio.sleep(SETTLE_SECONDS)  # the same for the gateway and the bare server
    await b.ws_agent.call("ws_reset", record=True)
    return int(opened["connected"])


async def _gateway_burst(b: Bench, group: int, events: int) -> tuple[float, Latency, dict[str, Any]]:
    connected = await _open(b, ws_endpoint(b), b.org.fan_token, group)
    meter = CpuMeter(b.pids())
    meter.start(time.monotonic())
    out = await b.http(
        events_spec(b, [FAN_CONTACT]),
        connections=min(events, 8),
        duration=_BURST_TIMEOUT,
        count=events,
        classify="event",
        return_seqs=True,
        warmup=0,
    )
    expected = {str(group): out.accepted_seqs}
    await b.ws_agent.call("ws_wait", expected=expected, timeout=_BURST_TIMEOUT)
    cpu = meter.stop(time.monotonic())
    check = await b.ws_agent.call("ws_check", expected=expected)
    await b.ws_agent.call("ws_close")
    seconds = max((check["last_receipt_ns"] - out.started_ns) / 1e9, 1e-9)
    check.update(connected=connected, events=out.accepted, seconds=round(seconds, 4), cpu=cpu)
    return rate(check["deliveries"], seconds), latency_ms(check["latencies_us"]), check


async def _bare_burst(b: Bench, group: int, events: int) -> tuple[float, Latency, dict[str, Any]]:
    port = free_port()
    proc = await b.stack.python_module("bare-ws", "gateway.bench.baselines", "ws", "--port", str(port), pipes=True)
    try:
        await wait_port(port, proc)
        channel = LineChannel(proc)
        await channel.read_text(within=30)  # "ready"
        endpoint = {"host": "127.0.0.1", "port": port, "tls": False, "host_header": f"127.0.0.1:{port}", "path": "/"}
        before = rss_kib(proc.pid)
        connected = await _open(b, endpoint, "bench", group)
        after = rss_kib(proc.pid)
        seq = b.next_seq()
        meter = CpuMeter(b.pids(bare_ws=proc))
        meter.start(time.monotonic())
        await channel.send(f"burst {events} {seq}")
        started = int((await channel.read())["started_ns"])
        expected = {str(group): list(range(seq, seq + events))}
        await b.ws_agent.call("ws_wait", expected=expected, timeout=_BURST_TIMEOUT)
        cpu = meter.stop(time.monotonic())
        check = await b.ws_agent.call("ws_check", expected=expected)
        await b.ws_agent.call("ws_close")
    finally:
        await b.stack.stop([proc])
    seconds = max((check["last_receipt_ns"] - started) / 1e9, 1e-9)
    check.update(connected=connected, seconds=round(seconds, 4), cpu=cpu)
    if before is not None and after is not None and connected:
        check["rss_kib_per_connection"] = round((after - before) / connected, 2)
    return rate(check["deliveries"], seconds), latency_ms(check["latencies_us"]), check


def _memory_baseline(b: Bench, per_connection: float | None) -> None:
    """The bare ``websockets`` server's memory per idle connection is the e2e_memory baseline."""
    memory = next((f for f in b.figures if f.name == "e2e_memory"), None)
    if memory is not None and per_connection is not None:
        memory.baseline = per_connection
        memory.notes.append("baseline: the bare websockets server's RSS per idle connection (fanout baseline)")


async def run_fanout(b: Bench) -> None:
    s = b.settings
    if b.fleet_open:
        await b.ws_agent.call("ws_close")
        b.fleet_open = False
    group = len(b.org.users)  # the fan user's group, distinct from every e2e user
    events = burst_size(s.duration)
    with b.ui.phase(f"fanout: {events} signals to each of {s.clients:,} connections of one user"):
        value, latency, check = await _gateway_burst(b, group, events)
    fig = Figure(
        "fanout",
        value,
        "deliveries/s",
        latency=latency,
        lost=check["lost"],
        duplicated=check["duplicated"] + check["foreign"],
    )
    fig.extra.update(
        clients=check["connected"],
        events=check["events"],
        deliveries=check["deliveries"],
        seconds=check["seconds"],
        frames=check["frames"],
        cpu=check["cpu"],
    )
    if b.local:
        with b.ui.phase(f"fanout baseline: websockets broadcast() to {s.clients:,} clients"):
            base, base_latency, base_check = await _bare_burst(b, group, events)
        fig.baseline, fig.baseline_latency = base, base_latency
        _memory_baseline(b, base_check.get("rss_kib_per_connection"))
        fig.extra.update(
            baseline_seconds=base_check["seconds"], baseline_cpu=base_check["cpu"], baseline_lost=base_check["lost"]
        )
    b.add(fig)
