"""/ws while Redis is away: a hello is closed with 1013 (retry later), and works once Redis is back."""

from __future__ import annotations

import asyncio
import json
import tempfile

import httpx
import websockets
from websockets.exceptions import ConnectionClosed

from tests.support.api import provision_org
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR
from tests.support.ws import live_feed


async def _hello(url: str, token: str) -> tuple[int | None, str | None]:
    """Say hello; the close code if the server closed, else None and the first frame's type."""
    async with websockets.connect(url, open_timeout=5 * FACTOR) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        try:
            first = await asyncio.wait_for(ws.recv(), 10 * FACTOR)
        except ConnectionClosed:
            return ws.close_code, None
        return None, json.loads(first)["type"]


async def test_hello_during_redis_outage_closes_1013_and_works_after(procs: Processes) -> None:
    """Redis stopped: a hello gets close 1013 (not a dropped socket), an open socket 1013; restarted: hello works."""
    server = RedisServer(data_dir=tempfile.mkdtemp(prefix="sg-outage-"))
    try:
        gw, _ = procs.serve(server.url)
        async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
            org = await provision_org(client, gw, "outage")
        token = org.tokens["u1"]
        open_before = await live_feed(gw, token)
        server.stop()
        try:
            while True:
                await asyncio.wait_for(open_before.ws.recv(), 10 * FACTOR)
        except ConnectionClosed:
            assert open_before.ws.close_code == 1013
        for _ in range(3):
            assert await _hello(gw.ws_url, token) == (1013, None)
        server.start()  # same port and data dir: its AOF keeps the data
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15 * FACTOR
        while (outcome := await _hello(gw.ws_url, token)) != (None, "welcome"):
            assert outcome == (1013, None), outcome  # retry later, until this node's live feed is back
            assert loop.time() < deadline, "hello still refused after Redis came back"
            await asyncio.sleep(0.2)
    finally:
        server.stop()
