"""What an open /ws connection costs the gateway: one task while idle, none of the hub's besides.

The gateway runs in this test's event loop (the real app and uvicorn server, on the session's
Redis) so that its tasks can be counted; the clients run in a thread with their own loop, so
their tasks are not. Live frames are published on the users' real channels in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import threading
import time
from collections.abc import AsyncIterator, Callable

import pytest
import uvicorn
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from gateway.app import create_app
from gateway.config import load_config
from gateway.devtools.net import free_port
from gateway.edge.limits import EdgeHttpProtocol
from gateway.edge.server import uvicorn_config
from gateway.store import keys
from tests.support.api import Gateway, OrgCtx
from tests.support.processes import ADMIN_TOKEN, SECRET_KEY
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import live_feed

CLIENTS = 12  # over the org's two users


@contextlib.asynccontextmanager
async def _gateway_here(redis_url: str) -> AsyncIterator[Gateway]:
    """A gateway node in this process and loop, sharing ``redis_url`` with the session's gateway."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "SIGNALGATE_GATEWAY_PORT": str(port),
        "SIGNALGATE_GATEWAY_PUBLIC_URL": base,
        "SIGNALGATE_GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
        "SIGNALGATE_GATEWAY_SECRET_KEY": SECRET_KEY,
        "SIGNALGATE_GATEWAY_LOG_LEVEL": "warning",
    }
    config = load_config(None, env)
    threshold = gc.get_threshold()  # the app's lifespan tunes the collector of its (this) process
    server = uvicorn.Server(uvicorn_config(create_app(config, redis_url), config.gateway, nofile=4096))
    serving = asyncio.create_task(server.serve())
    try:
        await wait_for(lambda: server.started or serving.done(), 20 * FACTOR)
        assert not serving.done(), "the in-process gateway did not start"
        yield Gateway(base_url=base, admin_token=ADMIN_TOKEN, secret_key=SECRET_KEY.encode())
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 20 * FACTOR)
        gc.unfreeze()
        gc.set_threshold(*threshold)


class Fleet:
    """``CLIENTS`` live connections held open by a thread with its own event loop."""

    def __init__(self, gw: Gateway, tokens: list[str]) -> None:
        self.gw, self.tokens = gw, tokens
        self.live = threading.Event()
        self.got_frame = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._clients())
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.live.set()
            self.got_frame.set()

    async def _clients(self) -> None:
        feeds = [await live_feed(self.gw, token) for token in self.tokens]
        self.live.set()
        frames = await asyncio.gather(*(f.recv() for f in feeds))
        assert all(f == {"type": "unread", "count": 7} for f in frames), frames
        self.got_frame.set()
        while not self.release.is_set():  # a plain thread event: polled
            await asyncio.sleep(0.02)
        for feed in feeds:
            await feed.ws.close()

    async def wait(self, flag: threading.Event) -> None:
        assert await asyncio.to_thread(flag.wait, 30 * FACTOR), "the clients did not get there"
        assert self.error is None, repr(self.error)


def _server_tasks() -> int:
    return len(asyncio.all_tasks())


async def _settled(count: Callable[[], int], expected: int) -> int:
    """``count()`` once it reached ``expected`` (or after a few seconds, whatever it is then)."""
    with contextlib.suppress(TimeoutError):
        await wait_for(lambda: count() == expected, 3 * FACTOR)
    return count()


