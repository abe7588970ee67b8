"""signalgate processes (``gateway.cli serve|up|router|worker|imap``) started as children of the
test run, each with its own log file, a clean ``SIGNALGATE_*`` environment and test secrets."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Self

import httpx

from gateway.devtools.net import child_env, free_port
from tests.support.api import Gateway
from tests.support.timing import block_until

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "sga_test_admin_token_0123456789"
SECRET_KEY = "test-secret-key-for-tracking-tokens"


class Processes:
    """Starts signalgate processes and kills whatever is left at teardown."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        # Run in each child before it starts (e.g. to lower its resource limits); None = nothing.
        self.preexec_fn: Callable[[], None] | None = None
        self.logdir = tempfile.mkdtemp(prefix="sg-test-logs-")
        self.config = Path(self.logdir) / "empty.toml"  # defaults + the SIGNALGATE_* environment only
        self.config.write_text("")

    def _spawn(self, args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        with open(Path(self.logdir) / f"{name}-{len(self.procs)}.log", "wb") as log:  # the child keeps its own fd
            proc = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "--config", str(self.config), *args],
                cwd=ROOT,
                env=child_env(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=self.preexec_fn,  # only sets resource limits (no locks in the child)
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
            # router/worker/imap answer /healthz and /metrics here (a free port each: never port+1)
            "SIGNALGATE_GATEWAY_HEALTH_PORT": str(free_port()),
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

    def imap(self, redis_url: str, **extra: str) -> subprocess.Popen[bytes]:
        """A `signalgate imap` process (the separate process kind)."""
        return self._spawn(["imap"], self.base_env(redis_url, **extra), "imap")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited with {proc.returncode}")
        try:
            return httpx.get(gw.base_url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    if not block_until(healthy, 20, interval=0.05):
        raise RuntimeError("gateway did not become healthy")
