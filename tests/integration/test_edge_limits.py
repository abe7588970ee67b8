"""The gateway's edge against slowloris clients and connection floods (a real `serve` process).

Each slow client opens a TCP connection and trickles header lines without ever finishing them.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.api import Gateway, provision_org
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR
from tests.support.ws import open_feed

HEADER_TIMEOUT = 6.0
SLOW_CLIENTS = 2000
MAX_CONNECTIONS = 2100
LOG_BOUND = 32 * 1024  # bytes: a flood of connections must not turn into a flood of log lines


@pytest.fixture(autouse=True)
def many_files() -> Iterator[None]:
    """This test process opens thousands of sockets: its own soft descriptor limit goes to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < SLOW_CLIENTS + 1000:
        pytest.skip(f"needs RLIMIT_NOFILE >= {SLOW_CLIENTS + 1000}, hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@dataclass
class SlowClient:
    """One connection that sends a header line now and then and never ends its headers."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    opened: float
    closed: float | None = None
    answer: bytes = b""
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)

    async def watch(self) -> None:
        try:
            self.answer = await self.reader.read()
        except ConnectionError:
            pass
        self.closed = time.monotonic()

    def trickle(self) -> None:
        if self.closed is None and not self.writer.is_closing():
            self.writer.write(f"X-Slow-{uuid.uuid4().hex[:6]}: 1\r\n".encode())


async def open_slow(host: str, port: int, n: int, batch: int = 250) -> list[SlowClient]:
    async def one() -> SlowClient:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        client = SlowClient(reader, writer, time.monotonic())
        client.watcher = asyncio.create_task(client.watch())
        return client

    clients: list[SlowClient] = []
    for start in range(0, n, batch):
        clients += await asyncio.gather(*(one() for _ in range(min(batch, n - start))))
    return clients


async def trickle_forever(clients: list[SlowClient], every: float = 1.0) -> None:
    while True:
        await asyncio.sleep(every)
        for c in clients:
            c.trickle()


async def first_answer(host: str, port: int, timeout: float) -> tuple[bytes, float]:
    """Open a connection, send nothing, and return what arrives first (b"" if nothing) and when."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        data = await asyncio.wait_for(reader.read(), timeout)
    except (TimeoutError, ConnectionError):
        data = b""
    finally:
        writer.close()
    return data, time.monotonic() - started


def close_all(clients: list[SlowClient]) -> None:
    for c in clients:
        c.writer.close()
        if c.watcher is not None:
            c.watcher.cancel()


def addr(gw: Gateway) -> tuple[str, int]:
    parts = urlsplit(gw.base_url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def log_of(procs: Processes) -> Path:
    (path,) = Path(procs.logdir).glob("serve-*.log")
    return path


def assert_overloaded(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503"), answer[:200]
    assert json.loads(body)["error"] == "overloaded"


async def test_slow_header_clients_are_timed_out_while_the_gateway_keeps_answering(
    procs: Processes, redis_server: RedisServer
) -> None:
    """2,000 slowloris clients: /healthz and a WebSocket hello still answer, extra connections get
    a fast 503, every slow client is closed (408) after the header timeout, and the log stays small."""
    gw, proc = procs.serve(
        redis_server.url,
        SIGNALGATE_GATEWAY_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT),
        SIGNALGATE_GATEWAY_MAX_CONNECTIONS=str(MAX_CONNECTIONS),
        SIGNALGATE_GATEWAY_LOG_LEVEL="info",
    )
    host, port = addr(gw)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as c:
        org = await provision_org(c, gw, "edge-" + uuid.uuid4().hex[:10])

    slow = await open_slow(host, port, SLOW_CLIENTS)
    trickler = asyncio.create_task(trickle_forever(slow))
    try:
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=gw.base_url, timeout=2 * FACTOR) as c:
            r = await c.get("/healthz")
        assert r.status_code == 200, r.text
        feed, welcome = await open_feed(gw, org.tokens["u1"])
        assert welcome["type"] == "welcome"
        await feed.ws.close()
        assert time.monotonic() - started < 3 * FACTOR
        assert all(s.closed is None for s in slow), "a slow client was closed before the header timeout"

        # Past max_connections: new connections are answered 503 at once, not left hanging.
        extra = await asyncio.gather(*(first_answer(host, port, 1.5 * FACTOR) for _ in range(200)))
        shed = [(data, took) for data, took in extra if data]
        assert len(shed) >= 200 - (MAX_CONNECTIONS - SLOW_CLIENTS), [len(shed)]
        for data, took in shed:
            assert_overloaded(data)
            assert took < 1.0 * FACTOR

        # Every slow client is closed after the header timeout, trickling notwithstanding.
        deadline = max(s.opened for s in slow) + HEADER_TIMEOUT + 3 * FACTOR
        while any(s.closed is None for s in slow) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        lived = sorted(s.closed - s.opened for s in slow if s.closed is not None)
        assert len(lived) == SLOW_CLIENTS, f"{SLOW_CLIENTS - len(lived)} slow clients still open"
        assert HEADER_TIMEOUT - 0.5 < lived[0] and lived[-1] < HEADER_TIMEOUT + 3 * FACTOR, (lived[0], lived[-1])
        assert all(s.answer.startswith(b"HTTP/1.1 408") for s in slow)
    finally:
        trickler.cancel()
        close_all(slow)

    async with httpx.AsyncClient(base_url=gw.base_url, timeout=2 * FACTOR) as c:
        assert (await c.get("/healthz")).status_code == 200
    assert proc.poll() is None
    assert log_of(procs).stat().st_size < LOG_BOUND


def _nofile(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return apply


async def test_connections_beyond_the_descriptor_limit_get_503_not_a_dead_gateway(
    procs: Processes, redis_server: RedisServer
) -> None:
    """With few file descriptors (hard limit 300) and the default max_connections, a flood of 600
    connections is answered 503 past what fits; the process survives, its log stays small, and it
    answers /healthz again once the slow clients are timed out."""
    procs.preexec_fn = _nofile(300)
    gw, proc = procs.serve(redis_server.url, SIGNALGATE_GATEWAY_HEADER_TIMEOUT_SECONDS="3")
    host, port = addr(gw)
    slow = await open_slow(host, port, 600, batch=100)
    try:
        deadline = time.monotonic() + (3 + 3) * FACTOR
        while any(s.closed is None for s in slow) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert all(s.closed is not None for s in slow), "a connection was left hanging"
        shed = [(s.answer, s.closed - s.opened) for s in slow if s.closed and s.answer.startswith(b"HTTP/1.1 503")]
        timed_out = [s for s in slow if s.answer.startswith(b"HTTP/1.1 408")]
        # In a flood, a refused connection past the linger cap is closed right after its 503, and
        # the kernel may reset it before the client read the answer: a few may see only the reset.
        assert len(shed) + len(timed_out) >= 600 - 20, (len(shed), len(timed_out))
        assert len(shed) >= 600 - 300, len(shed)
        for answer, took in shed:
            assert_overloaded(answer)
            assert took < 1.0 * FACTOR
    finally:
        close_all(slow)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=2 * FACTOR) as c:
        assert (await c.get("/healthz")).status_code == 200
    assert proc.poll() is None
    assert log_of(procs).stat().st_size < LOG_BOUND


async def test_header_deadline_follows_each_request_on_a_keep_alive_connection(
    procs: Processes, redis_server: RedisServer
) -> None:
    """The header timer is one per connection, re-aimed as requests come and go: a keep-alive
    connection busy for longer than the timeout is never cut while each request's headers arrive
    in time, and a request whose headers then stall gets its 408 one timeout after it began."""
    timeout = 2.0
    gw, proc = procs.serve(redis_server.url, SIGNALGATE_GATEWAY_HEADER_TIMEOUT_SECONDS=str(timeout))
    host, port = addr(gw)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        started = time.monotonic()
        while time.monotonic() - started < 2.5 * timeout:
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5 * FACTOR)
            assert head.startswith(b"HTTP/1.1 200"), head
            length = next(
                int(v) for k, _, v in (h.partition(b":") for h in head.split(b"\r\n")) if k == b"content-length"
            )
            await reader.readexactly(length)
            await asyncio.sleep(0.3)
        writer.write(b"GET /healthz HTTP/1.1\r\n")  # the next request's headers begin, and stall
        begun = time.monotonic()
        answer = await asyncio.wait_for(reader.read(), (timeout + 5) * FACTOR)
        took = time.monotonic() - begun
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        # Armed when the last response completed (0.3 s before): never later than one timeout.
        assert timeout - 0.5 < took < timeout + 1.5 * FACTOR, took
    finally:
        writer.close()
    assert proc.poll() is None
