"""`gap` on resume is exact at the retention boundary: a client whose cursor is the newest trimmed
id lost nothing (no `gap`); one entry older and it lost that entry (`gap`)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import redis as redis_sync
from redis.asyncio import Redis

from gateway.config import SignalsConfig
from gateway.live.protocol import missed_history
from gateway.store import keys
from gateway.store.feed import Feed
from gateway.store.scripts import load_scripts
from tests.support.api import post_event, provision_org
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.ws import live_feed, open_feed


async def _resume(gw: Any, token: str, after: str) -> tuple[bool, list[str]]:
    """Resume from ``after``: whether `gap` came, and the cursors replayed before `live`."""
    feed, _ = await open_feed(gw, token, after=after)
    try:
        gap, cursors = False, list[str]()
        while (frame := await feed.recv())["type"] != "live":
            if frame["type"] == "gap":
                assert not cursors, "gap must come before the replay"
                gap = True
            elif frame["type"] == "signal":
                cursors.append(frame["cursor"])
        return gap, cursors
    finally:
        await feed.ws.close()


async def test_resume_at_the_newest_trimmed_id_is_no_gap(fresh_redis: RedisServer, procs: Processes) -> None:
    """Feed capped at 20 (MAXLEN): resuming from the newest trimmed cursor replays all retained, no gap."""
    gw, _ = procs.serve(
        fresh_redis.url,
        with_router=True,
        SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS="0",
        SIGNALGATE_SIGNALS_HISTORY_MIN_ENTRIES="10",
        SIGNALGATE_SIGNALS_HISTORY_DAYS="1",
        SIGNALGATE_SIGNALS_HISTORY_MAX_ENTRIES="20",
    )
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as client:
        org = await provision_org(client, gw, "gap-edge")
        watcher = await live_feed(gw, org.tokens["u1"])
        for i in range(30):
            r = await post_event(client, org, {"type": "desk.ticket", "contact": {"id": "c-yamada"}, "title": f"g{i}"})
            assert r.status_code == 202
        seen = [(await watcher.signal())["id"] for _ in range(30)]
        await watcher.ws.close()
    sync = redis_sync.Redis.from_url(fresh_redis.url, decode_responses=True)
    try:
        retained = [entry_id for entry_id, _ in sync.xrange(keys.feed(org.id, "u1"))]
    finally:
        sync.close()
    assert len(retained) == 20 and retained == seen[-20:]
    last_trimmed, before_it = seen[-21], seen[-22]
    assert await _resume(gw, org.tokens["u1"], last_trimmed) == (False, retained)
    assert await _resume(gw, org.tokens["u1"], before_it) == (True, retained)
    assert await _resume(gw, org.tokens["u1"], retained[0]) == (False, retained[1:])


async def test_age_trim_records_the_newest_trimmed_id(redis_client: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trimming by age (XTRIM MINID) records its newest trimmed id: the gap boundary is exact there too."""
    feed = Feed(
        redis_client,
        load_scripts(redis_client),
        SignalsConfig(history_min_entries=10, history_days=1, history_max_entries=1000),
    )
    real_time = time.time
    # "Now" (Feed.write reads time.time) two days ahead: every entry is older than the one-day
    # retention, so only the newest 10 stay.
    monkeypatch.setattr(time, "time", lambda: real_time() + 2 * 86_400)
    written = []
    for i in range(64):  # retention runs every 64 entries
        result = await feed.write(
            "gap-age", "u1", f"ev{i}", "desk.ticket", None, {"type": "desk.ticket", "title": str(i)}
        )
        written.append(result.signal_id)
    retained = [e for e, _ in await redis_client.xrange(keys.feed("gap-age", "u1"))]
    assert retained == written[-10:]
    last_trimmed = await feed.last_trimmed("gap-age", "u1")
    assert last_trimmed == written[-11]
    assert not missed_history(written[-11], last_trimmed) and missed_history(written[-12], last_trimmed)
