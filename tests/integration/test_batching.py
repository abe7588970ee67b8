"""Auto-pipelined event appends against a real Redis: coalescing, per-call results, NOSCRIPT recovery."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from gateway.store import keys
from gateway.store.event_log import EventLog
from gateway.store.scripts import load_scripts
from tests.support.redis import RedisServer


async def test_concurrent_appends_each_get_their_own_durable_result(fresh_redis: RedisServer) -> None:
    """200 concurrent appends (50 of them repeats) → 150 entries, each caller told new or duplicate correctly."""
    redis = aioredis.from_url(fresh_redis.url, decode_responses=True)
    log = EventLog(redis, load_scripts(redis))
    calls = [log.append("batch-org", "webhook", {"i": i}, dedupe_id=f"id-{i % 150}") for i in range(200)]
    results = await asyncio.gather(*calls)
    assert sum(not r.duplicate for r in results) == 150
    assert sum(r.duplicate for r in results) == 50
    stream = keys.events_stream(keys.partition_of("batch-org"))
    assert await redis.xlen(stream) == 150
    # A duplicate reports the id of the first append of the same dedupe id.
    by_id = {r.id for r in results if not r.duplicate}
    assert all(r.id in by_id for r in results if r.duplicate)
    await redis.aclose()


async def test_script_cache_flush_is_recovered(fresh_redis: RedisServer) -> None:
    """After SCRIPT FLUSH (a Redis restart), the next batch reloads the script and succeeds."""
    redis = aioredis.from_url(fresh_redis.url, decode_responses=True)
    log = EventLog(redis, load_scripts(redis))
    await log.append("flush-org", "webhook", {"n": 1})
    await redis.script_flush()
    results = await asyncio.gather(*(log.append("flush-org", "webhook", {"n": i}) for i in range(5)))
    assert len({r.id for r in results}) == 5
    assert await redis.xlen(keys.events_stream(keys.partition_of("flush-org"))) == 6
    await redis.aclose()
