"""The keep-alive HTTP/1.1 load generator: raw asyncio protocols, one request in flight per connection.

Two modes over ``connections`` persistent connections:

- **closed loop** (max rate): every connection sends its next request as soon as the previous
  answer is in; latency is send → last byte of the answer;
- **open loop** (fixed rate): request ``i`` is due at ``start + i / rate`` whether or not earlier
  ones were answered; an idle connection takes the oldest due request and latency counts from
  the *due* time, so a server that falls behind shows it (no coordinated omission).

A warm-up (connections opening, caches filling) is run first and excluded from rate and latency;
its requests still count for correctness. Parsing is the minimum an HTTP/1.1 client needs:
status line, ``Content-Length`` or chunked bodies, ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from gateway.bench.payloads import Builder, Item

# Refuse to buffer a response bigger than this: the bench only talks to small endpoints.
MAX_RESPONSE_BYTES = 1 << 20


class ResponseError(Exception):
    """The connection broke or the server answered something that is not HTTP/1.1."""


class HttpClientProtocol(asyncio.Protocol):
    """One keep-alive connection with at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False
        self.server_closes = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have the same API.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ResponseError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if len(self._buf) > MAX_RESPONSE_BYTES and self.transport is not None:
            self.transport.abort()
            return
        if self._waiter is None or self._waiter.done():
            return
        try:
            parsed = parse_response(self._buf)
        except ResponseError as exc:
            self._waiter.set_exception(exc)
            return
        if parsed is not None:
            status, body, used, close = parsed
            del self._buf[:used]
            self.server_closes = close
            self._waiter.set_result((status, body))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        if self.transport is None or self.closed:
            raise ResponseError("connection is closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self._waiter

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()


def _chunked_body(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    body = bytearray()
    pos = start
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        try:
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
        except ValueError:
            raise ResponseError("bad chunk size") from None
        if size == 0:
            end = buf.find(b"\r\n\r\n", line_end)
            return (bytes(body), end + 4) if end >= 0 else None
        chunk_start = line_end + 2
        if len(buf) < chunk_start + size + 2:
            return None
        body += buf[chunk_start : chunk_start + size]
        pos = chunk_start + size + 2


def parse_response(buf: bytearray) -> tuple[int, bytes, int, bool] | None:
    """``(status, body, bytes used, server closes)`` once a whole response is buffered, else None."""
    head_end = buf.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    head = bytes(buf[:head_end]).lower()
    if not head.startswith(b"http/1."):
        raise ResponseError(f"not an HTTP/1.x response: {head[:40]!r}")
    status = int(head[9:12])
    close = b"\r\nconnection: close" in head
    start = head_end + 4
    if b"\r\ntransfer-encoding: chunked" in head:
        chunked = _chunked_body(buf, start)
        return None if chunked is None else (status, chunked[0], chunked[1], close)
    at = head.find(b"\r\ncontent-length:")
    length = 0
    if at >= 0:
        end = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : end if end >= 0 else len(head)].strip())
    if len(buf) < start + length:
        return None
    return status, bytes(buf[start : start + length]), start + length, close


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    tls: bool = False


async def open_connection(endpoint: Endpoint) -> HttpClientProtocol:
    loop = asyncio.get_running_loop()
    context = ssl.create_default_context() if endpoint.tls else None
    _, proto = await loop.create_connection(
        HttpClientProtocol,
        endpoint.host,
        endpoint.port,
        ssl=context,
        server_hostname=endpoint.host if context else None,
    )
    return proto


# "accepted" / "duplicate" / "refused": how the gateway treated one request.
Classifier = Callable[[int, bytes], str]


def classify_2xx(status: int, body: bytes) -> str:
    return "accepted" if 200 <= status < 300 else "refused"


def classify_event(status: int, body: bytes) -> str:
    """Standard Webhooks ingest: 202 with ``"duplicate":true`` accepted nothing new."""
    if not 200 <= status < 300:
        return "refused"
    return "duplicate" if b'"duplicate":true' in body else "accepted"


@dataclass
class LoadResult:
    """What one load phase did; ``window`` is the measured part (after warm-up)."""

    started_ns: int = 0  # wall clock of the first request sent
    window: float = 0.0
    completed_in_window: int = 0
    sent: int = 0
    latencies_us: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    accepted: set[str] = field(default_factory=set)
    accepted_seqs: list[int] = field(default_factory=list)
    duplicates: int = 0