async def _publish_unread(redis_url: str, org_id: str, users: list[str]) -> None:
    """An ``unread`` frame (count 7, what :class:`Fleet` waits for) on each user's live channel."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        frame = "\n" + json.dumps({"type": "unread", "count": 7}, separators=(",", ":"))
        for user in users:
            await redis.publish(keys.live_channel(org_id, user), frame)
    finally:
        await redis.aclose()


@pytest.mark.timeout(180)
async def test_an_idle_connection_is_one_task(redis_server: RedisServer, org: OrgCtx) -> None:
    """Idle live connections hold one task each (no reader/writer/close-watcher tasks, no queue);
    a live frame starts a writer that ends once the frame is written. The HTTP protocol object a
    WebSocket upgrades from is freed at once (not left in a reference cycle for the collector)."""
    async with _gateway_here(redis_server.url) as gw:
        await asyncio.sleep(0.2)
        base = _server_tasks()
        users = sorted(org.tokens)
        fleet = Fleet(gw, [org.tokens[users[i % len(users)]] for i in range(CLIENTS)])
        gc.disable()  # what the upgrades leave must be freed at once, not left for the collector
        fleet.thread.start()
        try:
            await fleet.wait(fleet.live)
            upgraded = sum(isinstance(o, EdgeHttpProtocol) for o in gc.get_objects())
            gc.enable()
            assert upgraded == 0, f"{upgraded} HTTP protocol objects outlived their upgrade to WebSocket"
            idle = await _settled(_server_tasks, base + CLIENTS)
            assert idle - base == CLIENTS, f"{idle - base} server tasks for {CLIENTS} idle connections"
            await _publish_unread(redis_server.url, org.id, users)
            await fleet.wait(fleet.got_frame)
            after = await _settled(_server_tasks, base + CLIENTS)
            assert after - base == CLIENTS, f"{after - base} server tasks after the frame was written"
        finally:
            gc.enable()
            fleet.release.set()
            await asyncio.to_thread(fleet.thread.join, 30 * FACTOR)
        assert await _settled(_server_tasks, base) == base  # nothing left behind by closed connections


BURST = 150  # connections: over the pacer's minimum (gateway.live.gcpace.MIN_NEW)


@pytest.mark.timeout(180)
async def test_a_burst_of_connections_is_collected_at_the_first_quiet_moment(
    redis_server: RedisServer, org: OrgCtx
) -> None:
    """A burst of connections is followed by the full collection it calls for once nothing is
    delivered for a moment, run by the gateway's loop — not seconds later, whenever the
    interpreter's counters say, in the middle of traffic (a 25–45 ms stop with 1,000 sockets)."""
    main = threading.get_ident()
    full: list[float] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2 and threading.get_ident() == main:
            full.append(time.monotonic())

    async with _gateway_here(redis_server.url) as gw:
        await asyncio.sleep(0.2)
        users = sorted(org.tokens)
        fleet = Fleet(gw, [org.tokens[users[i % len(users)]] for i in range(BURST)])
        gc.callbacks.append(seen)
        fleet.thread.start()
        try:
            await fleet.wait(fleet.live)
            live_at = time.monotonic()
            await wait_for(lambda: any(t >= live_at for t in full), 5)
            collected = len(full)
            await asyncio.sleep(1.5)  # quiet still: nothing new to collect, no second one
            assert len(full) == collected, f"{len(full) - collected} more full collections while idle"
            await _publish_unread(redis_server.url, org.id, users)  # lets the clients finish and close
            await fleet.wait(fleet.got_frame)
        finally:
            gc.callbacks.remove(seen)
            fleet.release.set()
            await asyncio.to_thread(fleet.thread.join, 30 * FACTOR)


async def test_no_permessage_deflate(gateway: Gateway, org: OrgCtx) -> None:
    """A client offering permessage-deflate (as every browser does) gets plain frames: no zlib
    compressor and decompressor held per socket."""
    feed = await live_feed(gateway, org.tokens["u1"])
    try:
        assert feed.ws.response is not None
        assert feed.ws.response.headers.get("Sec-WebSocket-Extensions") is None
        assert not feed.ws.protocol.extensions
    finally:
        await feed.ws.close()


async def test_a_client_frame_over_the_limit_closes_1009(gateway: Gateway, org: OrgCtx) -> None:
    """A client frame larger than the body limit (64 KiB here) is refused with 1009, not buffered;
    a read of 1,000 ids still fits."""
    feed = await live_feed(gateway, org.tokens["u1"])
    try:
        ids = [f"{1_700_000_000_000 + i}-{i}" for i in range(1000)]
        await feed.send({"type": "read", "ids": ids})
        await feed.send({"type": "ping"})
        assert (await feed.until(lambda f: f["type"] == "pong"))["type"] == "pong"
        await feed.send({"type": "ping", "pad": "x" * 100_000})
        with pytest.raises(ConnectionClosed):
            await feed.until(lambda f: False)
        assert feed.ws.close_code == 1009
    finally:
        await feed.ws.close()
