"""``/ws``: hello → welcome → replay after the client's cursor → ``live`` → live frames.

The seam between replay and live has no gap and no duplicate: the connection subscribes to its
user's live channel *before* reading history, buffers live frames meanwhile, and then skips
buffered frames whose cursor it already replayed (cursors are feed stream ids, strictly
increasing per user). Client frames: ``hello`` (first, within ``hello_timeout``), ``read``
(``ids`` or ``up_to``), ``ping``. Close codes are listed in :mod:`gateway.hub`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from gateway import streamid
from gateway.feed import Feed
from gateway.hub import (
    CLOSE_BAD_TOKEN,
    CLOSE_HELLO_TIMEOUT,
    CLOSE_POLICY,
    CLOSE_TRY_AGAIN,
    Hub,
)
from gateway.metrics import Metrics
from gateway.store import Store

log = logging.getLogger("signalgate.ws")


class ProtocolError(Exception):
    """The client sent something that is not a valid frame (closed with 1008)."""


def parse_frame(text: str | None) -> dict[str, Any]:
    if text is None:
        raise ProtocolError("binary frames are not accepted")
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ProtocolError("frame is not JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError("frame must be an object with a string 'type'")
    return msg


def parse_read(msg: dict[str, Any]) -> tuple[list[str] | None, str | None]:
    """Validate a ``read`` request (WebSocket frame or REST body)."""
    if "up_to" in msg:
        if not streamid.is_valid(msg["up_to"]):
            raise ProtocolError("'up_to' must be a signal id")
        return None, msg["up_to"]
    ids = msg.get("ids")
    if not isinstance(ids, list) or len(ids) > 1000 or not all(streamid.is_valid(i) for i in ids):
        raise ProtocolError("'ids' must be a list of at most 1000 signal ids")
    return ids, None


class Session:
    """One WebSocket connection after a valid hello."""

    def __init__(self, ws: WebSocket, feed: Feed, metrics: Metrics, org: str, user: str) -> None:
        self.ws = ws
        self.feed = feed
        self.m = metrics
        self.org = org
        self.user = user
        self.close_code: int | None = None
        self._closed = asyncio.Event()

    def request_close(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
            if code == CLOSE_TRY_AGAIN:
                self.m.ws_slow_closed.inc()
        self._closed.set()

    async def send(self, text: str) -> None:
        await self.ws.send_text(text)
        self.m.ws_frames.inc()

    async def replay(self, after: str | None) -> str | None:
        """Send history after ``after``; returns the last cursor sent (or ``after``)."""
        last = after
        if after is not None:
            floor = await self.feed.floor(self.org, self.user)
            if floor is not None and streamid.parse(after) < streamid.parse(floor):
                await self.send('{"type":"gap"}')
            async for cursor, frame in self.feed.replay(self.org, self.user, after):
                await self.send(frame)
                last = cursor
        await self.send('{"type":"live"}')
        return last

    async def write_live(self, queue: asyncio.Queue[tuple[str, str]], last: str | None) -> None:
        seen = streamid.parse(last) if last else (0, 0)
        while True:
            cursor, frame = await queue.get()
            if cursor:
                pos = streamid.parse(cursor)
                if pos <= seen:
                    continue  # already replayed
                seen = pos
            await self.send(frame)

    async def read_client(self) -> None:
        while True:
            msg = parse_frame(await _receive_text(self.ws))
            kind = msg["type"]
            if kind == "read":
                ids, up_to = parse_read(msg)
                await self.feed.mark_read(self.org, self.user, ids, up_to)
            elif kind == "ping":
                await self.send('{"type":"pong"}')
            else:
                raise ProtocolError(f"unknown frame type {kind!r}")


async def _receive_text(ws: WebSocket) -> str | None:
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text: str | None = message.get("text")
    return text


async def _close(ws: WebSocket, code: int, reason: str = "") -> None:
    if ws.application_state != WebSocketState.DISCONNECTED and ws.client_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(Exception):
            await ws.close(code, reason)


async def websocket_endpoint(ws: WebSocket) -> None:
    state = ws.app.state
    store: Store = state.store
    hub: Hub = state.hub
    feed: Feed = state.feed
    metrics: Metrics = state.metrics
    await ws.accept()
    try:
        try:
            hello = parse_frame(await asyncio.wait_for(_receive_text(ws), state.config.gateway.hello_timeout))
        except TimeoutError:
            await _close(ws, CLOSE_HELLO_TIMEOUT, "no hello in time")
            return
        if hello["type"] != "hello" or not isinstance(hello.get("token"), str):
            raise ProtocolError("first frame must be hello with a token")
        after = hello.get("after")
        if after is not None and not streamid.is_valid(after):
            raise ProtocolError("'after' must be a signal id")
        who = await store.resolve_token(hello["token"])
        if who is None:
            await _close(ws, CLOSE_BAD_TOKEN, "bad token")
            return
        await _serve(ws, hub, feed, metrics, who[0], who[1], after)
    except ProtocolError as exc:
        await _close(ws, CLOSE_POLICY, str(exc)[:120])
    except WebSocketDisconnect:
        pass


async def _serve(ws: WebSocket, hub: Hub, feed: Feed, metrics: Metrics, org: str, user: str, after: str | None) -> None:
    session = Session(ws, feed, metrics, org, user)
    async with hub.subscribe(org, user, session.request_close) as sub:
        unread = await feed.unread_count(org, user)
        await session.send(orjson.dumps({"type": "welcome", "org": org, "user": user, "unread": unread}).decode())
        last = await session.replay(after)
        tasks = [
            asyncio.create_task(session.write_live(sub.queue, last)),
            asyncio.create_task(session.read_client()),
            asyncio.create_task(session._closed.wait()),
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
            await _close(ws, session.close_code, "resume with after")
