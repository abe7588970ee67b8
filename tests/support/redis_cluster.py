"""A real Redis Cluster for tests: three masters from the product's redis-server, AOF on, joined
with ``redis-cli --cluster create``; plus the plain Redis the arq queue lives on, and the CROSSSLOT
audit (every node's ``INFO errorstats``).

Fixtures (a pytest plugin, see ``tests/conftest.py``), all session-wide: ``redis_cluster`` and
``queue_redis``, ``cluster_env`` (the ``SIGNALGATE_*`` settings a process needs to run on them),
``cluster_procs`` and ``cluster_gateways`` (two ``serve`` nodes and one router on the cluster).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis as redis_sync

from gateway.devtools.net import free_port
from gateway.redis_server import redis_binary
from tests.support.api import Gateway
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR, block_until

# The cluster bus listens on port + 10000: a node's port must leave room for it.
_BUS_OFFSET = 10000
_MAX_PORT = 65535 - _BUS_OFFSET


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def cluster_port(taken: set[int]) -> int:
    """A free port below 55536 whose bus port (+10000) is free too."""
    for _ in range(200):
        port = free_port()
        if port > _MAX_PORT:
            port -= _BUS_OFFSET
        if port not in taken and port + _BUS_OFFSET not in taken and _free(port) and _free(port + _BUS_OFFSET):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def redis_cli() -> str:
    found = shutil.which("redis-cli") or str(Path(redis_binary()).with_name("redis-cli"))
    if not Path(found).exists():
        raise RuntimeError("redis-cli not found (Debian's redis-tools)")
    return found


class RedisCluster:
    """Three masters, no replicas, each with its own data dir and AOF; ``url`` names the first."""

    def __init__(self, masters: int = 3) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sg-cluster-"))
        taken: set[int] = set()
        self.ports: list[int] = []
        for _ in range(masters):
            port = cluster_port(taken)
            taken |= {port, port + _BUS_OFFSET}
            self.ports.append(port)
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        for port in self.ports:
            self.start_node(port)
        nodes = [f"127.0.0.1:{p}" for p in self.ports]
        subprocess.run(
            [redis_cli(), "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30 * FACTOR,
        )
        if not block_until(self.ok, 20 * FACTOR, interval=0.1):
            raise RuntimeError(f"cluster did not reach cluster_state:ok; see {self.dir}")
        self.url = f"redis://127.0.0.1:{self.ports[0]}"

    def node_dir(self, port: int) -> Path:
        return self.dir / str(port)

    def start_node(self, port: int) -> None:
        """Start (or restart, same data dir and nodes.conf) one node and wait for its PING."""
        data = self.node_dir(port)
        data.mkdir(exist_ok=True)
        args = [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes"]
        args += ["--cluster-config-file", str(data / "nodes.conf"), "--cluster-node-timeout", "2000"]
        args += ["--appendonly", "yes", "--dir", str(data), "--save", "", "--logfile", str(data / "redis.log")]
        self.procs[port] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis_sync.Redis(port=port)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis_sync.ConnectionError:
                if self.procs[port].poll() is not None:
                    raise RuntimeError(f"redis-server (cluster node {port}) did not start") from None
                return False

        try:
            if not block_until(answers, 10 * FACTOR):
                raise RuntimeError(f"redis-server (cluster node {port}) did not start")
        finally:
            client.close()

    def stop_node(self, port: int) -> None:
        proc = self.procs[port]
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)

    def ok(self) -> bool:
        """Every node answers ``cluster_state:ok``."""
        for port in self.ports:
            with redis_sync.Redis(port=port, decode_responses=True) as client:
                try:
                    if client.cluster("INFO").get("cluster_state") != "ok":
                        return False
                except redis_sync.ConnectionError:
                    return False
        return True

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

    def stop(self) -> None:
        for port in self.ports:
            self.stop_node(port)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    cluster = RedisCluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def queue_redis() -> Iterator[RedisServer]:
    """The plain Redis of the arq queue beside the cluster (arq does not speak Cluster)."""
    server = RedisServer()
    yield server
    server.stop()


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
    procs = Processes()
    yield procs
    procs.close()


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
