"""Integration tests: every WebSocket feed a test opened is closed at its end, passed or failed;
``redis_client``, an asyncio client of the session Redis (decoded replies) for the store-level tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from tests.support.redis import RedisServer
from tests.support.ws import close_feeds


@pytest.fixture(autouse=True)
async def _close_feeds() -> AsyncIterator[None]:
    yield
    await close_feeds()


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()
