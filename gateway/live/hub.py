"""The WebSocket hub: delivers live frames from Redis pub/sub to this node's connections.

One pub/sub subscription per node (:mod:`gateway.store.live`), subscribed to the channel of every
user with at least one connection here. Frames arrive as ``"<cursor>\\n<json>"`` (cursor empty for
unread counts) and are put on each subscriber's bounded queue without waiting: broadcast never
blocks. A subscriber whose queue is full is a slow consumer; the connection is closed with 1013
and the client resumes from its last cursor. If the pub/sub connection drops, frames published
meanwhile are lost to this node, so every connection is closed with 1013 to make clients resume.

Memory knob: ``[gateway] ws_queue_size`` frames per connection (a frame is ~0.5–2 KiB).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from gateway.live.protocol import CloseCode
from gateway.metrics import Metrics
from gateway.store.live import LiveChannels, LiveSubscription

log = logging.getLogger("signalgate.hub")


@dataclass(eq=False)
class Subscriber:
    org: str
    user: str
    queue: asyncio.Queue[tuple[str, str]]
    on_overflow: Callable[[int], None]
    overflowed: bool = field(default=False)

    def offer(self, cursor: str, frame: str) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait((cursor, frame))
        except asyncio.QueueFull:
            self.overflowed = True
            self.on_overflow(CloseCode.TRY_AGAIN_LATER)


class Hub:
    def __init__(self, channels: LiveChannels, queue_size: int, metrics: Metrics) -> None:
        self._channels = channels
        self._queue_size = queue_size
        self._m = metrics
        self._pubsub: LiveSubscription | None = None
        self._subs: dict[str, set[Subscriber]] = {}
        self._pending: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()

    @property
    def connection_count(self) -> int:
        return sum(len(s) for s in self._subs.values())

    async def run(self, stop: asyncio.Event) -> None:
        """Read pub/sub until ``stop``; rebuilds the subscription after a Redis outage."""
        backoff = 0.1
        while not stop.is_set():
            pubsub = self._channels.subscription()
            try:
                async with self._lock:
                    await pubsub.connect()  # proves Redis answers before anyone subscribes
                    if self._subs:
                        await pubsub.subscribe(*self._subs)
                    self._pubsub = pubsub
                self._ready.set()
                await self._read(pubsub, stop)
                backoff = 0.1
            except (ConnectionError, OSError, Exception) as exc:
                if stop.is_set():
                    break
                log.warning("hub pub/sub failed (%s); closing connections so they resume", exc)
                self._ready.clear()
                self._pubsub = None
                self._fail_pending(exc)
                self.close_all(CloseCode.TRY_AGAIN_LATER)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
        self._pubsub = None

    async def _read(self, pubsub: LiveSubscription, stop: asyncio.Event) -> None:
        while not stop.is_set():
            msg = await pubsub.get_message(timeout=1.0)
            if pubsub.connects > 1:
                raise ConnectionError("pub/sub reconnected; live frames may have been missed")
            if msg is None:
                continue
            kind, channel = msg["type"], msg["channel"]
            if kind == "subscribe":
                fut = self._pending.pop(channel, None)
                if fut is not None and not fut.done():
                    fut.set_result(None)
            elif kind == "message":
                self._dispatch(channel, msg["data"])

    def _dispatch(self, channel: str, data: str) -> None:
        subs = self._subs.get(channel)
        if not subs:
            return
        cursor, _, frame = data.partition("\n")
        for sub in tuple(subs):
            sub.offer(cursor, frame)

    def _fail_pending(self, exc: BaseException) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionError(str(exc)))
        self._pending.clear()

    @contextlib.asynccontextmanager
    async def subscribe(
        self, org: str, user: str, on_overflow: Callable[[int], None], confirm_within: float = 5.0
    ) -> AsyncIterator[Subscriber]:
        """Register a connection; returns once Redis confirmed the user's channel is live."""
        await asyncio.wait_for(self._ready.wait(), confirm_within)
        channel = self._channels.channel(org, user)
        sub = Subscriber(org, user, asyncio.Queue(self._queue_size), on_overflow)
        waiter: asyncio.Future[None] | None = None
        async with self._lock:
            subs = self._subs.setdefault(channel, set())
            first = not subs
            subs.add(sub)
            if first:
                waiter = self._pending.get(channel)
                if waiter is None:
                    waiter = asyncio.get_running_loop().create_future()
                    self._pending[channel] = waiter
                    assert self._pubsub is not None  # noqa: S101 - _ready implies a live pubsub
                    await self._pubsub.subscribe(channel)
            else:
                waiter = self._pending.get(channel)
        self._m.ws_connections.inc()
        try:
            if waiter is not None:
                await asyncio.wait_for(asyncio.shield(waiter), confirm_within)
            yield sub
        finally:
            self._m.ws_connections.dec()
            async with self._lock:
                subs = self._subs.get(channel, set())
                subs.discard(sub)
                if not subs:
                    self._subs.pop(channel, None)
                    self._pending.pop(channel, None)
                    if self._pubsub is not None:
                        with contextlib.suppress(Exception):
                            await self._pubsub.unsubscribe(channel)

    async def drained(self, within: float) -> None:
        """Wait until every connection has gone (or ``within`` seconds passed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.connection_count and loop.time() < deadline:  # noqa: ASYNC110 - bounded, at shutdown only
            await asyncio.sleep(0.05)

    def close_all(self, code: int) -> None:
        for subs in tuple(self._subs.values()):
            for sub in tuple(subs):
                sub.overflowed = True
                sub.on_overflow(code)
