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
        return found[0] if found else None

    @property
    def goal_met(self) -> bool | None:
        found = GOALS.get(self.name)
        return None if found is None else found[1](self)

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


def _at_least(share: float) -> Callable[[Figure], bool]:
    return lambda f: f.ratio is not None and f.ratio >= share


def _p99_within(ms: float) -> Callable[[Figure], bool]:
    return lambda f: f.latency.p99_ms is not None and f.latency.p99_ms <= ms


def _exact(f: Figure) -> bool:
    return f.lost == 0 and f.duplicated == 0 and f.extra.get("counters_exact", True) is True


# The goals: targets to report, never test assertions.
GOALS: dict[str, tuple[str, Callable[[Figure], bool]]] = {
    "ingest": ("≥70% of bare, p99≤25ms, exact", lambda f: _at_least(0.7)(f) and _p99_within(25)(f) and _exact(f)),
    "ingest_alone": ("≥70% of bare, p99≤25ms, exact", lambda f: _at_least(0.7)(f) and _p99_within(25)(f) and _exact(f)),
    "ingest_fixed": ("p99≤25ms, exact", lambda f: _p99_within(25)(f) and _exact(f)),
    "pixel": ("≥80% of bare, exact", lambda f: _at_least(0.8)(f) and _exact(f)),
    "e2e": ("p99≤25ms, 0 lost/dup", lambda f: _p99_within(25)(f) and _exact(f)),
    "e2e_memory": ("≤20 KiB/conn", lambda f: f.value <= 20),
    "fanout": ("≥50% of bare, 0 lost/dup", lambda f: _at_least(0.5)(f) and _exact(f)),
    "resume": ("0 lost/dup", _exact),
    "send_sms_1w": ("≥50% of no-op, exact", lambda f: _at_least(0.5)(f) and _exact(f)),
    "send_email_1w": ("≥50% of no-op, exact", lambda f: _at_least(0.5)(f) and _exact(f)),
    "send_sms_2w": ("≥50% of no-op, exact", lambda f: _at_least(0.5)(f) and _exact(f)),
    "send_email_2w": ("≥50% of no-op, exact", lambda f: _at_least(0.5)(f) and _exact(f)),
}
