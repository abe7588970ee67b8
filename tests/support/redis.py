"""A throw-away redis-server on a free loopback port, started with the product's own binary choice."""

from __future__ import annotations

import subprocess
from typing import Self

import redis as redis_sync

from gateway.devtools.net import free_port
from gateway.redis_server import redis_binary
from tests.support.timing import block_until


class RedisServer:
    """A throw-away redis-server on a free port (no persistence unless ``data_dir``)."""

    def __init__(self, data_dir: str | None = None) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        args = [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "yes", "--dir", data_dir] if data_dir else ["--appendonly", "no"]
        self._args = args
        self.start()

    def start(self) -> None:
        """Start the server (again, after :meth:`stop`: same port, same data dir) and wait for PING."""
        self.proc = subprocess.Popen(self._args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis_sync.Redis(port=self.port)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis_sync.ConnectionError:
                if self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                return False

        try:
            if not block_until(answers, 10):
                raise RuntimeError("redis-server did not start")
        finally:
            client.close()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