@dataclass
class LoadPlan:
    endpoint: Endpoint
    builder: Builder
    connections: int
    duration: float  # measured seconds (after warm-up)
    warmup: float = 0.5
    rate: float | None = None  # None = closed loop, as fast as answers come back
    count: int | None = None  # stop after this many requests (bursts)
    classify: Classifier = classify_2xx
    prebuilt: list[Item] = field(default_factory=list)
    cycle: bool = False  # reuse the prebuilt requests round-robin (only for servers that ignore content)
    # Called with "start" and "end" of the measured window (CPU sampling hooks on to it).
    on_window: Callable[[str], None] = lambda mark: None


class LoadRun:
    """Runs one :class:`LoadPlan`; ``progress()`` may be read while it runs."""

    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        self.result = LoadResult()
        self._next = 0
        # perf_counter, not loop.time(): uvloop's clock has millisecond resolution.
        self._now = time.perf_counter
        self._start = 0.0
        self._window_start = 0.0
        self._deadline = 0.0

    def progress(self) -> tuple[int, float]:
        """(requests answered in the window so far, seconds of window elapsed)."""
        return self.result.completed_in_window, max(0.0, self._now() - self._window_start)

    def _item(self, i: int) -> Item:
        pre = self.plan.prebuilt
        if i < len(pre):
            return pre[i]
        return pre[i % len(pre)] if self.plan.cycle and pre else self.plan.builder.build(i)

    def _take(self) -> int | None:
        i = self._next
        if (self.plan.count is not None and i >= self.plan.count) or self._now() >= self._deadline:
            return None
        self._next += 1
        return i

    def _record(self, item: Item, status: int, body: bytes, began: float, done: float) -> None:
        r = self.result
        r.statuses[status] += 1
        verdict = self.plan.classify(status, body)
        if verdict == "accepted":
            if item.key not in r.accepted:
                r.accepted.add(item.key)
                r.accepted_seqs.append(item.seq)
        elif verdict == "duplicate":
            r.duplicates += 1
        if began >= self._window_start:
            r.latencies_us.append(int((done - began) * 1e6))
            if done <= self._deadline:
                r.completed_in_window += 1

    async def _send(self, conn: HttpClientProtocol | None, i: int, began: float) -> HttpClientProtocol | None:
        item = self._item(i)
        if not self.result.started_ns:
            self.result.started_ns = time.time_ns()
        for _attempt in range(2):
            try:
                if conn is None or conn.closed or conn.server_closes:
                    if conn is not None:
                        conn.close()
                    conn = await open_connection(self.plan.endpoint)
                self.result.sent += 1
                status, body = await conn.request(item.data)
            except (OSError, ResponseError) as exc:
                self.result.errors[type(exc).__name__] += 1
                conn = None
                continue
            self._record(item, status, body, began, self._now())
            return conn
        return conn

    async def _closed_worker(self) -> None:
        conn: HttpClientProtocol | None = None
        try:
            while (i := self._take()) is not None:
                conn = await self._send(conn, i, self._now())
        finally:
            if conn is not None:
                conn.close()

    async def _open_worker(self, due: asyncio.Queue[tuple[int, float] | None]) -> None:
        conn: HttpClientProtocol | None = None
        try:
            while (job := await due.get()) is not None:
                conn = await self._send(conn, job[0], job[1])
        finally:
            if conn is not None:
                conn.close()

    async def _ticker(self, due: asyncio.Queue[tuple[int, float] | None], rate: float) -> None:
        start = self._now()
        n = 0
        while (i := self._take()) is not None:
            at = start + n / rate
            n += 1
            delay = at - self._now()
            if delay > 0:
                await asyncio.sleep(delay)
            due.put_nowait((i, at))
        for _ in range(self.plan.connections):
            due.put_nowait(None)

    async def _window_marks(self) -> None:
        await asyncio.sleep(max(0.0, self._window_start - self._now()))
        self.plan.on_window("start")
        await asyncio.sleep(max(0.0, self._deadline - self._now()))
        self.plan.on_window("end")

    async def run(self) -> LoadResult:
        plan = self.plan
        self._start = self._now()
        self._window_start = self._start + (plan.warmup if plan.count is None else 0.0)
        self._deadline = self._window_start + plan.duration
        marks = asyncio.create_task(self._window_marks())
        if plan.rate is None:
            workers = [asyncio.create_task(self._closed_worker()) for _ in range(plan.connections)]
        else:
            due: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()
            workers = [asyncio.create_task(self._open_worker(due)) for _ in range(plan.connections)]
            workers.append(asyncio.create_task(self._ticker(due, plan.rate)))
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*workers, return_exceptions=True)
        if not marks.done():  # a count-limited burst ended before its deadline
            marks.cancel()
            plan.on_window("end")
        end = min(self._now(), self._deadline)
        self.result.window = max(end - self._window_start, 1e-9)
        return self.result
