"""What the ``scale`` scenario concludes from one phase's numbers: its name, what limited it. Pure.

A phase is one topology (orgs × serve nodes × routers) under closed-loop ingest; its CPU shares
are per process, as a share of one core. The limit is read off them: when the processes together
use (nearly) every core the machine has, the machine is the limit, whatever else is true (also when
programs outside the bench take the cores: the machine-wide busy time says so); else a
process at (nearly) a full core is (Python is one core per process); else neither — then round
trips and waiting limit it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Busy enough to call the machine (sum of shares / cores) or one process (share of its core) full.
MACHINE_BUSY = 0.85
PROCESS_BUSY = 0.85
# Routers keep up when they wrote at least this share of what was accepted in the same window.
KEEPS_UP = 0.95


def scale_figure(orgs: int, serve_nodes: int, routers: int) -> str:
    """``scale_1o_1s_1r``: the figure of one phase (orgs, serve nodes, routers)."""
    return f"scale_{orgs}o_{serve_nodes}s_{routers}r"


def busiest(cpu: dict[str, float]) -> tuple[str, float]:
    if not cpu:
        return "", 0.0
    name = max(cpu, key=lambda n: cpu[n])
    return name, cpu[name]


def group_shares(cpu: dict[str, float]) -> dict[str, float]:
    """Shares summed by kind: ``gateway-2`` into gateway, ``router-3`` into router, ``redis-1`` into redis."""
    out: dict[str, float] = {}
    for name, share in cpu.items():
        kind = name.rsplit("-", 1)[0] if name.rsplit("-", 1)[-1].isdigit() else name
        out[kind] = round(out.get(kind, 0.0) + share, 2)
    return out


def limit_of(cpu: dict[str, float], cores: int, ingested: float, routed: float, machine: float | None = None) -> str:
    """One line: what flattened this phase. ``machine``: cores busy machine-wide (ours and others')."""
    total = sum(cpu.values())
    name, share = busiest(cpu)
    kinds = group_shares(cpu)
    top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:3])
    if routed >= KEEPS_UP * ingested:
        side = "routers keep up: ingest sets the rate"
    else:
        side = f"routers behind ingest ({routed:,.0f} of {ingested:,.0f}/s)"
    if cores and total >= MACHINE_BUSY * cores:
        return f"CPU: {total:.2f} of {cores} cores busy ({top}); {side}"
    if cores and machine is not None and machine >= MACHINE_BUSY * cores:
        others = max(0.0, machine - total)
        return f"CPU: {machine:.2f} of {cores} cores busy, {others:.2f} of them other programs ({top}); {side}"
    if share >= PROCESS_BUSY:
        return f"{name} at {share:.0%} of its one core; {side}"
    return f"no process and not the machine at full CPU ({total:.2f} of {cores} cores): round trips; {side}"


@dataclass(frozen=True)
class Row:
    orgs: int
    serve_nodes: int
    routers: int
    routed: float


def gains(rows: Sequence[Row]) -> dict[str, float]:
    """Routed rate relative to the smallest topology of the same orgs (``50o_2s_4r``: ×1.3)."""
    out: dict[str, float] = {}
    for orgs in sorted({r.orgs for r in rows}):
        mine = [r for r in rows if r.orgs == orgs]
        base = min(mine, key=lambda r: (r.serve_nodes, r.routers))
        if base.routed <= 0:
            continue
        for r in mine:
            if r is not base:
                out[f"{orgs}o_{r.serve_nodes}s_{r.routers}r"] = round(r.routed / base.routed, 2)
    return out
