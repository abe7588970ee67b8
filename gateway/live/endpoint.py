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

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from gateway.http import State
from gateway.live import protocol
from gateway.live.hub import Hub, HubUnavailable, Subscriber
from gateway.live.protocol import CloseCode, LiveFilter, ProtocolError
from gateway.metrics import Metrics
from gateway.store.errors import is_transient
from gateway.store.feed import Feed
from gateway.store.tenancy import Tenancy, TokenOwner

log = logging.getLogger("signalgate.ws")


class LiveState(State):
    """What ``/ws`` reads from the lifespan state: the services, and this node's hub."""

    hub: Hub


class Session(Subscriber):
    """One WebSocket connection after a valid hello: the hub's buffer for it, and how it is written.

    The endpoint's own task reads the client. Live frames are written by a short-lived writer task
    that :meth:`wake` starts when the hub buffers a frame (or asks to close) once the replay is over,
    and that ends when the buffer is empty: an idle connection is one task and a few objects.
    """

    __slots__ = ("_seam", "_writer", "feed", "m", "org", "owner", "user", "ws")

    def __init__(self, ws: WebSocket[LiveState], feed: Feed, metrics: Metrics, owner: TokenOwner, limit: int) -> None:
        super().__init__(owner.token_id, limit)
        self.ws = ws
        self.feed = feed
        self.m = metrics
        self.owner = owner
        self.org = owner.org
        self.user = owner.user
        self._seam: LiveFilter | None = None  # set once the replay is over: live frames flow from then on
        self._writer: asyncio.Task[None] | None = None

    def close(self, code: int) -> None:
        if self.close_code is None and code == CloseCode.TRY_AGAIN_LATER:
            self.m.ws_slow_closed.inc()
        super().close(code)

    def wake(self) -> None:
        if self._writer is None and self._seam is not None and (self.frames or self.close_code is not None):
            self._writer = asyncio.get_running_loop().create_task(self._write(self._seam))

    def go_live(self, last: str | None) -> None:
        """The replay ended at ``last``: write what was buffered meanwhile (past the seam), then live."""
        self._seam = LiveFilter(last)
        self.wake()

    async def stop_writing(self) -> None:
        """Cancel the writer, if one runs (the connection is ending)."""
        self._seam = None
        writer = self._writer
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    async def _write(self, seam: LiveFilter) -> None:
        try:
            while self.close_code is None:
                item = self.next_frame()
                if item is None:
                    return
                if seam.admit(item[0]):
                    await self.send(item[1])
            reason = "token revoked" if self.close_code == CloseCode.BAD_TOKEN else "resume with after"
            await _close(self.ws, self.close_code, reason)
        except WebSocketDisconnect:
            pass  # the client is gone: the endpoint's read sees it too
        except Exception:
            log.exception("ws: writing to a connection failed")
            await _close(self.ws, CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            self._writer = None

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
                await self.send(
                    protocol.signal_frame(entry.cursor, entry.sid, entry.n, entry.body, entry.read, entry.placement)
                )
                last = entry.cursor
        await self.send(protocol.LIVE)
        return last

    async def read_client(self) -> None:
        """Serve the client's frames until it disconnects (or a close this side sent completes)."""
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
    hub.arriving()
    await ws.accept()
    try:
        try:
            async with asyncio.timeout(services.config.gateway.hello_timeout):
                first = await _receive_text(ws)
        except TimeoutError:
            await _close(ws, CloseCode.HELLO_TIMEOUT, "no hello in time")
            return
        hello = protocol.parse_hello(protocol.parse_frame(first))
        who = await services.tenancy.resolve_token(hello.token)
        if who is None:
            await _close(ws, CloseCode.BAD_TOKEN, "bad token")
            return
        session = Session(ws, services.feed, services.metrics, who, hub.queue_size)
        await _serve(session, hub, services.tenancy, hello)
    except ProtocolError as exc:
        await _close(ws, CloseCode.POLICY_VIOLATION, str(exc)[: protocol.MAX_REASON])
    except WebSocketDisconnect:
        pass
    except (HubUnavailable, TimeoutError) as exc:
        log.warning("ws: live feed unavailable (%s); closing with 1013", exc)
        await _close(ws, CloseCode.TRY_AGAIN_LATER, "live feed unavailable; retry")
    except Exception as exc:
        if not is_transient(exc):
            log.exception("ws: connection failed")
            await _close(ws, CloseCode.INTERNAL_ERROR, "internal error")
            return
        log.warning("ws: redis unavailable (%s); closing with 1013", exc)
        await _close(ws, CloseCode.TRY_AGAIN_LATER, "redis unavailable; retry")


async def _serve(session: Session, hub: Hub, tenancy: Tenancy, hello: protocol.Hello) -> None:
    owner = session.owner
    channel = await hub.attach(owner.org, owner.user, session)
    try:
        if await tenancy.resolve_token(hello.token) != owner:  # revoked before the subscription was live
            await _close(session.ws, CloseCode.BAD_TOKEN, "token revoked")
            return
        unread = await session.feed.unread_count(owner.org, owner.user)
        await session.send(protocol.welcome_frame(owner.org, owner.user, unread))
        session.go_live(await session.replay(hello.after))
        await session.read_client()
    finally:
        await session.stop_writing()
        await hub.detach(channel, session)


class LiveShortcut:
    """Pure-ASGI: ``/ws`` goes straight to :func:`websocket_endpoint`, everything else to ``app``.

    A WebSocket lives for hours, and every middleware and routing layer it passes through stays
    on its stack for as long (a suspended coroutine frame, a wrapped ``send``/``receive`` closure
    each): through the whole Starlette stack that was several KiB per idle connection. None of
    those layers does anything for a WebSocket (the security headers and exception handlers
    are HTTP's; the endpoint closes with a code on every error itself).
    """

    def __init__(self, app: ASGIApp, path: str = "/ws") -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == self.path:
            await websocket_endpoint(WebSocket(scope, receive, send))
        else:
            await self.app(scope, receive, send)
