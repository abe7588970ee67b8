"""Per-user feeds in Redis: writing routed signals, reading history, state, unread and settings.

A feed is a stream of entries ``k=n`` (a new signal; its id is the entry id) and ``k=u`` (a
grouped repeat updating signal ``ref`` to count ``n``; with ``w=1`` not a repeat but the signal's
return from a snooze). Each entry carries ``s``, the signal's JSON without ``id``/``count``. The
entry id is the *cursor*: WebSocket clients resume from it.

A signal's state (:mod:`gateway.domain.feed_view`) lives in four sorted sets per user: ``unread``
(unread in the inbox: what every unread count counts), ``away-unread`` (unread, archived or
snoozed), ``archived`` and ``snoozed`` (scored by the return time); ``acted`` (a hash) says what
was done with a signal. ``feed_state.lua`` changes them, ``feed_wake.lua`` ends snoozes (driven
by the due set of :mod:`gateway.store.due`), ``apply_signal.lua`` revives a repeated signal and
drops the state of trimmed ones.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import orjson
from redis.asyncio import Redis

from gateway.config import SignalsConfig
from gateway.domain import streamid
from gateway.domain.feed_view import Filters, Page, SignalState
from gateway.domain.signals import INBOX, SIGNAL_TYPE_SET, SIGNAL_TYPES, Placement, iso_utc, signal_json
from gateway.store import keys
from gateway.store.due import DueEntry, DueSet
from gateway.store.pipeline import Round, Slot
from gateway.store.scripts import Scripts

MAX_PAGE = 500
MAX_EVENTS = 200
_REPLAY_CHUNK = 200
_SCAN_CHUNK = 500
SNOOZE = "snooze"  # the due-entry kind of a snoozed signal's return


class SnoozeInPast(ValueError):
    """The snooze time had passed by the time it was applied."""


class StateResult(NamedTuple):
    unread: int
    unknown: list[str]  # ids that are not (or no longer) signals of the feed


def _state_keys(org: str, user: str) -> list[str]:
    """KEYS of ``feed_state.lua`` (``feed_wake.lua`` adds the signal-state hash)."""
    return [
        keys.feed(org, user),
        keys.unread(org, user),
        keys.away_unread(org, user),
        keys.archived(org, user),
        keys.snoozed(org, user),
    ]


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


@functools.lru_cache(maxsize=8192)
def _user_call(org: str, user: str) -> tuple[tuple[str, ...], tuple[str, str]]:
    """A user's nine KEYS and two ARGV of ``apply_signal.lua``: built once per (org, user) and
    reused, since a router writes to the same few feeds over and over (the strings are a hot
    spot of routing otherwise)."""
    keys_ = (
        keys.feed(org, user),
        keys.unread(org, user),
        keys.settings(org, user),
        keys.signal_state(org, user),
        keys.feed_meta(org, user),
        keys.archived(org, user),
        keys.snoozed(org, user),
        keys.away_unread(org, user),
        keys.signal_acted(org, user),
    )
    return keys_, (user, keys.live_channel(org, user))


def _results(flat: list[Any]) -> list[WriteResult]:
    return [WriteResult(_STATUS[int(status)], str(sid)) for status, sid in zip(flat[::2], flat[1::2], strict=True)]


class FeedEntry(NamedTuple):
    """One feed entry as a client sees it: signal ``sid`` at count ``n``, written at ``cursor``."""

    cursor: str
    sid: str
    n: str
    body: str  # the signal's stored JSON (without id/count/read)
    read: bool
    placement: Placement = INBOX


def entry_sid(cursor: str, fields: dict[str, str]) -> str:
    """The signal an entry is about: itself for a new signal, ``ref`` for a grouped update."""
    return fields["ref"] if fields.get("k") == "u" else cursor


class Feed:
    def __init__(self, redis: Redis, scripts: Scripts, cfg: SignalsConfig) -> None:
        self._r = redis
        self._s = scripts
        self._cfg = cfg
        self._due = DueSet(redis)

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
            user_keys, user_args = _user_call(org, user)
            keys_ += user_keys
            args += user_args
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
        """Every entry after ``after``, oldest first, each with its signal's state now."""
        start = "(" + after
        stream = keys.feed(org, user)
        while True:
            entries = await self._r.xrange(stream, min=start, max="+", count=_REPLAY_CHUNK)
            if not entries:
                return
            sids = [entry_sid(cursor, fields) for cursor, fields in entries]
            states = await self._states(org, user, sids)
            for (cursor, fields), sid, (state, until) in zip(entries, sids, states, strict=True):
                placement = Placement(state.archived, None if until is None else iso_utc(until))
                yield FeedEntry(cursor, sid, fields["n"], fields["s"], not state.unread, placement)
            if len(entries) < _REPLAY_CHUNK:
                return
            start = "(" + entries[-1][0]

    async def _states(self, org: str, user: str, sids: list[str]) -> list[tuple[SignalState, int | None]]:
        """Each signal's state and snooze time (ms), in one round trip."""
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.zmscore(keys.unread(org, user), sids)
            pipe.zmscore(keys.away_unread(org, user), sids)
            pipe.zmscore(keys.archived(org, user), sids)
            pipe.zmscore(keys.snoozed(org, user), sids)
            unread, away, archived, snoozed = await pipe.execute()
        return [
            (
                SignalState(u is not None or a is not None, ar is not None, sn is not None),
                None if sn is None else int(sn),
            )
            for u, a, ar, sn in zip(unread, away, archived, snoozed, strict=True)
        ]

    async def signals(self, org: str, user: str, page: Page, filters: Filters | None = None) -> list[dict[str, Any]]:
        """New signals (not updates) matching ``filters``, within ``page``, ascending."""
        found = await self._scan(org, user, page, filters or Filters(view="all"))
        if page.newest_first:
            found.reverse()
        return await self._materialise(org, user, found)

    async def _scan(self, org: str, user: str, page: Page, filters: Filters) -> list[tuple[str, dict[str, str]]]:
        """Up to ``limit`` matching new-signal entries in scan order (newest first without
        ``after``), paging through the stream between the page's bounds."""
        if page.before is not None and streamid.parse(page.before) <= streamid.parse(page.after or "0-0"):
            return []  # nothing is older than 0-0 ("(0-0" is no valid bound), nor in an empty window
        stream = keys.feed(org, user)
        found: list[tuple[str, dict[str, str]]] = []
        chunk = min(max(page.limit * 2, 50), _SCAN_CHUNK)
        low = "(" + page.after if page.after else "-"
        high = "(" + page.before if page.before else "+"
        by_body = filters.types is not None or filters.contact is not None
        by_state = filters.view != "all" or filters.unread is not None
        while len(found) < page.limit:
            if page.newest_first:
                entries = await self._r.xrevrange(stream, max=high, min=low, count=chunk)
            else:
                entries = await self._r.xrange(stream, min=low, max=high, count=chunk)
            hits = [e for e in entries if e[1].get("k") == "n"]
            if by_body:
                hits = [e for e in hits if filters.matches_body(orjson.loads(e[1]["s"]))]
            if by_state and hits:
                states = await self._states(org, user, [cursor for cursor, _ in hits])
                hits = [e for e, (state, _) in zip(hits, states, strict=True) if filters.matches_state(state)]
            found.extend(hits)
            if len(entries) < chunk:
                break
            if page.newest_first:
                high = "(" + entries[-1][0]
            else:
                low = "(" + entries[-1][0]
        return found[: page.limit]

    async def _materialise(
        self, org: str, user: str, entries: list[tuple[str, dict[str, str]]]
    ) -> list[dict[str, Any]]:
        if not entries:
            return []
        ids = [cursor for cursor, _ in entries]
        state_fields = [f for sid in ids for f in (sid, sid + "#n")]
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.hmget(keys.signal_state(org, user), state_fields)
            pipe.hmget(keys.signal_acted(org, user), ids)
            grouped, acted = await pipe.execute()
        states = await self._states(org, user, ids)
        out = []
        for i, ((sid, fields), (state, until)) in enumerate(zip(entries, states, strict=True)):
            body, count = fields["s"], fields["n"]
            if grouped[2 * i] is not None and grouped[2 * i + 1] is not None:
                body, count = grouped[2 * i], grouped[2 * i + 1]
            placement = Placement(state.archived, None if until is None else iso_utc(until))
            sig = orjson.loads(signal_json(sid, count, body, read=not state.unread, placement=placement))
            if acted[i] is not None:
                sig["acted"] = orjson.loads(acted[i])
            out.append(sig)
        return out

    async def counts(self, org: str, user: str) -> dict[str, int]:
        """Unread signals in the inbox per type (every type, zeros included)."""
        by_type = dict.fromkeys(SIGNAL_TYPES, 0)
        ids: list[str] = await self._r.zrange(keys.unread(org, user), 0, -1)
        stream = keys.feed(org, user)
        for start in range(0, len(ids), _SCAN_CHUNK):
            async with self._r.pipeline(transaction=False) as pipe:
                for sid in ids[start : start + _SCAN_CHUNK]:
                    pipe.xrange(stream, min=sid, max=sid)
                replies = await pipe.execute()
            for entries in replies:
                if entries:
                    stype = orjson.loads(entries[0][1]["s"]).get("type")
                    if stype in by_type:
                        by_type[stype] += 1
        return by_type

    async def events(self, org: str, user: str, sid: str, limit: int) -> tuple[list[dict[str, Any]], int] | None:
        """A signal's members (the original and each grouped repeat), newest first, at most
        ``limit``, and the signal's count; None when ``sid`` is not a signal of the feed."""
        stream = keys.feed(org, user)
        original = await self._r.xrange(stream, min=sid, max=sid)
        if not original or original[0][1].get("k") != "n":
            return None
        current = await self._r.hget(keys.signal_state(org, user), sid + "#n")
        count = int(current or original[0][1]["n"])
        members: list[dict[str, str]] = []
        high = "+"
        # Repeats come after the original (within the group window): scan back from the newest.
        while len(members) < min(limit, count - 1):
            entries = await self._r.xrevrange(stream, max=high, min="(" + sid, count=_SCAN_CHUNK)
            members += [f for _, f in entries if f.get("k") == "u" and f.get("ref") == sid and "w" not in f]
            if len(entries) < _SCAN_CHUNK:
                break
            high = "(" + entries[-1][0]
        members = members[:limit]
        if len(members) < limit:
            members.append(original[0][1])
        return [_event(f) for f in members], count

    # -- state --------------------------------------------------------------------------------
    async def change(
        self, org: str, user: str, op: str, ids: list[str] | None, up_to: str | None, until_ms: int | None = None
    ) -> StateResult:
        """Apply ``op`` (read|unread|archive|unarchive|snooze) to ``ids`` or the signals up to
        ``up_to`` (:mod:`gateway.store.lua.feed_state`); a snooze with ``until_ms`` None un-snoozes.

        A snooze's due entry is written first: a crash before the state change leaves an entry
        that wakes nothing. Raises :class:`SnoozeInPast` when ``until_ms`` has passed."""
        if op == SNOOZE and until_ms is not None:
            await self._due.add(DueEntry(SNOOZE, org, user, until_ms))
        until = ("", "") if until_ms is None else (until_ms, iso_utc(until_ms))
        target: list[Any] = ["up_to", up_to] if up_to is not None else ["ids", *(ids or [])]
        count, unknown = await self._s.feed_state(
            keys=_state_keys(org, user),
            args=[keys.live_channel(org, user), op, int(time.time() * 1000), *until, *target],
        )
        if int(count) < 0:
            raise SnoozeInPast("the snooze time has passed")
        return StateResult(int(count), [str(u) for u in unknown])

    async def mark_read(self, org: str, user: str, ids: list[str] | None, up_to: str | None) -> int:
        """Mark signals read (REST ``read``, the WebSocket ``read`` frame); the unread count after."""
        return (await self.change(org, user, "read", ids, up_to)).unread

    async def wake(self, org: str, user: str, until_ms: int) -> int:
        """End the user's snoozes set for exactly ``until_ms`` (a due entry); how many signals woke."""
        woken = await self._s.feed_wake(
            keys=[*_state_keys(org, user), keys.signal_state(org, user)],
            args=[keys.live_channel(org, user), until_ms],
        )
        return int(woken)

    async def publish_state(self, org: str, user: str, ids: list[str], fields: dict[str, Any]) -> None:
        """Push ``{"type":"state","ids":ids,**fields}`` to every connection of the user (any node),
        e.g. ``{"acted": {...}}`` after an action. Cursor-less, like every state frame."""
        frame = orjson.dumps({"type": "state", "ids": ids, **fields}).decode()
        # A raw PUBLISH: redis-py's async Cluster client has no publish().
        await self._r.execute_command("PUBLISH", keys.live_channel(org, user), "\n" + frame)

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


def _event(fields: dict[str, str]) -> dict[str, Any]:
    body = orjson.loads(fields["s"])
    return {
        "occurred_at": body.get("occurred_at"),
        "title": body.get("title"),
        "body": body.get("body"),
        "count": int(fields["n"]),
    }
