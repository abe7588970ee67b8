"""Latency percentiles and rates. Pure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Latency:
    """Percentiles of one set of latency samples, in milliseconds (nearest-rank)."""

    count: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None

    def as_json(self, prefix: str = "") -> dict[str, float | None]:
        return {
            f"{prefix}p50_ms": self.p50_ms,
            f"{prefix}p90_ms": self.p90_ms,
            f"{prefix}p99_ms": self.p99_ms,
            f"{prefix}max_ms": self.max_ms,
        }


EMPTY = Latency(0, None, None, None, None)


def _rank(ordered: Sequence[float], q: float) -> float:
    index = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[min(index, len(ordered) - 1)]


def latency_ms(samples_us: Sequence[int | float]) -> Latency:
    """Percentiles of samples given in microseconds."""
    if not samples_us:
        return EMPTY
    ordered = sorted(samples_us)
    return Latency(
        count=len(ordered),
        p50_ms=round(_rank(ordered, 0.50) / 1000, 3),
        p90_ms=round(_rank(ordered, 0.90) / 1000, 3),
        p99_ms=round(_rank(ordered, 0.99) / 1000, 3),
        max_ms=round(ordered[-1] / 1000, 3),
    )


def rate(count: int, seconds: float) -> float:
    """Events per second, 0 for an empty window."""
    return round(count / seconds, 1) if seconds > 0 else 0.0


def ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return round(value / baseline, 3)
