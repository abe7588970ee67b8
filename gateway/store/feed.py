"""Per-user feeds in Redis: writing routed signals, reading history, unread and settings.

A feed is a stream of entries ``k=n`` (a new signal; its id is the entry id) and ``k=u`` (a
grouped repeat updating signal ``ref`` to count ``n``). Each entry carries ``s``, the signal's
JSON without ``id``/``count``. The entry id is the *cursor*: WebSocket clients resume from it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import orjson
from redis.asyncio import Redis

from gateway.config import SignalsConfig
from gateway.domain import streamid
from gateway.domain.signals import SIGNAL_TYPE_SET, SIGNAL_TYPES, signal_json
from gateway.store import keys
from gateway.store.pipeline import Round, Slot
from gateway.store.scripts import Scripts

MAX_PAGE = 500
_REPLAY_CHUNK = 200


class WriteResult(NamedTuple):
    status: str  # "new" | "grouped" | "duplicate" | "off" | "no_user"
    signal_id: str


_STATUS = {1: "new", 2: "grouped", 0: "duplicate", 3: "off", 4: "no_user"}


class FeedWrite(NamedTuple):
    """One routed event for one user's feed: applied once per ``event_key`` (and user). A tuple:
    a router makes one per event."""

    user: str
    event_key: str
    signal_type: str
    group_on: str | None  # the contact a repeat groups on; None = never grouped
    body: dict[str, Any]


def _results(flat: list[Any]) -> list[WriteResult]:
    return [WriteResult(_STATUS[int(status)], str(sid)) for status, sid in zip(flat[::2], flat[1::2], strict=True)]


class FeedEntry(NamedTuple):
    """One feed entry as a client sees it: signal ``sid`` at count ``n``, written at ``cursor``."""

    cursor: str
    sid: str
    n: str
    body: str  # the signal's stored JSON (without id/count/read)
    read: bool


def entry_sid(cursor: str, fields: dict[str, str]) -> str:
    """The signal an entry is about: itself for a new signal, ``ref`` for a grouped update."""
    return fields["ref"] if fields.get("k") == "u" else cursor


class Feed:
    def __init__(self, redis: Redis, scripts: Scripts, cfg: SignalsConfig) -> None:
        self._r = redis
        self._s = scripts
        self._cfg = cfg

    async def write(
        self, org: str, user: str, event_key: str, signal_type: str, group_on: str | None, body: dict[str, Any]
    ) -> WriteResult:
        """Apply one event to a user's feed (idempotent per ``event_key``) and publish it.

        The caller has checked that the user exists."""
        keys_, args = self._call(org, [FeedWrite(user, event_key, signal_type, group_on, body)], check_user=False)
        return _results(await self._s.apply_signal(keys=keys_, args=args))[0]

    def queue_writes(self, batch: Round, org: str, writes: list[FeedWrite]) -> Slot[list[WriteResult]]:
        """Apply many events of one org in one script call of ``batch``, in list order (so each feed
        gets them in that order); a write for a user that does not exist is ``no_user`` (nothing
        written). Results in list order."""
        keys_, args = self._call(org, writes, check_user=True)
        return batch.slot(batch.script(self._s.apply_signal, keys_, args), lambda replies: _results(replies[0]))

    def _call(self, org: str, writes: list[FeedWrite], *, check_user: bool) -> tuple[list[str], list[Any]]:
        """KEYS and ARGV of ``apply_signal.lua``: each user's keys once, then two keys a signal."""
        cfg = self._cfg
        users = list(dict.fromkeys(w.user for w in writes))
        number = {user: i for i, user in enumerate(users, 1)}
        keys_ = [keys.users(org)]
        args: list[Any] = [
            keys.DONE_TTL_SECONDS,
            int(time.time() * 1000),
            cfg.history_min_entries,
            cfg.history_days * 86_400_000,
            cfg.history_max_entries,
            "1" if check_user else "0",
            len(users),
        ]
        for user in users:
            keys_ += (
                keys.feed(org, user),
                keys.unread(org, user),
                keys.settings(org, user),
                keys.signal_state(org, user),
                keys.feed_meta(org, user),
            )
            args += (user, keys.live_channel(org, user))
        window = cfg.group_window_seconds
        for w in writes:
            keys_ += (
                keys.event_done(org, f"{w.event_key}:{w.user}"),
                keys.group(org, w.user, w.signal_type, w.group_on or "-"),
            )
            args += (number[w.user], w.signal_type, orjson.dumps(w.body), window if w.group_on else 0)
        return keys_, args

    # -- reading ------------------------------------------------------------------------------
    async def unread_count(self, org: str, user: str) -> int:
        return int(await self._r.zcard(keys.unread(org, user)))

    async def cursor(self, org: str, user: str) -> str:
        """The id of the feed's newest entry ("0-0" when empty): a safe ``after`` for /ws."""
        last = await self._r.xrevrange(keys.feed(org, user), count=1)
        return str(last[0][0]) if last else "0-0"

    async def last_trimmed(self, org: str, user: str) -> str | None:
        """The newest id retention removed from the feed (None: nothing was ever trimmed).

        Feeds trimmed before ``trimmed`` was kept only know their ``floor`` (the first id
        retained); it stands in for it, which may report a needless gap, never hide one."""
        trimmed, floor = await self._r.hmget(keys.feed_meta(org, user), ["trimmed", "floor"])
        return str(trimmed or floor) if (trimmed or floor) else None

    async def replay(self, org: str, user: str, after: str) -> AsyncIterator[FeedEntry]:
        """Every entry after ``after``, oldest first."""
        start = "(" + after
        stream = keys.feed(org, user)
        while True:
            entries = await self._r.xrange(stream, min=start, max="+", count=_REPLAY_CHUNK)
            if not entries:
                return
            sids = [entry_sid(cursor, fields) for cursor, fields in entries]
            unread = await self._r.zmscore(keys.unread(org, user), sids)
            for (cursor, fields), sid, score in zip(entries, sids, unread, strict=True):
                yield FeedEntry(cursor, sid, fields["n"], fields["s"], score is None)
            if len(entries) < _REPLAY_CHUNK:
                return
            start = "(" + entries[-1][0]

    async def signals(self, org: str, user: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        """New signals (not updates) after ``after`` ascending, or the newest ``limit``."""
        newest_first = after is None
        found = await self._scan(keys.feed(org, user), after, limit, newest_first)
        if newest_first:
            found.reverse()
        return await self._materialise(org, user, found)

    async def _scan(
        self, stream: str, after: str | None, limit: int, newest_first: bool
    ) -> list[tuple[str, dict[str, str]]]:
        """Up to ``limit`` new-signal entries (grouped updates skipped), paging through the stream."""
        found: list[tuple[str, dict[str, str]]] = []
        page_size = max(limit * 2, 50)
        bound = "+" if newest_first else "(" + (after or "0-0")
        while len(found) < limit:
            if newest_first:
                page = await self._r.xrevrange(stream, max=bound, min="-", count=page_size)
            else:
                page = await self._r.xrange(stream, min=bound, max="+", count=page_size)
            found.extend(e for e in page if e[1].get("k") == "n")
            if len(page) < page_size:
                break
            bound = "(" + page[-1][0]
        return found[:limit]

    async def _materialise(
        self, org: str, user: str, entries: list[tuple[str, dict[str, str]]]
    ) -> list[dict[str, Any]]:
        if not entries:
            return []
        ids = [cursor for cursor, _ in entries]
        state_fields = [f for sid in ids for f in (sid, sid + "#n")]
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hmget(keys.signal_state(org, user), state_fields)
            pipe.zmscore(keys.unread(org, user), ids)
            state, unread_scores = await pipe.execute()
        out = []
        for i, (sid, fields) in enumerate(entries):
            body, count = fields["s"], fields["n"]
            if state[2 * i] is not None and state[2 * i + 1] is not None:
                body, count = state[2 * i], state[2 * i + 1]
            sig = orjson.loads(signal_json(sid, count, body, read=unread_scores[i] is None))
            out.append(sig)
        return out

    # -- read marks ---------------------------------------------------------------------------
    async def mark_read(self, org: str, user: str, ids: list[str] | None, up_to: str | None) -> int:
        channel = keys.live_channel(org, user)
        if up_to is not None:
            args: list[Any] = [channel, "up_to", streamid.score(up_to)]
        else:
            args = [channel, "ids", *(ids or [])]
        return int(await self._s.mark_read(keys=[keys.unread(org, user)], args=args))

    # -- settings -----------------------------------------------------------------------------
    async def settings(self, org: str, user: str) -> dict[str, bool]:
        stored = await self._r.hgetall(keys.settings(org, user))
        return {t: stored.get(t, "1") == "1" for t in SIGNAL_TYPES}

    async def update_settings(self, org: str, user: str, changes: dict[str, bool]) -> dict[str, bool]:
        unknown = set(changes) - SIGNAL_TYPE_SET
        if unknown:
            raise ValueError(f"unknown signal type(s): {', '.join(sorted(unknown))}")
        if changes:
            await self._r.hset(keys.settings(org, user), mapping={t: "1" if on else "0" for t, on in changes.items()})
        return await self.settings(org, user)
