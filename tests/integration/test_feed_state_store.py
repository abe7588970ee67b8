"""The feed's state keys in a real Redis, through gateway.store.feed (no processes): retention
drops the state of trimmed signals, a snooze writes its due entry, a wake applies once, and a
resume with ``after`` replays the return."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from redis.asyncio import Redis

from gateway.config import SignalsConfig
from gateway.domain import streamid
from gateway.domain.feed_view import Filters, Page
from gateway.store import keys
from gateway.store.due import DueEntry, DueSet
from gateway.store.feed import SNOOZE, Feed, SnoozeInPast
from gateway.store.scripts import load_scripts


def _feed(redis: Redis, **cfg: int) -> Feed:
    return Feed(redis, load_scripts(redis), SignalsConfig(**cfg))


async def _write(feed: Feed, org: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        body = {"type": "desk.ticket", "title": str(i)}
        ids.append((await feed.write(org, "u1", uuid.uuid4().hex, "desk.ticket", None, body)).signal_id)
    return ids


async def test_retention_drops_state_of_trimmed_signals(redis_client: Redis) -> None:
    org = "ret-" + uuid.uuid4().hex[:8]
    feed = _feed(redis_client, history_min_entries=5, history_days=7, history_max_entries=10)
    ids = await _write(feed, org, 10)
    until = int(time.time() * 1000) + 3_600_000
    await feed.change(org, "u1", "archive", [ids[0], ids[3], ids[8]], None)
    await feed.change(org, "u1", "snooze", [ids[1], ids[9]], None, until)
    await redis_client.hset(keys.signal_acted(org, "u1"), mapping={ids[4]: "{}", ids[8]: "{}"})
    await _write(feed, org, 5)  # the cap (10) trims the first five
    first = (await redis_client.xrange(keys.feed(org, "u1"), count=1))[0][0]
    assert first == ids[5]
    assert await redis_client.zrange(keys.archived(org, "u1"), 0, -1) == [ids[8]]
    assert await redis_client.zrange(keys.snoozed(org, "u1"), 0, -1) == [ids[9]]
    assert await redis_client.zrange(keys.away_unread(org, "u1"), 0, -1) == [ids[8], ids[9]]
    assert await redis_client.hkeys(keys.signal_acted(org, "u1")) == [ids[8]]
    unread = await redis_client.zrange(keys.unread(org, "u1"), 0, -1)
    assert min(unread, key=streamid.parse) == ids[5]
    result = await feed.change(org, "u1", "unarchive", [ids[0], ids[8]], None)
    assert result.unknown == [ids[0]]


async def test_age_retention_keeps_the_newest_signals_not_entries(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SPEC: a feed keeps at least the last N signals (history_min_entries) or the retention age.
    Grouped repeats are feed entries too: 32 signals each repeated once are 64 entries, and an
    age trim keeps the newest 10 *signals* (20 entries), not 10 entries (5 signals)."""
    org = "ret-sig-" + uuid.uuid4().hex[:8]
    feed = _feed(redis_client, history_min_entries=10, history_days=1, history_max_entries=1000)
    real_time = time.time
    # "Now" two days ahead: every entry is older than the one-day retention (see test_ws_gap).
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 86_400)
    signals = []
    for i in range(32):  # retention looks every 64 entries
        body = {"type": "desk.ticket", "title": str(i)}
        first = await feed.write(org, "u1", uuid.uuid4().hex, "desk.ticket", f"c{i}", body)
        repeat = await feed.write(org, "u1", uuid.uuid4().hex, "desk.ticket", f"c{i}", body)
        assert (first.status, repeat.status, repeat.signal_id) == ("new", "grouped", first.signal_id)
        signals.append(first.signal_id)
    entries = await redis_client.xrange(keys.feed(org, "u1"))
    assert [e for e, fields in entries if fields["k"] == "n"] == signals[-10:]
    assert len(entries) == 20
    listed = await feed.signals(org, "u1", Page(None, None, 50), Filters(view="all"))
    assert [s["id"] for s in listed] == signals[-10:] and all(s["count"] == 2 for s in listed)


async def test_snooze_due_entry_wake_once_and_resume(redis_client: Redis) -> None:
    org = "wake-" + uuid.uuid4().hex[:8]
    feed = _feed(redis_client)
    a, b = await _write(feed, org, 2)
    cursor = await feed.cursor(org, "u1")
    now = int(time.time() * 1000)
    with pytest.raises(SnoozeInPast):
        await feed.change(org, "u1", "snooze", [a], None, now - 1)
    until = now + 60_000
    assert (await feed.change(org, "u1", "snooze", [a, b], None, until)).unread == 0
    due = DueSet(redis_client)
    pending = [p for p in await due.pending(until) if p.entry and p.entry.org == org]
    # The refused snooze left its due entry (written first, by design): it wakes nothing.
    assert [p.entry for p in pending] == [DueEntry(SNOOZE, org, "u1", now - 1), DueEntry(SNOOZE, org, "u1", until)]
    assert await feed.wake(org, "u1", now - 1) == 0
    pending = pending[1:]
    assert pending[0].partition == keys.partition_of(org)
    await feed.change(org, "u1", "snooze", [b], None, until + 1)
    assert await feed.wake(org, "u1", until) == 1
    assert await feed.wake(org, "u1", until) == 0  # a second waker: nothing
    assert await feed.unread_count(org, "u1") == 1
    replayed = [e async for e in feed.replay(org, "u1", cursor)]
    assert [(e.sid, e.read, e.placement.snoozed_until) for e in replayed] == [(a, False, None)]
    (listed_b,) = await feed.signals(org, "u1", Page(None, None, 50), Filters(view="snoozed"))
    assert listed_b["id"] == b and listed_b["snoozed_until"] is not None
    # The return is not a group member: the events of `a` are its original only.
    found = await feed.events(org, "u1", a, 10)
    assert found is not None and found[1] == 1 and len(found[0]) == 1


async def test_repeats_group_within_the_window_only(redis_client: Redis) -> None:
    """SPEC: repeats of one type for one contact within the window update one signal's count; after
    the window (counted from the first) a repeat is a new signal."""
    org = "win-" + uuid.uuid4().hex[:8]
    feed = _feed(redis_client, group_window_seconds=1)
    body = {"type": "desk.ticket", "title": "t"}
    first = await feed.write(org, "u1", uuid.uuid4().hex, "desk.ticket", "c1", body)
    again = await feed.write(org, "u1", uuid.uuid4().hex, "desk.ticket", "c1", body)
    other = await feed.write(org, "u1", uuid.uuid4().hex, "desk.ticket", "c2", body)
    assert (first.status, again.status, again.signal_id, other.status) == ("new", "grouped", first.signal_id, "new")
    await asyncio.sleep(1.2)
    later = await feed.write(org, "u1", uuid.uuid4().hex, "desk.ticket", "c1", body)
    assert later.status == "new" and later.signal_id != first.signal_id
