"""uvicorn's httptools protocol with two bounds it lacks: header read time and open connections.

uvicorn closes idle keep-alive connections, but a connection that sends its request headers one
byte at a time (slowloris) is never timed out, and it accepts connections until the process runs
out of file descriptors — then every accept fails, ``/healthz`` included. Here:

- **Header timeout.** A deadline is armed when a connection opens and again when a response
  completes; only complete request headers disarm it. When it passes, the connection gets a 408,
  its sending side is shut and it is closed after a short linger (what the client still trickles
  is read and dropped meanwhile, so the kernel does not answer it with a reset that could destroy
  the 408 before the client read it). WebSocket upgrades disarm it too (their headers are complete), so a hello is
  then bounded by the app's own ``hello_timeout``.
- **Connection cap.** Past ``max_connections`` open connections (HTTP and WebSocket alike: both
  sit in uvicorn's ``server_state.connections``), a new connection is answered 503 at once and
  closed after a short linger, so the client reads the answer instead of a reset.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from gateway.edge.responses import HEADER_TIMEOUT, OVERLOADED

# How long a refused connection stays open after its 503 (reading and dropping what the client
# still sends, so the kernel does not answer its request with a reset that hides the 503) ...
SHED_LINGER_SECONDS = 0.5
# ... while fewer than this many linger: in a flood, lingering sockets would hold the descriptors
# the cap is there to save, so past it a refused connection lingers only a moment — long enough
# for the loop to read (and drop) the request the client sent at once, which a close would leave
# unread and so turn into a reset that can destroy the 503 before the client reads it.
SHED_MAX_LINGERING = 64
SHED_BRIEF_LINGER_SECONDS = 0.05


class EdgeHttpProtocol(HttpToolsProtocol):
    """One HTTP connection; the bounds are class attributes set by :func:`edge_protocol`."""

    header_timeout: ClassVar[float] = 10.0
    max_connections: ClassVar[int] = 10000
    lingering: ClassVar[int] = 0  # refused connections waiting out their linger (per server class)

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._header_due: float | None = None  # when the pending request headers are due (loop time)
        self._header_timer: asyncio.TimerHandle | None = None
        self._shed = False
        self._timed_out = False  # the 408 is sent: lingering until closed

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.max_connections:
            self._shed = True
            self.transport = transport
            transport.write(OVERLOADED)
            if not transport.can_write_eof():
                transport.close()
                return
            transport.write_eof()
            if self.lingering >= SHED_MAX_LINGERING:
                self.loop.call_later(SHED_BRIEF_LINGER_SECONDS, transport.close)
                return
            type(self).lingering += 1
            self.loop.call_later(SHED_LINGER_SECONDS, self._end_linger)
            return
        super().connection_made(transport)
        self._arm_header_deadline()

    def _end_linger(self) -> None:
        type(self).lingering -= 1
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._shed or self._timed_out:
            return  # the 503 / 408 is sent; what the client still says is dropped
        super().data_received(data)

    def eof_received(self) -> None:
        if self._shed or self._timed_out:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._drop_header_deadline()
        if self._shed:
            return
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        super().handle_websocket_upgrade()
        self._drop_header_deadline()  # its timer would keep this object alive for a while
        # The socket belongs to the WebSocket protocol now. This object and its parser refer to
        # each other: left so, every upgrade would leave that cycle (~20 objects, a few KiB) for
        # the garbage collector instead of freeing it here — 1,000 clients connecting at once
        # held ~4 KiB each of such garbage in the gateway's resident memory.
        self.parser = None  # type: ignore[assignment]

    # -- parser callbacks -------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_deadline()  # a pipelined request: measured from its first byte

    def on_headers_complete(self) -> None:
        self._disarm_header_deadline()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Idle again (uvicorn armed its keep-alive timer, no pipelined request started): the next
        # request's headers are due within the timeout, however the client trickles them.
        if self.timeout_keep_alive_task is not None:
            self._disarm_header_deadline()
            self._arm_header_deadline()

    # -- the deadline -----------------------------------------------------------------------
    # Armed and disarmed once per request on a keep-alive connection: a timer scheduled and
    # cancelled each time cost the hot ingest paths a few per cent of their CPU. One timer per
    # connection instead, which, when it fires, looks at the current deadline: none (headers
    # complete) ends it, a later one (re-armed since) schedules it again for then.
    def _arm_header_deadline(self) -> None:
        if self._header_due is None:
            self._header_due = self.loop.time() + self.header_timeout
            if self._header_timer is None:
                self._header_timer = self.loop.call_at(self._header_due, self._header_check)

    def _disarm_header_deadline(self) -> None:
        self._header_due = None

    def _drop_header_deadline(self) -> None:
        self._header_due = None
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_check(self) -> None:
        self._header_timer = None
        due = self._header_due
        if due is None:
            return
        if due - self.loop.time() > 0.001:  # re-armed since: wait for that deadline
            self._header_timer = self.loop.call_at(due, self._header_check)
            return
        self._header_due = None
        if not self.transport.is_closing():
            self.transport.write(HEADER_TIMEOUT)
            if not self.transport.can_write_eof():
                self.transport.close()
                return
            self._timed_out = True
            self.transport.write_eof()
            self.loop.call_later(SHED_LINGER_SECONDS, self.transport.close)


def edge_protocol(*, header_timeout: float, max_connections: int) -> type[EdgeHttpProtocol]:
    """The protocol class to give ``uvicorn.Config(http=...)``, with these bounds."""
    attrs = {"header_timeout": header_timeout, "max_connections": max_connections, "lingering": 0}
    return type("BoundedEdgeHttpProtocol", (EdgeHttpProtocol,), attrs)
