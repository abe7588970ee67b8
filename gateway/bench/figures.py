"""One measured figure, its baseline and the goal it is held to. Pure.

A figure's ``value`` is what the scenario measures (req/s, msg/s, jobs/s, seconds, KiB per
connection), ``baseline`` the same measurement against a bare server in the same run, and
``ratio`` value / baseline. ``lost`` and ``duplicated`` are correctness counts and must be 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.bench.stats import EMPTY, Latency, ratio


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    latency: Latency = EMPTY
    baseline_latency: Latency = EMPTY
    lost: int = 0
    duplicated: int = 0
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return ratio(self.value, self.baseline)

    @property
    def goal(self) -> str | None:
        found = GOALS.get(self.name)
        return found.text if found else None

    @property
    def goal_met(self) -> bool | None:
        """None without a goal, or for a goal relative to a baseline this run could not measure."""
        found = GOALS.get(self.name)
        if found is None or (found.relative and self.baseline is None):
            return None
        return found.check(self)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "ratio": self.ratio,
            **self.latency.as_json(),
            "samples": self.latency.count,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "goal": self.goal,
            "goal_met": self.goal_met,
        }
        if self.baseline is not None:
            out.update(self.baseline_latency.as_json("baseline_"))
        out.update(self.extra)
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass(frozen=True)
class Goal:
    text: str
    check: Callable[[Figure], bool]
    relative: bool = False  # measured against the baseline (unknowable with --target)


def _share(f: Figure, least: float) -> bool:
    return f.ratio is not None and f.ratio >= least


def _p99(f: Figure, ms: float) -> bool:
    return f.latency.p99_ms is not None and f.latency.p99_ms <= ms


def _exact(f: Figure) -> bool:
    return f.lost == 0 and f.duplicated == 0 and f.extra.get("counters_exact", True) is True


_INGEST = Goal("≥70% of bare, p99≤25ms, exact", lambda f: _share(f, 0.7) and _p99(f, 25) and _exact(f), True)
_SEND = Goal("≥50% of no-op, exact", lambda f: _share(f, 0.5) and _exact(f), True)
# One org's events routed per second, whatever the number of routers.
_ROUTE = Goal("≥10,000 events/s, exact", lambda f: f.value >= 10_000 and _exact(f))
# The goals each figure is held to: targets to report, never test assertions.
GOALS: dict[str, Goal] = {
    "ingest": _INGEST,
    "ingest_alone": _INGEST,
    "ingest_fixed": Goal("p99≤25ms, exact", lambda f: _p99(f, 25) and _exact(f)),
    "pixel": Goal("≥80% of bare, exact", lambda f: _share(f, 0.8) and _exact(f), True),
    "e2e": Goal("p99≤25ms, 0 lost/dup", lambda f: _p99(f, 25) and _exact(f)),
    "e2e_memory": Goal("≤20 KiB/conn", lambda f: f.value <= 20),
    "fanout": Goal("≥50% of bare, 0 lost/dup", lambda f: _share(f, 0.5) and _exact(f), True),
    "resume": Goal("0 lost/dup", _exact),
    "send_sms_1w": _SEND,
    "send_email_1w": _SEND,
    "send_sms_2w": _SEND,
    "send_email_2w": _SEND,
    "route": _ROUTE,
    "route_2r": _ROUTE,
    "route_4r": _ROUTE,
    "failover": Goal("≤5 s, 0 lost/dup", lambda f: f.value <= 5 and _exact(f)),
}
