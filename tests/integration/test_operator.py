"""The operator's first hour, with real processes: the command line, the embedded Redis's life, an
idempotent demo, and run.sh's install step."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync

from gateway.devtools.net import child_env, free_port
from gateway.redis_server import redis_binary
from tests.support.api import OrgCtx, post_event
from tests.support.processes import ADMIN_TOKEN, ROOT, SECRET_KEY, Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR, block_until, wait_for

TIMEOUT = 30 * FACTOR


def signalgate(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run ``signalgate ARGS`` to completion (it is expected to stop by itself)."""
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=cwd,
        env=child_env({"PYTHONPATH": str(ROOT), **(env or {})}),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


# -- the command line ------------------------------------------------------------------------


def test_version() -> None:
    """``signalgate --version`` prints the installed version and exits 0."""
    proc = signalgate("--version")
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"signalgate \S+\n", proc.stdout)


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_is_read_before_and_after_the_subcommand(tmp_path: Path, where: str) -> None:
    """``signalgate --config X serve`` and ``signalgate serve --config X`` read X; a bad value names key and value."""
    cfg = tmp_path / "x.toml"
    cfg.write_text("[signals]\ngroup_window_seconds = -5\n")
    args = ["--config", str(cfg), "serve"] if where == "before" else ["serve", "--config", str(cfg)]
    proc = signalgate(*args)
    assert proc.returncode == 2
    line = one_line(proc)
    assert line.startswith("signalgate: config: signals.group_window_seconds")
    assert "-5" in line


