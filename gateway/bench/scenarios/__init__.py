"""One module per scenario; :data:`SCENARIOS` maps each name to its coroutine."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gateway.bench.context import Bench
from gateway.bench.scenarios.failover import run_failover
from gateway.bench.scenarios.fanout import run_fanout
from gateway.bench.scenarios.ingest import run_ingest, run_pixel
from gateway.bench.scenarios.live import run_e2e, run_resume
from gateway.bench.scenarios.route import run_route
from gateway.bench.scenarios.scale import run_scale
from gateway.bench.scenarios.send import run_send

SCENARIOS: dict[str, Callable[[Bench], Awaitable[None]]] = {
    "e2e": run_e2e,
    "resume": run_resume,
    "fanout": run_fanout,
    "ingest": run_ingest,
    "pixel": run_pixel,
    "send": run_send,
    "route": run_route,
    "failover": run_failover,
    "scale": run_scale,
}
