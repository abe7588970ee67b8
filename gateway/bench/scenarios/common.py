"""Helpers shared by scenarios: bare servers on demand, waiting for the router to catch up, the
signed events and WebSocket endpoint that ``e2e``, ``resume`` and ``fanout`` use, and the router
processes that ``route`` and ``failover`` start and stop.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from gateway.bench.context import Bench, endpoint_of
from gateway.bench.provision import signal_total
from gateway.bench.stack import Proc, StackError, wait_port
from gateway.bench.streams import EventLoad
from gateway.devtools.net import free_port

# How long the router may stay without progress before missing signals count as lost.
STALL_SECONDS = 10.0
# WebSocket handshakes in flight at once while a fleet connects.
CONNECT_CONCURRENCY = 200
# After a fleet connected, before anything is measured on it (e2e, fanout and its bare baseline
# alike): the server settles (allocator, pub/sub confirmations, the collection the storm calls for).
SETTLE_SECONDS = 1.0
# How long a new router process may take to start reading on a busy 2-core machine.
ROUTER_START_SECONDS = 60.0


async def bare_server(b: Bench, mode: str) -> tuple[str, Proc]:
    """The ``http`` or ``canned`` baseline server (its URL and process), started once per run."""
    known = b.bare.get(mode)
    if known is not None and known[1].alive:
        return known
    port = free_port()
    proc = await b.stack.python_module(f"bare-{mode}", "gateway.bench.baselines", mode, "--port", str(port))
    await wait_port(port, proc)
    b.bare[mode] = (f"http://127.0.0.1:{port}", proc)
    return b.bare[mode]


async def wait_for_signals(b: Bench, types: set[str], expected: int) -> tuple[int, float]:
    """Poll the users' feeds until ``expected`` events show (or progress stalls): (total, seconds)."""
    started = time.monotonic()
    last, last_change = -1, started
    while True:
        total = await signal_total(b.base_url, b.org.tokens, types)
        now = time.monotonic()
        if total >= expected:
            return total, round(now - started, 2)
        if total != last:
            last, last_change = total, now
        if now - last_change > STALL_SECONDS:
            return total, round(now - started, 2)
        await asyncio.sleep(0.5)


def events_spec(b: Bench, contacts: list[str]) -> dict[str, Any]:
    return {
        "kind": "events",
        "host": endpoint_of(b.base_url)["host_header"],
        "org": b.org.id,
        "webhook_secret": b.org.webhook_secret,
        "contacts": contacts,
    }


def ws_endpoint(b: Bench) -> dict[str, Any]:
    return endpoint_of(b.base_url, "/ws")


def live_routers(b: Bench) -> list[Proc]:
    """The router processes of the private stack that are running, oldest first."""
    return [p for p in b.stack.procs if p.name.startswith("router-") and p.alive]


async def start_router(b: Bench, load: EventLoad) -> tuple[Proc, str]:
    """A new ``signalgate router`` and its consumer name, once it reads from the partitions."""
    proc = await b.stack.signalgate("router")
    deadline = time.monotonic() + ROUTER_START_SECONDS
    while (name := await load.consumer_of(proc.pid)) is None:
        if not proc.alive or time.monotonic() > deadline:
            raise StackError(f"{proc.name} did not start reading; see {proc.log}")
        await asyncio.sleep(0.05)
    return proc, name


async def set_routers(b: Bench, load: EventLoad, count: int) -> None:
    """Exactly ``count`` routers: start new ones, or stop (SIGTERM) the newest."""
    running = live_routers(b)
    if len(running) > count:
        await b.stack.stop(running[count:])
    for _ in range(count - len(running)):
        await start_router(b, load)
