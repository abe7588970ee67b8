"""The WebSocket hub: delivers live frames from Redis pub/sub to this node's connections.

One pub/sub subscription per node (:mod:`gateway.store.live`), subscribed to the channel of every
user with at least one connection here. Frames arrive as ``"<cursor>\\n<json>"`` (cursor empty for
unread counts) and are appended to each subscriber's bounded buffer without waiting: broadcast
never blocks. A subscriber whose queue is full is a slow consumer; the connection is closed with 1013
and the client resumes from its last cursor. If the pub/sub connection drops, frames published
meanwhile are lost to this node, so every connection is closed with 1013 to make clients resume.
Only errors that mean "Redis cannot answer now" are handled so; anything else is a bug: it is
logged once with its traceback, connections are closed with 1011 once, and the subscription is
rebuilt (with the same backoff, so a repeating bug cannot make a reconnect storm).

A revocation (``revoked`` in the cursor slot, :mod:`gateway.store.live`) arrives on the user's own
channel: the connections holding a revoked token are closed with 4401 before any later frame of
that channel is offered to them.

Garbage collection (:mod:`gateway.live.gcpace`): with a pacer, the full collection a burst of
connections calls for runs at the first quiet moment of the subscription (no message for the
pacer's ``quiet`` seconds) instead of whenever the interpreter's counters say, mid-traffic.

Memory knob: ``[gateway] ws_queue_size`` frames per connection at most (a frame is ~0.5–2 KiB); an
idle connection buffers nothing and holds no queue, event or task of the hub's.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import Any, Protocol

from gateway.live.gcpace import CollectPacer
from gateway.live.protocol import CloseCode
from gateway.metrics import Metrics
from gateway.store.errors import is_transient
from gateway.store.live import REVOKED, parse_revocation

log = logging.getLogger("signalgate.hub")
MAX_BACKOFF = 5.0


class Subscription(Protocol):
    """The one pub/sub connection of a node (:class:`gateway.store.live.LiveSubscription`)."""

    connects: int

    async def connect(self) -> None: ...
    async def subscribe(self, *channels: str) -> Any: ...
    async def unsubscribe(self, *channels: str) -> Any: ...
    async def get_message(self, *, timeout: float) -> dict[str, Any] | None: ...  # noqa: ASYNC109 - redis-py's
    async def aclose(self) -> None: ...


class Channels(Protocol):
    """Where the hub gets channels and subscriptions (:class:`gateway.store.live.LiveChannels`)."""

    def channel(self, org: str, user: str) -> str: ...
    def subscription(self) -> Subscription: ...


class HubUnavailable(ConnectionError):
    """This node has no live subscription right now (Redis is away): the client retries (1013)."""


class Subscriber:
    """The hub's side of one connection: a bounded buffer of ``(cursor, frame)`` and a close request.

    :meth:`offer` never blocks: it appends to ``frames`` (a plain list the connection drains with
    :meth:`next_frame`) and calls :meth:`wake` when the buffer was empty; past ``limit`` frames
    not yet taken the connection is a slow consumer and is closed with 1013. After :meth:`close`
    nothing more is buffered, what was buffered is dropped (the client resumes from its cursor)
    and :meth:`wake` is called once more. A connection subclasses this and overrides :meth:`wake`:
    no queue, event or task per connection.
    """

    __slots__ = ("close_code", "frames", "limit", "token_id")

    def __init__(self, token_id: str, limit: int) -> None:
        self.token_id = token_id
        self.limit = limit
        self.frames: list[tuple[str, str]] = []
        self.close_code: int | None = None

    @property
    def closed(self) -> bool:
        return self.close_code is not None

    def offer(self, cursor: str, frame: str) -> None:
        if self.close_code is not None:
            return
        if len(self.frames) >= self.limit:
            self.close(CloseCode.TRY_AGAIN_LATER)
            return
        self.frames.append((cursor, frame))
        if len(self.frames) == 1:
            self.wake()

    def next_frame(self) -> tuple[str, str] | None:
        """The oldest buffered frame, taken out of the buffer (``None``: nothing buffered).

        A frame counts against ``limit`` until the connection takes it to send it."""
        return self.frames.pop(0) if self.frames else None

    def close(self, code: int) -> None:
        """Ask the connection to close with ``code``; it receives nothing more from the hub."""
        if self.close_code is None:
            self.close_code = code
            self.frames = []
            self.wake()

    def wake(self) -> None:
        """Called when the first frame is buffered or a close is requested (the connection acts on it)."""


class Hub:
    def __init__(
        self, channels: Channels, queue_size: int, metrics: Metrics, pacer: CollectPacer | None = None
    ) -> None:
        self._channels = channels
        self._pacer = pacer
        self._queue_size = queue_size
        self._m = metrics
        self._pubsub: Subscription | None = None
        self._subs: dict[str, set[Subscriber]] = {}
        self._pending: dict[str, asyncio.Future[None]] = {}
        self._lock = asyncio.Lock()
        self._ready = asyncio.Event()

    @property
    def connection_count(self) -> int:
        return sum(len(s) for s in self._subs.values())

    async def run(self, stop: asyncio.Event) -> None:
        """Read pub/sub until ``stop``; rebuilds the subscription after a Redis outage or a bug."""
        if self._pacer is not None:
            gc.callbacks.append(self._pacer.on_gc)
        try:
            await self._run(stop)
        finally:
            if self._pacer is not None:
                with contextlib.suppress(ValueError):
                    gc.callbacks.remove(self._pacer.on_gc)

    async def _run(self, stop: asyncio.Event) -> None:
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
            except Exception as exc:
                if stop.is_set():
                    break
                if is_transient(exc):
                    log.warning("hub pub/sub failed (%s); closing connections so they resume", exc)
                    self._lose_subscription(exc, CloseCode.TRY_AGAIN_LATER)
                else:
                    log.exception("hub failed; closing its connections with 1011 and starting over")
                    self._lose_subscription(exc, CloseCode.INTERNAL_ERROR)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
        self._ready.clear()
        self._pubsub = None

    def _lose_subscription(self, exc: BaseException, code: int) -> None:
        self._ready.clear()
        self._pubsub = None
        self._fail_pending(exc)
        self.close_all(code)

    async def _read(self, pubsub: Subscription, stop: asyncio.Event) -> None:
        pacer = self._pacer
        wait = 1.0 if pacer is None else pacer.quiet
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            msg = await pubsub.get_message(timeout=wait)
            if pubsub.connects > 1:
                raise ConnectionError("pub/sub reconnected; live frames may have been missed")
            if msg is None:
                if pacer is not None:  # nothing for `wait` seconds: a quiet moment
                    pacer.maybe_collect(loop.time(), self.connection_count)
                continue
            if pacer is not None:
                pacer.active(loop.time())
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
        if cursor == REVOKED:
            revoked = parse_revocation(frame)
            for sub in tuple(subs):
                if revoked is None or sub.token_id in revoked:
                    sub.close(CloseCode.BAD_TOKEN)
            return
        for sub in tuple(subs):
            sub.offer(cursor, frame)

    def _fail_pending(self, exc: BaseException) -> None:
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(HubUnavailable(str(exc)))
        self._pending.clear()

    def arriving(self) -> None:
        """A WebSocket handshake began: a connection storm is not over while they keep coming."""
        if self._pacer is not None:
            self._pacer.active(asyncio.get_running_loop().time())

    async def attach(self, org: str, user: str, sub: Subscriber, confirm_within: float = 5.0) -> str:
        """Register a connection on its user's channel; returns the channel (for :meth:`detach`)
        once Redis confirmed it is live. The channel's one subscription is shared by every
        connection of that user on this node.

        Raises :class:`HubUnavailable` (or ``TimeoutError``) when this node has no live
        subscription within ``confirm_within`` seconds: the client is to retry (1013).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + confirm_within
        channel = self._channels.channel(org, user)
        waiter: asyncio.Future[None] | None = None
        while True:
            async with asyncio.timeout_at(deadline):
                await self._ready.wait()
            async with self._lock:
                # The subscription may have failed between _ready and the lock: wait for the next.
                pubsub = self._pubsub
                if pubsub is None:
                    if self._ready.is_set():  # pragma: no cover - run() clears both together
                        raise HubUnavailable("the hub has no subscription")
                    continue
                subs = self._subs.setdefault(channel, set())
                first = not subs
                subs.add(sub)
                if self._pacer is not None:
                    self._pacer.attached(loop.time())
                waiter = self._pending.get(channel)
                if first and waiter is None:
                    waiter = loop.create_future()
                    self._pending[channel] = waiter
                    try:
                        await pubsub.subscribe(channel)
                    except Exception:
                        self._forget(channel, sub)
                        raise
                break
        self._m.ws_connections.inc()
        if waiter is not None:
            try:
                async with asyncio.timeout(confirm_within):
                    await asyncio.shield(waiter)
            except BaseException:
                await self.detach(channel, sub)
                raise
        return channel

    async def detach(self, channel: str, sub: Subscriber) -> None:
        """Unregister a connection :meth:`attach` registered; the channel's last one unsubscribes it."""
        self._m.ws_connections.dec()
        async with self._lock:
            if self._forget(channel, sub) and self._pubsub is not None:
                with contextlib.suppress(Exception):
                    await self._pubsub.unsubscribe(channel)

    @property
    def queue_size(self) -> int:
        """Frames a connection may have buffered before it counts as a slow consumer."""
        return self._queue_size

    def _forget(self, channel: str, sub: Subscriber) -> bool:
        """Drop ``sub``; True when it was the channel's last subscriber (the caller holds the lock)."""
        subs = self._subs.get(channel, set())
        subs.discard(sub)
        if subs:
            return False
        self._subs.pop(channel, None)
        self._pending.pop(channel, None)
        return True

    async def drained(self, within: float) -> None:
        """Wait until every connection has gone (or ``within`` seconds passed)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.connection_count and loop.time() < deadline:  # noqa: ASYNC110 - bounded, at shutdown only
            await asyncio.sleep(0.05)

    def close_all(self, code: int) -> None:
        for subs in tuple(self._subs.values()):
            for sub in tuple(subs):
                sub.close(code)
