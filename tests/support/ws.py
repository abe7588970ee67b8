"""The /ws protocol from the client side: a `websockets` connection that collects frames."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from tests.support.api import Gateway
from tests.support.timing import FACTOR


class Feed:
    """A `websockets` client speaking the /ws protocol, collecting frames. Every feed is remembered
    until :func:`close_feeds` (an autouse fixture) closes it, so a test that fails half-way does not
    leak its socket into the next test as a ResourceWarning."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        _OPEN.append(self)

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout * FACTOR)
        frame: dict[str, Any] = json.loads(raw)
        self.frames.append(frame)
        return frame

    async def until(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout * FACTOR
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"no matching frame; got {self.frames[-5:]}")
            frame = await self.recv(left / FACTOR)
            if pred(frame):
                return frame

    async def signal(self, signal_type: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
        frame = await self.until(
            lambda f: f["type"] == "signal" and (signal_type is None or f["signal"]["type"] == signal_type), timeout
        )
        sig: dict[str, Any] = frame["signal"]
        return sig

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))


_OPEN: list[Feed] = []


async def close_feeds() -> None:
    """Close every feed a test left open (on the test's own event loop)."""
    while _OPEN:
        await _OPEN.pop().ws.close()


async def open_feed(gw: Gateway, token: str, after: str | None = None) -> tuple[Feed, dict[str, Any]]:
    """Connect, say hello, return the client and the welcome frame (replay frames follow)."""
    ws = await websockets.connect(gw.ws_url, open_timeout=5 * FACTOR)
    feed = Feed(ws)
    hello: dict[str, Any] = {"type": "hello", "token": token}
    if after is not None:
        hello["after"] = after
    await feed.send(hello)
    welcome = await feed.recv()
    assert welcome["type"] == "welcome", welcome
    return feed, welcome


async def live_feed(gw: Gateway, token: str) -> Feed:
    feed, _ = await open_feed(gw, token)
    assert (await feed.recv())["type"] == "live"
    return feed
