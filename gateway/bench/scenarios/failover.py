"""``failover``: a router SIGKILLed under load, holding events it had read and not acknowledged.

A router is started beside the stack's own, and one org's events stream in as in ``route``
(``EventLog.append``, closed-loop, 1,000 in flight, 64 contacts of users only this scenario has).
The new router is frozen (SIGSTOP) again and again until it is caught holding pending entries
(XPENDING for its consumer); their sequence numbers are read, and it is SIGKILLed. The value is
the seconds from the SIGKILL until the last of those events is in a user's feed (the feed entry's
id is the write time; an event written before the death, acknowledgement lost, counts 0);
``pel_clear_s`` is until none of them is pending any more (polled every 20 ms). Lost/duplicated:
signal counts through the public API against the events appended, and each event's sequence
number in the feeds.
"""

from __future__ import annotations

import asyncio
import signal
import time

from gateway.bench.context import Bench
from gateway.bench.feedtimes import seq_check, takeover_seconds
from gateway.bench.figures import Figure
from gateway.bench.payloads import EVENT_TYPE
from gateway.bench.provision import add_pairs, signal_total
from gateway.bench.scenarios.common import STALL_SECONDS, live_routers, start_router
from gateway.bench.stack import Proc
from gateway.bench.streams import EventLoad
from gateway.store import keys

WINDOW = 1000
CONTACTS = 64
_FIRST_PHONE = 600_000
# How long the held entries may stay pending before the figure gives up waiting.
_TAKEOVER_LIMIT = 60.0


async def _catch(load: EventLoad, victim: Proc, name: str, until: float) -> dict[int, list[str]]:
    """Freeze the victim until it is caught holding pending entries; returns them (it stays frozen)."""
    while True:
        if time.monotonic() > until:
            raise RuntimeError("the router never held a pending entry while the load ran")
        victim.process.send_signal(signal.SIGSTOP)
        if await load.pending_count(name):
            return await load.held_by(name)
        victim.process.send_signal(signal.SIGCONT)
        await asyncio.sleep(0.005)


async def _taken_over(load: EventLoad, held: dict[int, list[str]], since: float) -> float | None:
    """Seconds from ``since`` until none of ``held`` is pending (None: not within the limit)."""
    while await load.still_pending(held):
        if time.monotonic() - since > _TAKEOVER_LIMIT:
            return None
        await asyncio.sleep(0.02)
    return round(time.monotonic() - since, 3)


async def run_failover(b: Bench) -> None:
    if not b.local:
        b.notes.append("failover skipped: it kills a router process of the self-contained stack")
        b.ui.log("[yellow]failover skipped[/yellow]: --target")
        return
    s = b.settings
    with b.ui.phase(f"failover: {CONTACTS} users of the bench org, each owning one contact"):
        pairs = await add_pairs(b.admin, b.org.id, "failover-", CONTACTS, _FIRST_PHONE)
    feeds = [keys.feed(b.org.id, u) for u in pairs.users]
    types = {EVENT_TYPE}
    load = EventLoad(b.stack.redis_url, cluster=b.stack.on_cluster)
    victim: Proc | None = None
    try:
        with b.ui.phase("failover: starting the router to kill beside the running one(s)"):
            if not live_routers(b):
                await start_router(b, load)
            victim, name = await start_router(b, load)
        survivors = len(live_routers(b)) - 1
        before = await signal_total(b.base_url, pairs.tokens, types)
        routed_before = await load.routed(feeds)
        with b.ui.phase(f"failover: {WINDOW:,} events in flight; SIGKILL a router holding some", s.duration):
            producing = asyncio.create_task(
                load.closed_loop(b.org.id, pairs.contacts, feeds, s.duration, WINDOW, b.next_seq())
            )
            try:
                await asyncio.sleep(min(1.0, s.duration / 4))
                held = await _catch(load, victim, name, time.monotonic() + s.duration)
                held_seqs = await load.seqs_of(held)
                victim.process.send_signal(signal.SIGKILL)
                killed_ms, killed = int(time.time() * 1000), time.monotonic()
                await victim.process.wait()
            finally:
                produced = await producing
        with b.ui.phase("failover: waiting until the survivors have routed what it held"):
            pel_clear = await _taken_over(load, held, killed)
            await load.wait_routed(feeds, routed_before + len(produced.seqs), STALL_SECONDS)
            total = await signal_total(b.base_url, pairs.tokens, types)
        sent = set(produced.seqs)
        writes = [w for w in await load.writes_since(feeds, produced.started_ms) if w.seq in sent]
    finally:
        if victim is not None:
            await b.stack.stop([victim])
        await load.aclose()
    expected = before + len(produced.seqs)
    seq_lost, seq_dup = seq_check(produced.seqs, writes)
    seconds = takeover_seconds(held_seqs, writes, killed_ms)
    fig = Figure(
        "failover",
        seconds if seconds is not None else (pel_clear if pel_clear is not None else _TAKEOVER_LIMIT),
        "s",
        lost=max(expected - total, seq_lost, 0),
        duplicated=max(total - expected, seq_dup, 0),
        extra={
            "held": len(held_seqs),
            "pel_clear_s": pel_clear,
            "events": len(produced.seqs),
            "surviving_routers": survivors,
            "window": WINDOW,
            "contacts": CONTACTS,
        },
    )
    if seconds is None:
        fig.notes.append("an event the killed router held never reached a feed")
    b.add(fig)
