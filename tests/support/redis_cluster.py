"""A real Redis Cluster for tests: three masters from the product's redis-server, AOF on, joined
with ``redis-cli --cluster create``; plus the plain Redis the arq queue lives on, and the CROSSSLOT
audit (every node's ``INFO errorstats``).

Fixtures (a pytest plugin, see ``tests/conftest.py``), all session-wide: ``redis_cluster`` and
``queue_redis``, ``cluster_env`` (the ``SIGNALGATE_*`` settings a process needs to run on them),
``cluster_procs`` and ``cluster_gateways`` (two ``serve`` nodes and one router on the cluster).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_sync

from gateway.redis_cluster import LocalCluster, cluster_port, redis_cli
from tests.support.api import Gateway
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR

__all__ = ["RedisCluster", "cluster_port", "redis_cli"]  # the launcher's helpers, where they used to be


class RedisCluster(LocalCluster):
    """Three masters, no replicas, each with its own data dir and AOF; ``url`` names the first.

    Started by the product's launcher (:class:`gateway.redis_cluster.LocalCluster`, what
    ``signalgate bench --redis-cluster`` runs on) in a fresh temporary directory; ``start_node``,
    ``stop_node``, ``ok`` and ``stop`` are its. Here: what only the tests do to a cluster."""

    def __init__(self, masters: int = 3) -> None:
        super().__init__(Path(tempfile.mkdtemp(prefix="sg-cluster-")), masters, timeout=20 * FACTOR)
        self.start()

    def node_id(self, port: int) -> str:
        with redis_sync.Redis(port=port, decode_responses=True) as client:
            return str(client.execute_command("CLUSTER", "MYID"))

    def owner(self, slot: int) -> int:
        """The port of the master serving ``slot`` (as the first node sees it)."""
        with redis_sync.Redis(port=self.ports[0], decode_responses=True) as client:
            for start, end, master, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    return int(master[1])
        raise RuntimeError(f"slot {slot} is not served")

    def move_slot(self, slot: int, to_port: int) -> None:
        """Migrate ``slot`` with its keys to ``to_port`` the way ``redis-cli --cluster reshard`` does:
        IMPORTING/MIGRATING, MIGRATE in batches (clients get ASK meanwhile), then SETSLOT NODE everywhere."""
        src = self.owner(slot)
        if src == to_port:
            return
        src_id, dst_id = self.node_id(src), self.node_id(to_port)
        with (
            redis_sync.Redis(port=src, decode_responses=True) as source,
            redis_sync.Redis(port=to_port, decode_responses=True) as target,
        ):
            target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
            source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
            while names := source.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100):
                source.execute_command("MIGRATE", "127.0.0.1", to_port, "", 0, 5000, "KEYS", *names)
            for port in (to_port, src, *(p for p in self.ports if p not in (src, to_port))):
                with redis_sync.Redis(port=port) as node:
                    node.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)

    def error_stats(self) -> dict[int, dict[str, int]]:
        """``INFO errorstats`` of every node: {port: {error prefix: count}} (e.g. ``CROSSSLOT``)."""
        out: dict[int, dict[str, int]] = {}
        for port in self.ports:
            with redis_sync.Redis(port=port, decode_responses=True) as client:
                info = client.info("errorstats")  # errorstat_CROSSSLOT: {"count": 3}
            out[port] = {k.removeprefix("errorstat_"): int(v["count"]) for k, v in info.items()}
        return out

    def crossslot_errors(self) -> dict[int, int]:
        """CROSSSLOT errors per node since it started (the audit: must stay 0 everywhere)."""
        return {port: stats.get("CROSSSLOT", 0) for port, stats in self.error_stats().items()}

    def org_keys(self, org: str) -> list[str]:
        """Every key naming ``org`` on any node: its hash tag's, and its dedupe keys in the partitions."""
        found: list[str] = []
        for port in self.ports:
            with redis_sync.Redis(port=port, decode_responses=True) as node:
                found += [
                    k for k in node.scan_iter(match="sg:*", count=1000) if f"{{{org}}}" in k or f":seen:{org}:" in k
                ]
        return found


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    cluster = RedisCluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def queue_redis() -> Iterator[RedisServer]:
    """The plain Redis of the arq queue beside the cluster (arq does not speak Cluster)."""
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def cluster_env(queue_redis: RedisServer) -> dict[str, str]:
    """What a signalgate process needs on top of ``SIGNALGATE_REDIS_URL = redis_cluster.url``."""
    # Every event a signal of its own (no grouping): all routers of one session share one consumer
    # group, so they must agree, and tests that count or order events need it.
    return {
        "SIGNALGATE_REDIS_CLUSTER": "true",
        "SIGNALGATE_QUEUE_URL": queue_redis.url,
        "SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS": "0",
    }


@pytest.fixture(scope="session")
def cluster_procs() -> Iterator[Processes]:
    with Processes() as procs:
        yield procs


@pytest.fixture(scope="session")
def cluster_gateways(
    redis_cluster: RedisCluster, cluster_env: dict[str, str], cluster_procs: Processes
) -> tuple[Gateway, Gateway]:
    """Two ``serve`` nodes and one router, all on the cluster (ingest on one, sockets on the other)."""
    first, _ = cluster_procs.serve(redis_cluster.url, with_router=False, **cluster_env)
    second, _ = cluster_procs.serve(redis_cluster.url, with_router=False, **cluster_env)
    cluster_procs.router(redis_cluster.url, **cluster_env)
    return first, second


def reshard_slot(cluster: RedisCluster, slot: int, to_port: int, *, batch: int = 1, pause: float = 0.0) -> int:
    """Like :meth:`RedisCluster.move_slot`, but slowly, for traffic *during* the move: ``batch`` keys per
    MIGRATE with ``pause`` seconds between them, so clients meet the MIGRATING/IMPORTING state (ASK,
    TRYAGAIN for multi-key calls on a half-moved slot). Returns the number of keys moved."""
    import time

    src = cluster.owner(slot)
    if src == to_port:
        return 0
    src_id, dst_id = cluster.node_id(src), cluster.node_id(to_port)
    moved = 0
    with (
        redis_sync.Redis(port=src, decode_responses=True) as source,
        redis_sync.Redis(port=to_port, decode_responses=True) as target,
    ):
        target.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
        source.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
        while names := source.execute_command("CLUSTER", "GETKEYSINSLOT", slot, batch):
            source.execute_command("MIGRATE", "127.0.0.1", to_port, "", 0, 5000, "KEYS", *names)
            moved += len(names)
            if pause:
                time.sleep(pause)
        for port in (to_port, src, *(p for p in cluster.ports if p not in (src, to_port))):
            with redis_sync.Redis(port=port) as node:
                node.execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    return moved


def next_master(cluster: RedisCluster, slot: int) -> int:
    """The master after ``slot``'s current owner, in port order (where a reshard sends it)."""
    return cluster.ports[(cluster.ports.index(cluster.owner(slot)) + 1) % len(cluster.ports)]


def error_deltas(before: dict[int, dict[str, int]], after: dict[int, dict[str, int]]) -> dict[int, dict[str, int]]:
    """The ``INFO errorstats`` counters that rose between two :meth:`RedisCluster.error_stats` reads."""
    out: dict[int, dict[str, int]] = {}
    for port, stats in after.items():
        rose = {k: v - before.get(port, {}).get(k, 0) for k, v in stats.items() if v > before.get(port, {}).get(k, 0)}
        if rose:
            out[port] = rose
    return out
