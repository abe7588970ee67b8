"""The frames the Lua scripts PUBLISH are byte for byte the ones gateway.live.protocol builds."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson

from gateway.config import load_config
from gateway.live.protocol import signal_frame, state_frame, unread_frame
from gateway.services import Services, open_services
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR


async def _published(services: Services, channel: str, count: int, ready: asyncio.Event) -> list[str]:
    """The next ``count`` messages on ``channel``, as the hub receives them (5 s at most)."""
    sub = services.live.subscription()
    await sub.subscribe(channel)
    got: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5 * FACTOR
    try:
        while len(got) < count and loop.time() < deadline:
            msg = await sub.get_message(timeout=0.2)
            if msg is not None and msg["type"] == "subscribe":
                ready.set()
            elif msg is not None and msg["type"] == "message":
                got.append(msg["data"])
    finally:
        await sub.aclose()
    return got


async def test_feed_write_and_mark_read_publish_protocol_frames(redis_server: RedisServer) -> None:
    """A new signal, a grouped repeat and a read mark publish exactly protocol.signal_frame/state_frame/unread_frame."""
    org, user = "pin-" + uuid.uuid4().hex[:8], "u1"
    async with open_services(load_config(None, {}), redis_server.url, secrets=False) as services:
        channel = services.live.channel(org, user)
        body: dict[str, Any] = {"type": "sms.received", "org": org, "user": user, "title": 'こんにちは \\ "quoted"'}
        stored = orjson.dumps(body).decode()
        subscribed = asyncio.Event()
        listening = asyncio.create_task(_published(services, channel, 6, subscribed))
        await asyncio.wait_for(subscribed.wait(), 5 * FACTOR)
        first = await services.feed.write(org, user, "ev-1", "sms.received", "c1", body)
        repeat = await services.feed.write(org, user, "ev-2", "sms.received", "c1", body)
        unread = await services.feed.mark_read(org, user, [first.signal_id], None)
        frames = await listening
        entries = [entry async for entry in services.feed.replay(org, user, "0-0")]

    assert (first.status, repeat.status, unread) == ("new", "grouped", 0)
    cursors = [e.cursor for e in entries]
    assert [e.sid for e in entries] == [first.signal_id, first.signal_id]
    assert frames == [
        f"{cursors[0]}\n" + signal_frame(cursors[0], first.signal_id, 1, stored, read=False),
        "\n" + unread_frame(1),
        f"{cursors[1]}\n" + signal_frame(cursors[1], first.signal_id, 2, stored, read=False),
        "\n" + unread_frame(1),
        "\n" + state_frame([first.signal_id], {"read": True}),
        "\n" + unread_frame(0),
    ]
