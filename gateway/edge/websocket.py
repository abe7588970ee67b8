"""uvicorn's sans-I/O WebSocket protocol, lighter per connection.

Per connection, uvicorn's ``WebSocketsSansIOProtocol`` keeps an ``asyncio.Queue`` for the app's
``receive`` and an ``asyncio.Event`` for write flow control: five ``collections.deque`` objects
(~0.75 KiB each) that an idle connection never uses. :class:`Inbox` and :class:`Flag` do the same
jobs with a list and futures created only while someone waits. The handshake's request and
response objects (headers included) are dropped once the handshake is done. A ping left
unanswered closes with 1013 (SPEC: the client resumes with ``after``), where uvicorn says 1011.
Everything else is uvicorn's, unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.logging import TRACE_LOG_LEVEL
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class Inbox:
    """A FIFO with the part of ``asyncio.Queue`` uvicorn uses: ``put_nowait``, ``get``, ``empty``."""

    __slots__ = ("_getters", "_items")

    def __init__(self) -> None:
        self._items: list[ASGIReceiveEvent] = []
        self._getters: list[asyncio.Future[None]] | None = None

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        self._items.append(item)
        getters, self._getters = self._getters, None
        for fut in getters or ():
            if not fut.done():
                fut.set_result(None)

    async def get(self) -> ASGIReceiveEvent:
        while not self._items:
            fut = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = []
            self._getters.append(fut)
            try:
                await fut
            finally:
                if self._getters is not None and fut in self._getters:
                    self._getters.remove(fut)
        return self._items.pop(0)


class Flag:
    """An event with ``set``, ``clear``, ``is_set`` and ``wait``; a future per waiter, only while waiting."""

    __slots__ = ("_value", "_waiters")

    def __init__(self, value: bool = False) -> None:
        self._value = value
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        self._value = True
        waiters, self._waiters = self._waiters, None
        for fut in waiters or ():
            if not fut.done():
                fut.set_result(None)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        fut = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(fut)
        try:
            await fut
        finally:
            if self._waiters is not None and fut in self._waiters:
                self._waiters.remove(fut)
        return True


# The close code of a connection that left a ping unanswered (gateway.live.protocol.CloseCode
# TRY_AGAIN_LATER; that module sits in a higher layer).
PING_TIMEOUT_CODE = 1013


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """``WebSocketsSansIOProtocol`` with :class:`Inbox` and :class:`Flag` for its queue and event,
    closing a connection that does not answer a ping with :data:`PING_TIMEOUT_CODE`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Flag(True)  # type: ignore[assignment]

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if self.handshake_complete and message["type"] == "websocket.accept":
            # Read only while handshaking (handle_connect, and send() for the accept).
            self.request = self.response = None  # type: ignore[assignment]

    def keepalive_timeout(self) -> None:
        """uvicorn's own, but the close code: 1013 "try again later" (uvicorn: 1011)."""
        self.pong_timer = None
        self.pending_ping_payload = None
        if self.close_sent or self.transport.is_closing():
            return
        if self.logger.level <= TRACE_LOG_LEVEL:
            prefix = f"{self.client[0]}:{self.client[1]} - " if self.client else ""
            self.logger.log(TRACE_LOG_LEVEL, "%sWebSocket keepalive ping timeout", prefix)
        self.conn.fail(PING_TIMEOUT_CODE, "ping unanswered; resume with after")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.transport.close()
