"""``/ws``: the I/O around :mod:`gateway.live.protocol` — hello, replay, live, client frames.

The connection subscribes to its user's live channel through the hub *before* it reads history,
so nothing written meanwhile is missed; :class:`~gateway.live.protocol.LiveFilter` then drops the
buffered frames the replay already sent. For the same reason the token is checked again once the
subscription is live: a revocation published before that is seen by the check, one after it
arrives on the channel (and the hub closes the connection with 4401).

Redis being away (during the hello, the subscription or later) closes with 1013: the client
retries. Anything else is a bug: logged with its traceback, closed with 1011.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from gateway.http import State
from gateway.live import protocol
from gateway.live.hub import Hub, HubUnavailable
from gateway.live.protocol import CloseCode, LiveFilter, ProtocolError
from gateway.metrics import Metrics
from gateway.store.feed import Feed
from gateway.store.live import redis_unavailable
from gateway.store.tenancy import Tenancy, TokenOwner

log = logging.getLogger("signalgate.ws")


class LiveState(State):
    """What ``/ws`` reads from the lifespan state: the services, and this node's hub."""

    hub: Hub


class Session:
    """One WebSocket connection after a valid hello."""

    def __init__(self, ws: WebSocket[LiveState], feed: Feed, metrics: Metrics, owner: TokenOwner) -> None:
        self.ws = ws
        self.feed = feed
        self.m = metrics
        self.owner = owner
        self.org = owner.org
        self.user = owner.user
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
            if protocol.missed_history(after, await self.feed.last_trimmed(self.org, self.user)):
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
        session = Session(ws, services.feed, services.metrics, who)
        await _serve(session, hub, services.tenancy, hello)
    except ProtocolError as exc:
        await _close(ws, CloseCode.POLICY_VIOLATION, str(exc)[: protocol.MAX_REASON])
    except WebSocketDisconnect:
        pass
    except (HubUnavailable, TimeoutError) as exc:
        log.warning("ws: live feed unavailable (%s); closing with 1013", exc)
        await _close(ws, CloseCode.TRY_AGAIN_LATER, "live feed unavailable; retry")
    except Exception as exc:
        if not redis_unavailable(exc):
            log.exception("ws: connection failed")
            await _close(ws, CloseCode.INTERNAL_ERROR, "internal error")
            return
        log.warning("ws: redis unavailable (%s); closing with 1013", exc)
        await _close(ws, CloseCode.TRY_AGAIN_LATER, "redis unavailable; retry")


async def _serve(session: Session, hub: Hub, tenancy: Tenancy, hello: protocol.Hello) -> None:
    owner = session.owner
    async with hub.subscribe(owner.org, owner.user, owner.token_id, session.request_close) as sub:
        if await tenancy.resolve_token(hello.token) != owner:  # revoked before the subscription was live
            await _close(session.ws, CloseCode.BAD_TOKEN, "token revoked")
            return
        unread = await session.feed.unread_count(owner.org, owner.user)
        await session.send(protocol.welcome_frame(owner.org, owner.user, unread))
        last = await session.replay(hello.after)
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
        if session.close_code is not None:
            reason = "token revoked" if session.close_code == CloseCode.BAD_TOKEN else "resume with after"
            await _close(session.ws, session.close_code, reason)
            return
        for t in done:
            exc = t.exception() if not t.cancelled() else None
            if exc is not None:
                raise exc
