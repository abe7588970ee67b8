"""A private, real Redis Cluster on this machine: N masters from the product's ``redis-server``.

What ``signalgate bench --redis-cluster`` runs on, and the tests' cluster fixture: every master is
a ``redis-server --cluster-enabled yes`` on a free loopback port below 55536 (its cluster bus
listens on port + 10000, which must be free too), with its own data directory, ``nodes.conf`` and
AOF (every second), joined with ``redis-cli --cluster create … --cluster-replicas 0
--cluster-yes`` (Debian's ``redis-tools``; it assigns the 16,384 slots evenly). Start-up waits
until every node answers ``cluster_state:ok``. A node can be stopped and started again on the
same port and data directory (its ``nodes.conf`` brings it back into the cluster with its slots).

Synchronous on purpose (``subprocess``): the tests call it directly, the bench from a thread.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis as redis_sync

from gateway.devtools.net import free_port
from gateway.redis_server import redis_binary

# The cluster bus listens on port + 10000: a node's port must leave room for it.
BUS_OFFSET = 10000
MAX_PORT = 65535 - BUS_OFFSET


class ClusterError(Exception):
    """The cluster could not be started; the message names the node and its log."""


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def cluster_port(taken: set[int]) -> int:
    """A free port below 55536 whose bus port (+10000) is free too, and neither in ``taken``."""
    for _ in range(200):
        port = free_port()
        if port > MAX_PORT:
            port -= BUS_OFFSET
        if port not in taken and port + BUS_OFFSET not in taken and _free(port) and _free(port + BUS_OFFSET):
            return port
    raise ClusterError("no free port pair for a cluster node")


def redis_cli() -> str:
    """``redis-cli`` on the PATH, else the one beside the ``redis-server`` in use."""
    found = shutil.which("redis-cli") or str(Path(redis_binary()).with_name("redis-cli"))
    if not Path(found).exists():
        raise ClusterError("redis-cli not found (Debian's redis-tools)")
    return found


def _until(check: Callable[[], bool], within: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + within
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


class LocalCluster:
    """``masters`` masters, no replicas, under ``directory`` (one sub-directory per port).

    ``timeout`` bounds each wait (a node's first PING, ``--cluster create``, ``cluster_state:ok``);
    ``url`` names the first node (clients discover the others from it).
    """

    def __init__(
        self, directory: Path, masters: int = 3, *, timeout: float = 20.0, node_timeout_ms: int = 2000
    ) -> None:
        if masters < 3:
            raise ValueError("a Redis Cluster needs at least 3 masters")
        self.dir = directory
        self.timeout = timeout
        self.node_timeout_ms = node_timeout_ms
        taken: set[int] = set()
        self.ports: list[int] = []
        for _ in range(masters):
            port = cluster_port(taken)
            taken |= {port, port + BUS_OFFSET}
            self.ports.append(port)
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.url = f"redis://127.0.0.1:{self.ports[0]}"

    def start(self) -> str:
        """Start every node, join them, wait for ``cluster_state:ok``; returns :attr:`url`."""
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            for port in self.ports:
                self.start_node(port)
            nodes = [f"127.0.0.1:{p}" for p in self.ports]
            created = subprocess.run(  # noqa: S603 - our own binary and arguments
                [redis_cli(), "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
                check=False,
                capture_output=True,
                text=True,
                timeout=self.timeout * 1.5,
            )
            if created.returncode != 0:
                raise ClusterError(f"redis-cli --cluster create failed: {created.stdout[-500:]}{created.stderr[-500:]}")
            if not _until(self.ok, self.timeout, interval=0.1):
                raise ClusterError(f"the cluster did not reach cluster_state:ok; see {self.dir}/*/redis.log")
        except BaseException:
            self.stop(remove=False)
            raise
        return self.url

    def node_dir(self, port: int) -> Path:
        return self.dir / str(port)

    def start_node(self, port: int) -> None:
        """Start (or restart, same data dir and nodes.conf) one node and wait for its PING."""
        data = self.node_dir(port)
        data.mkdir(parents=True, exist_ok=True)
        args = [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes"]
        args += ["--cluster-config-file", str(data / "nodes.conf")]
        args += ["--cluster-node-timeout", str(self.node_timeout_ms)]
        args += ["--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(data), "--save", ""]
        args += ["--daemonize", "no", "--logfile", str(data / "redis.log")]
        proc = subprocess.Popen(  # noqa: S603 - our own binary and arguments
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches our process only; it stops the nodes last
        )
        self.procs[port] = proc
        client = redis_sync.Redis(port=port, socket_connect_timeout=0.5)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis_sync.ConnectionError:
                if proc.poll() is not None:
                    raise ClusterError(f"redis-server (cluster node {port}) exited; see {data / 'redis.log'}") from None
                return False

        try:
            if not _until(answers, self.timeout):
                raise ClusterError(f"redis-server (cluster node {port}) did not answer; see {data / 'redis.log'}")
        finally:
            client.close()

    def stop_node(self, port: int) -> None:
        proc = self.procs[port]
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def ok(self) -> bool:
        """Every node answers ``cluster_state:ok``."""
        for port in self.ports:
            with redis_sync.Redis(port=port, decode_responses=True, socket_connect_timeout=0.5) as client:
                try:
                    if client.cluster("INFO").get("cluster_state") != "ok":
                        return False
                except redis_sync.ConnectionError:
                    return False
        return True

    def pids(self) -> dict[int, int]:
        """The process id of each running node, by port."""
        return {port: proc.pid for port, proc in self.procs.items() if proc.poll() is None}

    def stop(self, *, remove: bool = True) -> None:
        """Stop every node; ``remove``: and delete :attr:`dir`."""
        for port in list(self.procs):
            self.stop_node(port)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)
