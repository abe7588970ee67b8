"""``/ws``: the I/O around :mod:`gateway.live.protocol` — hello, replay, live, client frames.

The connection subscribes to its user's live channel through the hub *before* it reads history,
so nothing written meanwhile is missed; :class:`~gateway.live.protocol.LiveFilter` then drops the
buffered frames the replay already sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from gateway.http import State
from gateway.live import protocol
from gateway.live.hub import Hub
from gateway.live.protocol import CloseCode, LiveFilter, ProtocolError
from gateway.metrics import Metrics
from gateway.store.feed import Feed

log = logging.getLogger("signalgate.ws")


class LiveState(State):
    """What ``/ws`` reads from the lifespan state: the services, and this node's hub."""

    hub: Hub


class Session:
    """One WebSocket connection after a valid hello."""

    def __init__(self, ws: WebSocket[LiveState], feed: Feed, metrics: Metrics, org: str, user: str) -> None:
        self.ws = ws
        self.feed = feed
        self.m = metrics
        self.org = org
        self.user = user
        self.close_code: int | None = None
        self.closed = asyncio.Event()

    def request_close(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            if code == CloseCode.TRY_AGAIN_LATER:
                self.m.ws_slow_closed.inc()
        self.closed.set()

    async def send(self, text: str) -> None:
        await self.ws.send_text(text)
        self.m.ws_frames.inc()

    async def replay(self, after: str | None) -> str | None:
        """Send history after ``after``; returns the last cursor sent (or ``after``)."""
        last = after
        if after is not None:
            if protocol.missed_history(after, await self.feed.floor(self.org, self.user)):
                await self.send(protocol.GAP)
            async for entry in self.feed.replay(self.org, self.user, after):
                await self.send(protocol.signal_frame(entry.cursor, entry.sid, entry.n, entry.body, entry.read))
                last = entry.cursor
        await self.send(protocol.LIVE)
        return last

    async def write_live(self, queue: asyncio.Queue[tuple[str, str]], last: str | None) -> None:
        seam = LiveFilter(last)
        while True:
            cursor, frame = await queue.get()
            if seam.admit(cursor):
                await self.send(frame)

    async def read_client(self) -> None:
        while True:
            msg = protocol.parse_frame(await _receive_text(self.ws))
            kind = msg["type"]
            if kind == "read":
                ids, up_to = protocol.parse_read(msg)
                await self.feed.mark_read(self.org, self.user, ids, up_to)
            elif kind == "ping":
                await self.send(protocol.PONG)
            else:
                raise ProtocolError(f"unknown frame type {kind!r}")


async def _receive_text(ws: WebSocket[LiveState]) -> str | None:
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text: str | None = message.get("text")
    return text


async def _close(ws: WebSocket[LiveState], code: int, reason: str = "") -> None:
    if ws.application_state != WebSocketState.DISCONNECTED and ws.client_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(Exception):
            await ws.close(code, reason)


async def websocket_endpoint(ws: WebSocket[LiveState]) -> None:
    services, hub = ws.state["services"], ws.state["hub"]
    await ws.accept()
    try:
        try:
            first = await asyncio.wait_for(_receive_text(ws), services.config.gateway.hello_timeout)
        except TimeoutError:
            await _close(ws, CloseCode.HELLO_TIMEOUT, "no hello in time")
            return
        hello = protocol.parse_hello(protocol.parse_frame(first))
        who = await services.tenancy.resolve_token(hello.token)
        if who is None:
            await _close(ws, CloseCode.BAD_TOKEN, "bad token")
            return
        session = Session(ws, services.feed, services.metrics, who[0], who[1])
        await _serve(session, hub, hello.after)
    except ProtocolError as exc:
        await _close(ws, CloseCode.POLICY_VIOLATION, str(exc)[: protocol.MAX_REASON])
    except WebSocketDisconnect:
        pass


async def _serve(session: Session, hub: Hub, after: str | None) -> None:
    org, user = session.org, session.user
    async with hub.subscribe(org, user, session.request_close) as sub:
        unread = await session.feed.unread_count(org, user)
        await session.send(protocol.welcome_frame(org, user, unread))
        last = await session.replay(after)
        tasks = [
            asyncio.create_task(session.write_live(sub.queue, last)),
            asyncio.create_task(session.read_client()),
            asyncio.create_task(session.closed.wait()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for t in done:
            exc = t.exception() if not t.cancelled() else None
            if isinstance(exc, ProtocolError):
                raise exc
        if session.close_code is not None:
            await _close(session.ws, session.close_code, "resume with after")
