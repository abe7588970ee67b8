"""``gateway.bench.figures``: each figure is held to its goal."""

from __future__ import annotations

import pytest

from gateway.bench.figures import Figure
from gateway.bench.options import Settings
from gateway.bench.report import report_json
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
        ("route", 10_000, None, 900, 0, True),  # an absolute rate: no baseline needed, latency free
        ("route", 9_999, 20_000, None, 0, False),
        ("route_4r", 12_000, None, None, 1, False),  # lost one
        ("failover", 5, None, None, 0, True),
        ("failover", 5.2, None, None, 0, False),
        ("failover", 1, None, None, 0, True),
    ],
)
def test_goals(name: str, value: float, baseline: float | None, p99: float | None, lost: int, met: bool | None) -> None:
    """Each figure is held to its goal; correctness always counts."""
    fig = Figure(name, value, "x", baseline=baseline, lost=lost)
    if p99 is not None:
        fig.latency = latency_ms([int(p99 * 1000)])
    assert fig.goal_met is met
    assert fig.as_json()["ratio"] == (None if baseline is None else round(value / baseline, 3))


def test_report_json_keeps_its_shape_with_the_router_figures() -> None:
    """``route`` and ``failover`` are scenario keys with the same fields as every other figure."""
    figures = [
        Figure("ingest", 800, "req/s", baseline=1000, latency=latency_ms([1000, 2000])),
        Figure("route", 12_000, "events/s", baseline=1500, latency=latency_ms([5000]), extra={"routers": 1}),
        Figure("route_2r", 9_000, "events/s", baseline=1500, extra={"routers": 2}),
        Figure("failover", 3.1, "s", extra={"held": 22, "pel_clear_s": 3.2}),
    ]
    data = report_json({"cpus": 2}, Settings(), figures, [], 1.0)
    shape = {"value", "unit", "baseline", "ratio", "p50_ms", "p90_ms", "p99_ms", "max_ms", "samples", "lost",
             "duplicated", "goal", "goal_met"}  # fmt: skip
    assert {"machine", "settings", "elapsed_s", "scenarios", "notes"} == data.keys()
    assert list(data["scenarios"]) == ["ingest", "route", "route_2r", "failover"]
    for fig in data["scenarios"].values():
        assert shape <= fig.keys()
    route, failover = data["scenarios"]["route"], data["scenarios"]["failover"]
    assert (route["goal"], route["goal_met"], route["ratio"], route["routers"]) == (
        "≥10,000 events/s, exact",
        True,
        8.0,
        1,
    )
    assert data["scenarios"]["route_2r"]["goal_met"] is False
    assert (failover["goal"], failover["goal_met"], failover["held"]) == ("≤5 s, 0 lost/dup", True, 22)
    assert "baseline_p50_ms" in route and "baseline_p50_ms" not in failover
