"""``ingest`` (signed Twilio callbacks) and ``pixel`` (open-tracking hits), each beside a bare server.

Both run closed-loop at max rate over ``--connections`` keep-alive connections, and ingest also
open-loop at ``--rate``. Correctness through the public API: every accepted request must show up
as exactly one event in the users' feeds (the sum of signal counts, grouped repeats included).
The same generator against a canned-response server gives its own ceiling for each request kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.bench.context import Bench, HttpOutcome, endpoint_of
from gateway.bench.figures import Figure
from gateway.bench.payloads import TWILIO_SIGNAL_TYPES
from gateway.bench.provision import signal_total
from gateway.bench.scenarios.common import bare_server, wait_for_signals
from gateway.bench.stack import Proc

SpecOf = Callable[[Bench, str], dict[str, Any]]

# Requests signed before the clock starts (signing is not what is being measured); past this many
# the generator signs as it goes, which its measured ceiling then includes.
_PREBUILD_PER_SECOND = 8000
_PREBUILD_MAX = 120_000
# The canned server ignores what it gets, so the ceiling phase cycles through a small signed pool.
_CEILING_POOL = 5000


def _prebuild(b: Bench, rate: float | None = None) -> int:
    seconds = b.settings.duration + 0.5
    return min(_PREBUILD_MAX, int((rate or _PREBUILD_PER_SECOND) * seconds) + 10)


def twilio_spec(b: Bench, url: str) -> dict[str, Any]:
    return {
        "kind": "twilio",
        "host": endpoint_of(url)["host_header"],
        "public_url": b.public_url,
        "org": b.org.id,
        "auth_token": b.org.auth_token,
        "phones": b.org.phones,
    }


def pixel_spec(b: Bench, url: str) -> dict[str, Any]:
    return {
        "kind": "pixel",
        "host": endpoint_of(url)["host_header"],
        "secret_key": b.secret_key,
        "org": b.org.id,
        "contacts": b.org.contacts,
    }


async def _exactly_once(
    b: Bench, fig: Figure, types: set[str], before: int, out: HttpOutcome, routers_paused: bool
) -> None:
    expected = before + out.accepted
    with b.ui.phase(f"{fig.name}: waiting until every accepted event is a signal"):
        total, waited = await wait_for_signals(b, types, expected)
    fig.lost = max(0, expected - total)
    fig.duplicated = max(0, total - expected)
    # What the router(s) sustained: every event routed between the start of the load (or the
    # end of the pause) and the last signal showing up (approximate: polled every 0.5 s).
    busy = waited if routers_paused else out.window + 0.5 + waited
    fig.extra.update(accepted=out.accepted, router_drain_s=waited, router_events_per_s=round(out.accepted / busy, 1))
    if waited > 2:
        fig.notes.append(
            f"the router needed {waited:.0f} s after the load to write every signal: "
            f"~{out.accepted / busy:,.0f} events/s routed"
        )


async def _load(b: Bench, spec: dict[str, Any], url: str, rate: float | None, **watch: Proc) -> HttpOutcome:
    s = b.settings
    return await b.http(
        spec,
        url=url,
        connections=s.connections,
        duration=s.duration,
        rate=rate,
        prebuild=_prebuild(b, rate),
        watch=watch,
    )


async def _baseline(b: Bench, spec_of: SpecOf, rate: float | None) -> HttpOutcome:
    """The bare server under the same load (measured once per request kind and rate)."""
    key = (spec_of.__name__, rate)
    if key not in b.baselines:
        url, proc = await bare_server(b, "http")
        with b.ui.phase("baseline: bare starlette endpoint, same load", b.settings.duration + 0.5):
            b.baselines[key] = await _load(b, spec_of(b, url), url, rate, bare=proc)
    base: HttpOutcome = b.baselines[key]
    return base


async def _phase(
    b: Bench, name: str, spec_of: SpecOf, types: set[str], rate: float | None, pause_routers: bool = False
) -> Figure:
    s = b.settings
    label = f"{name}: max rate, {s.connections} connections" if rate is None else f"{name}: {rate:,.0f} req/s"
    before = await signal_total(b.base_url, b.org.tokens, types)
    routers = [p for p in b.stack.procs if p.name.startswith("router-")] if pause_routers else []
    with b.ui.phase(label, s.duration + 0.5), b.stack.paused(routers):
        out = await _load(b, spec_of(b, b.base_url), b.base_url, rate)
    fig = Figure(name, out.rps, "req/s", latency=out.latency, extra=out.extra())
    fig.extra.update(connections=s.connections, rate=rate, routers_paused=pause_routers)
    if out.refused or out.errors:
        fig.notes.append(f"{out.refused} refused, {sum(out.errors.values())} connection errors")
    await _exactly_once(b, fig, types, before, out, pause_routers)
    if b.local:
        base = await _baseline(b, spec_of, rate)
        fig.baseline, fig.baseline_latency = base.rps, base.latency
        fig.extra["baseline_cpu"] = base.cpu
        ceiling = b.generator_ceilings.get(spec_of.__name__)
        if ceiling and rate is None:  # at a fixed rate neither side is pushed to its limit
            fig.extra["generator_ceiling"] = ceiling
            fig.extra["baseline_share_of_generator_ceiling"] = round(base.rps / ceiling, 3)
    return b.add(fig)


async def generator_ceiling(b: Bench, name: str, spec_of: SpecOf) -> None:
    """The load generator against the cheapest server there is: how far it goes on this box."""
    if spec_of.__name__ in b.generator_ceilings:
        return
    s = b.settings
    url, proc = await bare_server(b, "canned")
    seconds = min(s.duration, 3.0)
    with b.ui.phase(f"{name}: the generator against a canned-response server", seconds + 0.5):
        out = await b.http(
            spec_of(b, url),
            url=url,
            connections=s.connections,
            duration=seconds,
            prebuild=_CEILING_POOL,
            cycle=True,
            watch={"canned": proc},
        )
    b.generator_ceilings[spec_of.__name__] = out.rps
    fig = Figure(name, out.rps, "req/s", latency=out.latency, extra=out.extra())
    fig.notes.append("the load generator against a canned 204 server, same requests: its own ceiling")
    b.add(fig)


async def run_ingest(b: Bench) -> None:
    types = set(TWILIO_SIGNAL_TYPES)
    await generator_ceiling(b, "generator_ingest", twilio_spec)
    await _phase(b, "ingest", twilio_spec, types, None)
    if b.local:  # the ingest path alone: routers stopped (SIGSTOP) while it runs, then drained
        b.ui.log("ingest_alone: the same load with the router(s) paused, so ingest has the CPU to itself")
        await _phase(b, "ingest_alone", twilio_spec, types, None, pause_routers=True)
    await _phase(b, "ingest_fixed", twilio_spec, types, b.settings.rate)


async def run_pixel(b: Bench) -> None:
    if not b.secret_key:
        b.notes.append("pixel skipped: signing tracking tokens needs the target's secret key (--secret-key)")
        b.ui.log("[yellow]pixel skipped[/yellow]: --target without --secret-key")
        return
    await generator_ceiling(b, "generator_pixel", pixel_spec)
    await _phase(b, "pixel", pixel_spec, {"email.opened"}, None)
