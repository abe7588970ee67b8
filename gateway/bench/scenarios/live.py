"""``e2e`` and ``resume``: signed events at a fixed rate to clients spread over users.

Every event carries its sequence number and send time; each client counts what it receives, so
latency is measured from the moment the webhook was posted to the moment a client parsed the
frame, and lost/duplicated are counted per client against the events its user was sent. The
gateway's resident memory is read before and after the clients connect (idle connections).
"""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.bench.context import Bench, HttpOutcome
from gateway.bench.figures import Figure
from gateway.bench.scenarios.common import CONNECT_CONCURRENCY, SETTLE_SECONDS, events_spec, ws_endpoint
from gateway.bench.stats import latency_ms, rate


def fleet_clients(b: Bench) -> list[list[Any]]:
    """Client ``j`` is a connection of user ``j % users`` (its group)."""
    users = len(b.org.users)
    return [[j, j % users, b.org.tokens[j % users]] for j in range(b.settings.clients)]


def by_group(seqs: list[int], groups: int) -> dict[str, list[int]]:
    """Which user each accepted event went to: event ``n`` is about contact ``n % groups``."""
    out: dict[str, list[int]] = {}
    for seq in seqs:
        out.setdefault(str(seq % groups), []).append(seq)
    return out


async def open_fleet(b: Bench) -> None:
    if b.fleet_open:
        return
    s = b.settings
    clients = fleet_clients(b)
    before = b.gateway_rss_kib()
    with b.ui.phase(f"e2e: connecting {s.clients:,} clients over {len(b.org.users):,} users"):
        opened = await b.ws_agent.call(
            "ws_open", endpoint=ws_endpoint(b), clients=clients, concurrency=CONNECT_CONCURRENCY
        )
    if not opened["connected"]:
        raise RuntimeError(f"no WebSocket client could connect: {opened['errors']}")
    b.fleet_open = True
    if opened["failed"]:
        b.notes.append(f"e2e: {opened['failed']} of {s.clients} clients failed to connect: {opened['errors']}")
    await asyncio.sleep(SETTLE_SECONDS)  # before reading the gateway's memory again
    after = b.gateway_rss_kib()
    if before is not None and after is not None and opened["connected"]:
        per = round((after - before) / opened["connected"], 2)
        b.add(
            Figure(
                "e2e_memory",
                per,
                "KiB/conn",
                extra={
                    "rss_before_kib": before,
                    "rss_after_kib": after,
                    "clients": opened["connected"],
                    "connect_s": opened["seconds"],
                },
            )
        )


async def _measure(b: Bench, out: HttpOutcome, limit: float) -> dict[str, Any]:
    """Wait for every delivery the accepted events owe the fleet, then count per client."""
    expected = by_group(out.accepted_seqs, len(b.org.users))
    waited = await b.ws_agent.call("ws_wait", expected=expected, timeout=limit)
    check = await b.ws_agent.call("ws_check", expected=expected)
    check["expected_deliveries"] = waited["expected"]
    return check


async def run_e2e(b: Bench) -> None:
    s = b.settings
    await open_fleet(b)
    await b.ws_agent.call("ws_reset", record=True)
    with b.ui.phase(f"e2e: {s.rate:,.0f} events/s to {s.clients:,} clients", s.duration):
        out = await b.http(
            events_spec(b, b.org.contacts),
            connections=min(s.connections, 64),
            duration=s.duration,
            rate=s.rate,
            classify="event",
            return_seqs=True,
            warmup=0,
        )
    with b.ui.phase("e2e: waiting for the last deliveries"):
        check = await _measure(b, out, limit=10 + s.duration)
    seconds = max((check["last_receipt_ns"] - out.started_ns) / 1e9, 1e-9)
    b.add(
        Figure(
            "e2e",
            rate(check["deliveries"], seconds),
            "msg/s",
            latency=latency_ms(check["latencies_us"]),
            lost=check["lost"],
            duplicated=check["duplicated"] + check["foreign"],
            extra={
                "clients": s.clients,
                "users": len(b.org.users),
                "rate": s.rate,
                "events": out.accepted,
                "posted_rps": out.rps,
                "post_p99_ms": out.latency.p99_ms,
                "deliveries": check["deliveries"],
                "expected_deliveries": check["expected_deliveries"],
                "frames": check["frames"],
                "foreign": check["foreign"],
                "cpu": out.cpu,
                # Where the time goes (ms resolution at the split): webhook POST -> feed write
                # (ingest, router) and feed write -> client (pub/sub, hub, WebSocket, client).
                **latency_ms(check.get("routed_us", [])).as_json("to_feed_write_"),
                **latency_ms(check.get("fanned_us", [])).as_json("feed_write_to_client_"),
            },
        )
    )


async def run_resume(b: Bench) -> None:
    """All clients drop at once while events keep coming, then resume with their last cursor."""
    s = b.settings
    await open_fleet(b)
    await b.ws_agent.call("ws_reset", record=False)
    storm = max(1.5, s.duration / 2)
    await b.ws_agent.call("ws_drop")
    posting = asyncio.create_task(
        b.http(
            events_spec(b, b.org.contacts),
            connections=min(s.connections, 64),
            duration=storm,
            rate=s.rate,
            classify="event",
            return_seqs=True,
            warmup=0,
        )
    )
    try:
        await asyncio.sleep(min(1.0, storm / 3))  # events for everyone pile up while they are away
        with b.ui.phase(f"resume: {s.clients:,} clients reconnect at once with their last cursor"):
            storm_result = await b.ws_agent.call("ws_resume")
    finally:
        out = await posting
    with b.ui.phase("resume: waiting for replay and live frames"):
        check = await _measure(b, out, limit=20 + s.duration)
    fig = Figure(
        "resume",
        storm_result["seconds"] or 0.0,
        "s to all live",
        lost=check["lost"],
        duplicated=check["duplicated"] + check["foreign"],
        extra={
            "clients": s.clients,
            "reconnected": storm_result["connected"],
            "failed": storm_result["failed"],
            "errors": storm_result["errors"],
            "live_p50_s": storm_result["live_p50_s"],
            "live_p99_s": storm_result["live_p99_s"],
            "gaps": storm_result["gaps"],
            "events": out.accepted,
            "deliveries": check["deliveries"],
            "expected_deliveries": check["expected_deliveries"],
        },
    )
    if storm_result["failed"]:
        fig.notes.append(f"{storm_result['failed']} clients could not resume: {storm_result['errors']}")
    b.add(fig)
