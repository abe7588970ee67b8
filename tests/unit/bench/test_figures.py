"""``gateway.bench.figures``: each figure is held to its goal."""

from __future__ import annotations

import pytest

from gateway.bench.figures import Figure
from gateway.bench.stats import latency_ms


@pytest.mark.parametrize(
    ("name", "value", "baseline", "p99", "lost", "met"),
    [
        ("ingest", 800, 1000, 20, 0, True),
        ("ingest", 600, 1000, 20, 0, False),  # below 70 % of bare
        ("ingest", 800, 1000, 30, 0, False),  # p99 over 25 ms
        ("ingest", 800, 1000, 20, 1, False),  # lost one
        ("fanout", 500, 1000, 900, 0, True),
        ("e2e_memory", 20, None, None, 0, True),
        ("generator", 1, None, None, 0, None),  # no goal
    ],
)
def test_goals(name: str, value: float, baseline: float | None, p99: float | None, lost: int, met: bool | None) -> None:
    """Each figure is held to its goal; correctness always counts."""
    fig = Figure(name, value, "x", baseline=baseline, lost=lost)
    if p99 is not None:
        fig.latency = latency_ms([int(p99 * 1000)])
    assert fig.goal_met is met
    assert fig.as_json()["ratio"] == (None if baseline is None else round(value / baseline, 3))
