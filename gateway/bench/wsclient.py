"""A fleet of WebSocket clients speaking the ``/ws`` protocol, as raw asyncio protocols.

Each client does the RFC 6455 handshake (no extensions, so frames arrive uncompressed), says
``hello`` (with ``after`` when resuming), answers pings, and counts what it receives: every signal
frame carries the event's ``data.seq`` (one per posted event) and ``data.t`` (send time, ns), so a
client can tell a lost event, a duplicate and the end-to-end latency. Written by hand instead of
with the ``websockets`` client so that a thousand clients on the same small machine cost as little
CPU as possible: the clients must not be what saturates.
"""

from __future__ import annotations

import asyncio
import base64
import os
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import orjson

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
# Frames bigger than this are refused: signals are small, the replay sends them one by one.
MAX_FRAME_BYTES = 1 << 20


class HandshakeError(Exception):
    """The server did not switch protocols."""


def mask_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame (FIN set, masked as RFC 6455 requires)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    key = os.urandom(4)
    repeated = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(n, "big") if n else b""
    return head + key + masked


def parse_frame(buf: bytearray, start: int) -> tuple[bool, int, bytes, int] | None:
    """``(fin, opcode, payload, next offset)`` for a whole server frame at ``start``, else None."""
    if len(buf) - start < 2:
        return None
    b0, b1 = buf[start], buf[start + 1]
    length = b1 & 0x7F
    pos = start + 2
    if length == 126:
        if len(buf) - pos < 2:
            return None
        length = int.from_bytes(buf[pos : pos + 2], "big")
        pos += 2
    elif length == 127:
        if len(buf) - pos < 8:
            return None
        length = int.from_bytes(buf[pos : pos + 8], "big")
        pos += 8
    if length > MAX_FRAME_BYTES:
        raise ValueError(f"frame of {length} bytes")
    if b1 & 0x80:  # servers never mask; tolerate it anyway
        key = bytes(buf[pos : pos + 4])
        pos += 4
        if len(buf) - pos < length:
            return None
        raw = bytes(buf[pos : pos + length])
        repeated = (key * (length // 4 + 1))[:length]
        payload = (int.from_bytes(raw, "big") ^ int.from_bytes(repeated, "big")).to_bytes(length, "big")
    else:
        if len(buf) - pos < length:
            return None
        payload = bytes(buf[pos : pos + length])
    return bool(b0 & 0x80), b0 & 0x0F, payload, pos + length


@dataclass
class Receipts:
    """What one client received, by event sequence number."""

    seqs: dict[int, int] = field(default_factory=dict)  # seq -> times received
    frames: int = 0
    unread_frames: int = 0
    gaps: int = 0


class WsClient(asyncio.Protocol):
    def __init__(self, fleet: Fleet, index: int, group: int, token: str, after: str | None) -> None:
        self.fleet = fleet
        self.index = index
        self.group = group
        self.token = token
        self.after = after
        self.cursor: str | None = after
        self.transport: asyncio.Transport | None = None
        self.receipts = fleet.receipts_of(index)
        self.live: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._buf = bytearray()
        self._pos = 0
        self._open = False
        self._fragments: list[bytes] = []
        self._key = base64.b64encode(os.urandom(16)).decode()

    # -- asyncio.Protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have the same API.
        self.transport = cast(asyncio.Transport, transport)
        f = self.fleet
        self.transport.write(
            f"GET {f.path} HTTP/1.1\r\nHost: {f.host_header}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {self._key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(1006)
        if not self.live.done():
            self.live.set_exception(ConnectionError(f"closed before live: {exc}"))

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if not self._open and not self._handshake():
            return
        try:
            self._frames()
        except ValueError:
            self.abort()

    # -- protocol -----------------------------------------------------------------------------
    def _handshake(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        status = bytes(self._buf[:12])
        if not status.startswith(b"HTTP/1.1 101"):
            if not self.live.done():
                self.live.set_exception(HandshakeError(bytes(self._buf[:80]).decode(errors="replace")))
            self.abort()
            return False
        del self._buf[: end + 4]
        self._open = True
        hello: dict[str, Any] = {"type": "hello", "token": self.token}
        if self.after:
            hello["after"] = self.after
        self.send_frame(OP_TEXT, orjson.dumps(hello))
        return True

    def _frames(self) -> None:
        while (parsed := parse_frame(self._buf, self._pos)) is not None:
            fin, opcode, payload, self._pos = parsed
            if opcode == OP_CONT or (opcode in (OP_TEXT, OP_BINARY) and not fin):
                self._fragments.append(payload)
                if not fin:
                    continue
                payload, self._fragments = b"".join(self._fragments), []
                opcode = OP_TEXT
            if opcode == OP_TEXT:
                self.fleet.on_text(self, payload)
            elif opcode == OP_PING:
                self.send_frame(OP_PONG, payload)
            elif opcode == OP_CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                if not self.closed.done():
                    self.closed.set_result(code)
                self.send_frame(OP_CLOSE, payload[:2])
                if self.transport is not None:
                    self.transport.close()
        if self._pos > 65536 or self._pos == len(self._buf):
            del self._buf[: self._pos]
            self._pos = 0

    def send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(mask_frame(opcode, payload))

    def close(self) -> None:
        """A normal close (1000); the server answers and drops the connection."""
        self.send_frame(OP_CLOSE, (1000).to_bytes(2, "big"))

    def abort(self) -> None:
        """Drop the connection without a close frame, as a lost network would."""
        if self.transport is not None:
            self.transport.abort()


def _cursor_ms(cursor: object) -> int:
    """The millisecond part of a stream-id cursor (``"<ms>-<n>"``); 0 when it is not one."""
    head = cursor.split("-", 1)[0] if isinstance(cursor, str) else ""
    return int(head) if head.isdigit() else 0


class Fleet:
    """Every client of one agent process and what they received."""

    def __init__(self, host: str, port: int, path: str, tls: bool, host_header: str) -> None:
        self.host, self.port, self.path, self.tls = host, port, path, tls
        self.host_header = host_header
        self.clients: list[WsClient] = []
        self._receipts: dict[int, Receipts] = {}
        self.recording = False
        self.latencies_us: list[int] = []
        # The same deliveries split at the feed write (the frame's cursor is the feed entry id: its
        # millisecond part is Redis's clock at the write): post -> feed write, feed write -> client.
        self.routed_us: list[int] = []
        self.fanned_us: list[int] = []
        self.deliveries = 0
        self.last_receipt_ns = 0
        self.on_signal: Callable[[], None] | None = None

    def receipts_of(self, index: int) -> Receipts:
        return self._receipts.setdefault(index, Receipts())

    def reset(self) -> None:
        self._receipts.clear()
        for c in self.clients:
            c.receipts = self.receipts_of(c.index)
        self.latencies_us.clear()
        self.routed_us.clear()
        self.fanned_us.clear()
        self.deliveries = 0
        self.last_receipt_ns = 0

    def on_text(self, client: WsClient, payload: bytes) -> None:
        r = client.receipts
        r.frames += 1
        if payload.startswith(b'{"type":"unread"'):
            r.unread_frames += 1
            return
        msg = orjson.loads(payload)
        kind = msg.get("type")
        if kind == "signal":
            client.cursor = msg.get("cursor") or client.cursor
            data = (msg.get("signal") or {}).get("data") or {}
            seq = data.get("seq")
            if isinstance(seq, int):
                now = time.time_ns()
                r.seqs[seq] = r.seqs.get(seq, 0) + 1
                self.deliveries += 1
                self.last_receipt_ns = now
                if self.recording and isinstance(data.get("t"), int):
                    self.latencies_us.append((now - data["t"]) // 1000)
                    written_us = _cursor_ms(msg.get("cursor")) * 1000
                    if written_us:
                        self.routed_us.append(max(0, written_us - data["t"] // 1000))
                        self.fanned_us.append(max(0, now // 1000 - written_us))
                if self.on_signal is not None:
                    self.on_signal()
        elif kind == "live":
            if not client.live.done():
                client.live.set_result(time.monotonic())
        elif kind == "gap":
            r.gaps += 1

    async def connect(self, index: int, group: int, token: str, after: str | None) -> WsClient:
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context() if self.tls else None
        client = WsClient(self, index, group, token, after)
        await loop.create_connection(
            lambda: client, self.host, self.port, ssl=context, server_hostname=self.host if context else None
        )
        return client
