"""``gateway.bench.scaling``: the ``scale`` scenario's figure names and what it says limited a phase."""

from __future__ import annotations

from gateway.bench.scaling import Row, gains, group_shares, limit_of, scale_figure


def test_figure_names_and_cpu_grouped_by_process_kind() -> None:
    """One figure per (orgs, serve nodes, routers); numbered processes are summed by kind."""
    assert scale_figure(50, 2, 4) == "scale_50o_2s_4r"
    cpu = {"gateway": 0.5, "gateway-2": 0.25, "router-1": 0.3, "router-2": 0.2, "redis-1": 0.1, "queue_redis": 0.0}
    assert group_shares(cpu) == {"gateway": 0.75, "router": 0.5, "redis": 0.1, "queue_redis": 0.0}


def test_limit_names_the_machine_one_process_or_neither() -> None:
    """All cores busy: the machine (also when other programs took them); else a full process; else round trips."""
    full = {"gateway": 0.95, "router-1": 0.6, "redis": 0.3, "generator-1": 0.1}
    assert limit_of(full, 2, 3000, 1000).startswith("CPU: 1.95 of 2 cores busy (gateway 0.95, router 0.60")
    assert "routers behind ingest (1,000 of 3,000/s)" in limit_of(full, 2, 3000, 1000)
    shared = {"gateway": 0.5, "router-1": 0.4}
    assert limit_of(shared, 2, 1000, 990, machine=1.9).startswith("CPU: 1.90 of 2 cores busy, 1.00 of them other")
    assert limit_of(shared, 2, 1000, 990, machine=1.9).endswith("routers keep up: ingest sets the rate")
    assert limit_of({"gateway": 0.97, "router-1": 0.3}, 4, 1000, 990).startswith("gateway at 97% of its one core")
    assert limit_of(shared, 2, 1000, 990, machine=1.0).startswith("no process and not the machine at full CPU")


def test_gains_are_against_the_smallest_topology_of_the_same_orgs() -> None:
    rows = [Row(1, 1, 1, 1000), Row(1, 1, 4, 1500), Row(50, 1, 1, 800), Row(50, 2, 4, 2000), Row(50, 1, 2, 0)]
    assert gains(rows) == {"1o_1s_4r": 1.5, "50o_2s_4r": 2.5, "50o_1s_2r": 0.0}
