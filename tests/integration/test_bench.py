"""``signalgate bench`` briefly, self-contained: it runs, writes the documented JSON, and nothing is lost.

A smoke run, not a timed assertion: the figures themselves are whatever this machine gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.redis_server import redis_binary
from tests.support.timing import FACTOR

FIGURES = {
    "e2e_memory", "e2e", "resume", "fanout", "generator_ingest", "ingest", "ingest_alone", "ingest_fixed",
    "generator_pixel", "pixel", "send_sms_1w", "send_email_1w", "send_sms_2w", "send_email_2w",
}  # fmt: skip
# route and failover start, stop and kill router processes and wait out a failover: ~40 s more than
# a smoke run should take, so this run leaves them out (their pure parts are in tests/unit/bench).
SCENARIOS = ("e2e", "resume", "fanout", "ingest", "pixel", "send")
SHAPE = {"value", "unit", "baseline", "ratio", "p50_ms", "p90_ms", "p99_ms", "max_ms", "lost", "duplicated"}


@pytest.mark.timeout(int(240 * FACTOR))
def _bench(tmp_path: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """``signalgate <args>`` in ``tmp_path`` without the caller's SIGNALGATE_* settings; it must succeed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNALGATE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=tmp_path,
        env=env | {"COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=200 * FACTOR,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc


def test_bench_runs_self_contained_and_loses_nothing(tmp_path: Path) -> None:
    """Every scenario runs against a private stack; JSON has the documented shape; lost/duplicated are 0."""
    redis_binary()  # the bench starts its own redis-server the same way the tests do
    out = tmp_path / "bench.json"
    args = ["bench", "--duration", "1", "--clients", "40", "--rate", "100", "--connections", "16", "--json", str(out)]
    args += [arg for name in SCENARIOS for arg in ("--scenario", name)]
    proc = _bench(tmp_path, args)
    assert "ingest" in proc.stdout and "e2e" in proc.stdout  # the table was printed
    data = json.loads(out.read_text())
    assert {"cpus", "cpu_model", "python", "versions"} <= data["machine"].keys()
    assert data["machine"]["versions"]["uvicorn"]
    scenarios = data["scenarios"]
    assert FIGURES <= scenarios.keys(), sorted(scenarios)
    for name, fig in scenarios.items():
        assert SHAPE <= fig.keys(), (name, sorted(fig))
        assert (fig["lost"], fig["duplicated"]) == (0, 0), (name, fig)
        if name != "e2e_memory":  # 40 clients may fit in memory the allocator already holds
            assert fig["value"] > 0, (name, fig)
    for name in ("ingest", "pixel", "fanout", "send_sms_1w", "send_email_2w"):
        assert scenarios[name]["baseline"] > 0 and scenarios[name]["ratio"] > 0, name
    for name in ("send_sms_1w", "send_email_1w", "send_sms_2w", "send_email_2w"):
        assert scenarios[name]["counters_exact"] is True, scenarios[name]
    assert scenarios["e2e"]["deliveries"] == scenarios["e2e"]["expected_deliveries"] > 0


@pytest.mark.timeout(int(240 * FACTOR))
def test_bench_scale_runs_on_a_redis_cluster(tmp_path: Path) -> None:
    """``--redis-cluster --scenario scale``: every topology for one org and for 50 on a private 3-master
    cluster, each with CPU shares of every process (the three masters, both serve nodes, every router)
    and a limit; nothing lost or duplicated."""
    out = tmp_path / "scale.json"
    args = ["bench", "--redis-cluster", "--scenario", "scale", "--duration", "1", "--clients", "4"]
    args += ["--connections", "16", "--json", str(out)]
    proc = _bench(tmp_path, args)
    assert "Redis Cluster of 3 masters" in proc.stdout
    data = json.loads(out.read_text())
    assert data["settings"]["redis_cluster"] is True
    scenarios = data["scenarios"]
    phases = {f"scale_{o}o_{n}s_{r}r" for o in (1, 50) for n in (1, 2) for r in (1, 2, 4)}
    assert phases | {"scale"} == scenarios.keys(), sorted(scenarios)
    for name in phases:
        fig = scenarios[name]
        assert SHAPE <= fig.keys(), (name, sorted(fig))
        assert (fig["lost"], fig["duplicated"], fig["refused"]) == (0, 0, 0), (name, fig)
        assert fig["value"] > 0 and fig["accepted"] == fig["feed_entries"] > 0, (name, fig)
        assert {"redis-1", "redis-2", "redis-3", "gateway"} <= fig["cpu"].keys(), (name, fig["cpu"])
        assert sum(1 for p in fig["cpu"] if p.startswith("router-")) == fig["routers"], (name, fig["cpu"])
        assert ("gateway-2" in fig["cpu"]) == (fig["serve_nodes"] == 2), (name, fig["cpu"])
        assert fig["limit"], name
    summary = scenarios["scale"]
    assert summary["redis_cluster"] is True and len(summary["rows"]) == len(phases)
    assert summary["value"] == max(scenarios[name]["value"] for name in phases)
    assert (summary["lost"], summary["duplicated"]) == (0, 0)
