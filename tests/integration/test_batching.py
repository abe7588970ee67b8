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


async def test_errors_stay_with_their_command_and_a_killed_connection_recovers(fresh_redis: RedisServer) -> None:
    """A script error fails only its own caller; after every connection is killed the next batch
    reconnects and succeeds (what redis-py's pipeline did, with the batch written directly)."""
    redis = aioredis.from_url(fresh_redis.url, decode_responses=True)
    log = EventLog(redis, load_scripts(redis))
    # The stream key holds a string: XADD in the script fails for that org only.
    await redis.set(keys.events_stream(keys.partition_of("bad-org")), "not a stream")
    good_org = next(f"ok-{i}" for i in range(100) if keys.partition_of(f"ok-{i}") != keys.partition_of("bad-org"))
    results = await asyncio.gather(
        log.append(good_org, "webhook", {"n": 1}),
        log.append("bad-org", "webhook", {"n": 2}),
        log.append(good_org, "webhook", {"n": 3}),
        return_exceptions=True,
    )
    assert isinstance(results[1], aioredis.ResponseError)
    assert not isinstance(results[0], BaseException) and not isinstance(results[2], BaseException)
    assert await redis.xlen(keys.events_stream(keys.partition_of(good_org))) == 2
    admin = aioredis.from_url(fresh_redis.url, decode_responses=True)
    await admin.client_kill_filter(_type="normal", skipme=True)
    await admin.aclose()
    again = await asyncio.gather(*(log.append(good_org, "webhook", {"n": i}) for i in range(4, 8)))
    assert len({r.id for r in again}) == 4
    await redis.aclose()
