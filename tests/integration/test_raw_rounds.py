"""The router's raw-RESP round trips against a real Redis: replies decoded as redis-py would, an
error in place of its command's reply, NOSCRIPT recovery, XACK sent with the next read; and the
feed write's retention bookkeeping, which skips looking at a feed's first entry when it cannot
have moved."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from gateway.config import SignalsConfig
from gateway.domain import streamid
from gateway.store import keys
from gateway.store.event_log import EventLog
from gateway.store.feed import Feed, FeedWrite
from gateway.store.pipeline import Round, execute
from gateway.store.scripts import load_scripts
from tests.support.redis import RedisServer


async def test_replies_in_order_with_callbacks_and_errors_in_place(fresh_redis: RedisServer) -> None:
    redis = aioredis.from_url(fresh_redis.url, decode_responses=True)
    try:
        await redis.hset("h", mapping={"a": "1", "名": "値"})
        await redis.set("s", "x")
        commands = [("HGETALL", "h"), ("HGETALL", "s"), ("EXPIRE", "h", 60), ("GET", "s")]
        replies = await execute(redis, commands)
        assert replies[0] == {"a": "1", "名": "値"}  # redis-py's HGETALL callback: a dict
        assert isinstance(replies[1], ResponseError) and "WRONGTYPE" in str(replies[1])
        assert replies[2] is True and replies[3] == "x"  # EXPIRE's callback: a bool
        raw = await execute(redis, [("HGETALL", "h")], callbacks=False)
        assert sorted(raw[0]) == sorted(["a", "1", "名", "値"])
        assert await redis.ping()  # the connection went back to the pool in a clean state
    finally:
        await redis.aclose()


async def test_a_round_reloads_flushed_scripts_and_raises_other_errors(fresh_redis: RedisServer) -> None:
    redis = aioredis.from_url(fresh_redis.url, decode_responses=True)
    scripts = load_scripts(redis)
    try:
        await redis.script_flush()
        first = Round(redis)
        found = first.slot(
            first.script(scripts.find_contacts, ["c", "e", "p"], ["id", "nobody"]), lambda replies: replies[0]
        )
        await first.run()
        assert found.value == [None]
        second = Round(redis)
        await redis.set("s", "x")
        second.command("HGETALL", "s")
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await second.run()
    finally:
        await redis.aclose()


async def test_read_acknowledges_the_routed_batch_first(fresh_redis: RedisServer) -> None:
    """``read(acked=...)``: the previous batch is acknowledged in the same round trip, before the read."""
    redis = aioredis.from_url(fresh_redis.url, decode_responses=True)
    log = EventLog(redis, load_scripts(redis))
    try:
        await log.ensure_groups()
        org = "acked-org"
        appended = [await log.append(org, "webhook", {"i": i}) for i in range(3)]
        partition = appended[0].partition
        stream = keys.events_stream(partition)
        first = await log.read(partition, "c1", 2, 10)
        assert [e[0] for e in first] == [a.id for a in appended[:2]]
        assert first[0][1]["org"] == org and first[0][1]["source"] == "webhook"
        second = await log.read(partition, "c1", 2, 10, acked=[e[0] for e in first])
        assert [e[0] for e in second] == [appended[2].id]
        pending = await redis.xpending_range(stream, keys.ROUTER_GROUP, "-", "+", 10)
        assert [p["message_id"] for p in pending] == [appended[2].id]
        assert await asyncio.wait_for(log.read(partition, "c1", 2, 50, acked=[appended[2].id]), 5) == []
        assert (await redis.xpending(stream, keys.ROUTER_GROUP))["pending"] == 0
    finally:
        await redis.aclose()


async def test_feed_floor_unread_and_state_follow_every_trim(fresh_redis: RedisServer) -> None:
    """apply_signal looks at the feed's first entry only when it can have moved (a trim, an empty
    feed): after cap trims (MAXLEN) and grouped repeats, the noted first entry is the feed's, the
    floor too, and no unread mark or signal state older than it is left — also of trimmed signals
    written in the same millisecond as the new first entry (12 signals in one call: one millisecond)."""
    redis = aioredis.from_url(fresh_redis.url, decode_responses=True)
    cfg = SignalsConfig(history_min_entries=3, history_days=1, history_max_entries=5, group_window_seconds=600)
    feed = Feed(redis, load_scripts(redis), cfg)
    org, user = "floor-org", "u1"
    await redis.hset(keys.users(org), user, "{}")
    try:
        for call in range(4):
            writes = [
                FeedWrite(user, f"ev{call}-{i}", "desk.ticket", "c" if i % 3 == 0 else None, {"n": i})
                for i in range(12)
            ]
            batch = Round(redis)
            results = feed.queue_writes(batch, org, writes)
            await batch.run()
            assert {r.status for r in results.value} <= {"new", "grouped"}
            entries = [e for e, _ in await redis.xrange(keys.feed(org, user))]
            assert len(entries) == 5
            meta = await redis.hgetall(keys.feed_meta(org, user))
            assert meta["first"] == meta["floor"] == entries[0], call
            first = streamid.score(entries[0])
            unread = await redis.zrange(keys.unread(org, user), 0, -1, withscores=True)
            assert [m for m, s in unread if s < first] == [], (call, entries)
            state = await redis.hkeys(keys.signal_state(org, user))
            assert [f for f in state if streamid.score(f.split("#")[0]) < first] == [], (call, entries)
    finally:
        await redis.aclose()


async def test_one_call_keeps_each_users_existence_and_switches_apart(fresh_redis: RedisServer) -> None:
    """apply_signal remembers within a call whether a user exists and which types they switched
    off: a call mixing a user with one type off, another type on, and a missing user, twice over,
    writes exactly the signals it must."""
    redis = aioredis.from_url(fresh_redis.url, decode_responses=True)
    feed = Feed(redis, load_scripts(redis), SignalsConfig(group_window_seconds=0))
    org = "switch-org"
    await redis.hset(keys.users(org), mapping={"u1": "{}", "u3": "{}"})
    await redis.hset(keys.settings(org, "u1"), "desk.ticket", "0")
    try:
        plan = [("u1", "desk.ticket"), ("u1", "survey.answered"), ("u2", "survey.answered"), ("u3", "desk.ticket")]
        writes = [FeedWrite(u, f"ev{i}", t, None, {"type": t}) for i, (u, t) in enumerate(plan * 2)]
        batch = Round(redis)
        results = feed.queue_writes(batch, org, writes)
        await batch.run()
        assert [r.status for r in results.value] == ["off", "new", "no_user", "new"] * 2
        assert await redis.xlen(keys.feed(org, "u1")) == 2 and await redis.xlen(keys.feed(org, "u3")) == 2
        assert not await redis.exists(keys.feed(org, "u2"))
    finally:
        await redis.aclose()