def test_config_after_the_subcommand_starts_the_gateway(tmp_path: Path, redis_server: RedisServer) -> None:
    """``signalgate serve --config x.toml`` serves on the port that file names."""
    port = free_port()
    cfg = tmp_path / "x.toml"
    cfg.write_text(f'[gateway]\nport = {port}\nlog_level = "warning"\n[redis]\nurl = "{redis_server.url}"\n')
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--config", str(cfg)],
            cwd=ROOT,
            env=child_env({"SIGNALGATE_GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN}),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def healthy() -> bool:
            if proc.poll() is not None:
                raise AssertionError(log.read_text())
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert block_until(healthy, 20)
    finally:
        proc.terminate()
        proc.wait(15)


@pytest.mark.parametrize("where", ["before", "after"])
def test_named_config_that_does_not_exist_is_an_error(tmp_path: Path, where: str) -> None:
    """A ``--config`` path that does not exist is one line and exit 2, not silently the defaults."""
    missing = tmp_path / "nope.toml"
    args = ["--config", str(missing), "serve"] if where == "before" else ["serve", "--config", str(missing)]
    proc = signalgate(*args)
    assert proc.returncode == 2
    assert one_line(proc) == f"signalgate: config: {missing} does not exist"


@pytest.mark.parametrize("command", ["serve", "router", "worker", "demo"])
def test_unreachable_redis_is_one_line_without_the_password(tmp_path: Path, command: str) -> None:
    """An unreachable ``redis.url`` is one line naming it (password hidden) and exit 1, for every process kind.

    Run without --config from a directory without config.toml: the default file may be absent."""
    port = free_port()
    proc = signalgate(command, env={"SIGNALGATE_REDIS_URL": f"redis://:hunter2@127.0.0.1:{port}/0"}, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    line = one_line(proc)
    assert line.startswith(f"signalgate: redis: cannot connect to redis://:***@127.0.0.1:{port}/0: "), line
    assert "hunter2" not in proc.stderr + proc.stdout


# -- the embedded Redis ----------------------------------------------------------------------


def embedded(data_dir: Path, port: int) -> dict[str, str]:
    return {"SIGNALGATE_REDIS_EMBEDDED_PORT": str(port), "SIGNALGATE_REDIS_DATA_DIR": str(data_dir)}


def redis_pid(port: int) -> int:
    client = redis_sync.Redis(port=port, socket_timeout=2)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (an exited one waiting to be reaped does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@contextlib.contextmanager
def reaped(pid: int) -> Any:
    """Kill ``pid`` at the end whatever the test saw, so a failing test leaks no redis-server."""
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGHUP], ids=["SIGKILL", "SIGHUP"])
def test_embedded_redis_dies_with_signalgate_up(tmp_path: Path, procs: Processes, sig: signal.Signals) -> None:
    """SIGKILL of ``signalgate up``, or SIGHUP (the terminal closed), leaves no redis-server running."""
    port = free_port()
    _, up = procs.serve("embedded", with_router=True, **embedded(tmp_path / "redis", port))
    pid = redis_pid(port)
    with reaped(pid):
        assert running(pid)
        up.send_signal(sig)
        up.wait(10 * FACTOR)
        assert block_until(lambda: not running(pid), 2), f"redis-server {pid} outlived signalgate up ({sig.name})"


def test_second_instance_on_one_data_dir_is_refused(tmp_path: Path, procs: Processes) -> None:
    """A second ``signalgate up`` from the same data dir stops with one line; the first keeps its server."""
    port, data = free_port(), tmp_path / "redis"
    gw, _ = procs.serve("embedded", with_router=True, **embedded(data, port))
    pid = redis_pid(port)
    env = procs.base_env("embedded", SIGNALGATE_GATEWAY_PORT=str(free_port()), **embedded(data, port))
    second = signalgate("--config", str(procs.config), "up", env=env)
    assert second.returncode == 1
    assert one_line(second).startswith(f"signalgate: redis: {data.resolve()} is in use by another signalgate")
    assert redis_pid(port) == pid
    assert httpx.get(gw.base_url + "/healthz", timeout=5).status_code == 200


def test_foreign_server_on_the_embedded_port_is_not_adopted(tmp_path: Path, fresh_redis: RedisServer) -> None:
    """A redis-server on ``embedded_port`` that this data dir did not start: one line, exit 1, left alone."""
    client = redis_sync.Redis(port=fresh_redis.port)
    client.set("theirs", "1")
    env = {"SIGNALGATE_GATEWAY_PORT": str(free_port()), **embedded(tmp_path / "redis", fresh_redis.port)}
    proc = signalgate("up", env=env, cwd=tmp_path)
    assert proc.returncode == 1
    line = one_line(proc)
    assert line.startswith(f"signalgate: redis: port {fresh_redis.port} (redis.embedded_port) is already in use"), line
    assert "did not start" in line
    assert client.get("theirs") == b"1"
    client.close()


def test_server_left_by_this_data_dir_is_replaced(tmp_path: Path, procs: Processes) -> None:
    """A server this data dir started (its pid in redis.pid) but whose signalgate died is stopped, not adopted."""
    port, data = free_port(), tmp_path / "redis"
    data.mkdir()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(data), "--save", "", "--appendonly", "yes"]
    left = subprocess.Popen(
        [redis_binary(), *args, "--pidfile", str(data / "redis.pid")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with reaped(left.pid):
        assert block_until(lambda: (data / "redis.pid").exists() and _answers(port), 10)
        redis_sync.Redis(port=port).set("kept", "yes")  # in its AOF: the replacement reads it back
        procs.serve("embedded", with_router=True, **embedded(data, port))
        assert left.wait(10 * FACTOR) == 0  # stopped cleanly (SIGTERM), its AOF flushed
        assert redis_pid(port) != left.pid
        assert redis_sync.Redis(port=port).get("kept") == b"yes"


def _answers(port: int) -> bool:
    try:
        return bool(redis_sync.Redis(port=port, socket_timeout=0.5).ping())
    except redis_sync.ConnectionError:
        return False


# -- signalgate demo -------------------------------------------------------------------------


def run_demo(redis_url: str, public_url: str) -> dict[str, str]:
    env = {
        "SIGNALGATE_REDIS_URL": redis_url,
        "SIGNALGATE_GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
        # The gateway's key: the demo seals the org's secrets with it (processes on one Redis share it).
        "SIGNALGATE_GATEWAY_SECRET_KEY": SECRET_KEY,
        "SIGNALGATE_GATEWAY_PUBLIC_URL": public_url,
        "SIGNALGATE_GATEWAY_LOG_LEVEL": "warning",
    }
    proc = signalgate("demo", env=env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    return {
        "out": out,
        "link": re.search(r"Open the live feed as .*?:\s+(\S+)", out).group(1),  # type: ignore[union-attr]
        "token": re.search(r"User token:\s+(\S+)", out).group(1),  # type: ignore[union-attr]
        "secret": re.search(r"Webhook secret \(Standard Webhooks\):\s+(\S+)", out).group(1),  # type: ignore[union-attr]
    }


async def feed(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    r = await client.get("/api/v1/me/signals", params={"limit": 100}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_demo_twice_adds_nothing(fresh_redis: RedisServer, procs: Processes) -> None:
    """A second ``signalgate demo`` (a restart of run.sh) leaves the feed as it was: counts and read marks."""
    gw, _ = procs.serve(fresh_redis.url, with_router=True)
    first = run_demo(fresh_redis.url, gw.base_url)
    assert first["link"] == f"{gw.base_url}/#token={first['token']}"  # gateway.public_url, not host:port
    assert "Nothing answers" not in first["out"]
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        signals = (await wait_for(lambda: _demo_signals(client, first["token"]), 15))["signals"]
        r = await client.post(
            "/api/v1/me/signals/read",
            json={"ids": [signals[0]["id"]]},
            headers={"Authorization": f"Bearer {first['token']}"},
        )
        assert r.status_code == 200, r.text
        before = await feed(client, first["token"])

        second = run_demo(fresh_redis.url, gw.base_url)
        assert second["secret"] == first["secret"]
        # A sentinel behind anything the second run appended: once it is routed, so is all of that.
        demo = OrgCtx(id="demo", gateway=gw, auth_token="", webhook_secret=second["secret"])
        sentinel = {"type": "desk.ticket", "contact": {"id": "yamada"}, "title": "sentinel"}
        assert (await post_event(client, demo, sentinel)).status_code == 202

        async def routed() -> dict[str, Any] | None:
            now = await feed(client, first["token"])
            return now if any(s["title"] == "sentinel" for s in now["signals"]) else None

        after = await wait_for(routed, 15)
    rest = [s for s in after["signals"] if s["title"] != "sentinel"]
    assert rest == before["signals"]
    assert after["unread"] == before["unread"] + 1  # the sentinel alone


async def _demo_signals(client: httpx.AsyncClient, token: str) -> dict[str, Any] | None:
    now = await feed(client, token)
    return now if len(now["signals"]) >= 5 else None  # sato's five sample signals


def test_demo_without_a_gateway_says_nothing_serves_the_link(fresh_redis: RedisServer) -> None:
    """Plain ``signalgate demo`` prints the public_url link and says that nothing answers there yet."""
    public = f"http://127.0.0.1:{free_port()}"
    out = run_demo(fresh_redis.url, public)
    assert out["link"].startswith(public + "/#token=")
    assert f"Nothing answers at {public} yet" in out["out"]


# -- scripts/run.sh --------------------------------------------------------------------------

STUB = '#!/bin/sh\necho "$(basename "$0") $*" >> "$STUB_LOG"\n'


def test_run_sh_installs_only_the_runtime_and_only_when_pyproject_changes(tmp_path: Path) -> None:
    """run.sh: pip installs `.` (no dev extra, no system packages) once per pyproject.toml, then starts up --demo."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for name in ("scripts/run.sh", "scripts/setup.sh", "pyproject.toml"):
        shutil.copy2(ROOT / name, repo / name)
    stubs = tmp_path / "bin"
    for path in (repo / ".venv/bin/python", repo / ".venv/bin/signalgate", stubs / "apt-get"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(STUB)
        path.chmod(0o755)
    log = tmp_path / "calls.log"
    env = {**os.environ, "STUB_LOG": str(log), "PATH": f"{stubs}:{os.environ['PATH']}"}

    def run() -> list[str]:
        log.write_text("")
        proc = subprocess.run(
            [str(repo / "scripts/run.sh"), "--x"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert proc.returncode == 0, proc.stderr
        return log.read_text().splitlines()

    first = run()
    assert "python -m pip install -q -e ." in first, first
    assert first[-1] == "signalgate --config config.toml up --demo --x"
    assert not [c for c in first if "dev" in c or "apt-get" in c or "playwright" in c], first
    assert run() == ["signalgate --config config.toml up --demo --x"]  # nothing changed: no pip at all
    with (repo / "pyproject.toml").open("a") as f:
        f.write("\n# changed\n")
    assert "python -m pip install -q -e ." in run()
