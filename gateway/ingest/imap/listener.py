"""One IMAP session of one mailbox: log in, SELECT, catch up from the checkpoint, then IDLE.

Each new message is fetched with ``UID FETCH <uids> (UID INTERNALDATE RFC822.SIZE
BODY.PEEK[]<0.N>)`` — PEEK never sets ``\\Seen``, and the partial fetch bounds memory — parsed off
the event loop, appended to the org's stream as an ``imap.mail`` event (dedupe id
``uidvalidity:uid:mailbox``, ``…:mailbox:epoch`` once the mailbox moved), and only then
checkpointed. Where processing starts after SELECT, and what a UIDVALIDITY change does, is decided
by :mod:`gateway.ingest.imap.rules` (read its docstring).

The session ends by returning when ``halt`` is set, or by raising (connection lost, timeout,
Redis down, lease lost); the service decides what happens next. A message that cannot be parsed
is counted and skipped; it never ends the session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.domain.signals import iso_utc
from gateway.ingest.imap.client import Endpoint, ImapConnection
from gateway.ingest.imap.metrics import ImapMetrics
from gateway.ingest.imap.parse import ParseFailure, parse_mail, summary
from gateway.ingest.imap.rules import REBASELINE_MAX, batches, new_uids, plan_start, rebaseline_pick, top_uid
from gateway.ingest.imap.wire import Fetched, Selected
from gateway.store.event_log import EventLog
from gateway.store.mailboxes import Checkpoints

log = logging.getLogger("signalgate.imap")
SOURCE = "imap.mail"
# Bytes fetched per message: headers and the text part come first; more would only be attachments.
MAX_FETCH_BYTES = 1 << 20
FETCH_ITEMS = f"(UID INTERNALDATE RFC822.SIZE BODY.PEEK[]<0.{MAX_FETCH_BYTES}>)"


@dataclass(frozen=True)
class Mailbox:
    id: str
    org: str
    user: str
    mode: str
    folder: str
    endpoint: Endpoint
    idle_renew_seconds: float
    heartbeat_seconds: float
    backoff_initial_seconds: float
    backoff_max_seconds: float
    lease_seconds: float
    # How often the mailbox moved to another UID space (an API mailbox whose folder, login or server
    # was changed): checkpoints and event dedupe ids are the epoch's own.
    epoch: int = 0

    @property
    def dedupe_suffix(self) -> str:
        """The end of its events' dedupe ids: the id, and the epoch once there is one (so an old
        folder's ``uidvalidity:uid`` is never taken for a new folder's)."""
        return f"{self.id}:{self.epoch}" if self.epoch else self.id


def event_data(box: Mailbox, uidvalidity: int, fetched: Fetched, parsed: dict[str, Any]) -> dict[str, Any]:
    return {
        **parsed,
        "mailbox": box.id,
        "mailbox_user": box.user,
        "mode": box.mode,
        "uid": fetched.uid,
        "uidvalidity": uidvalidity,
        "size": fetched.size,
        "internal_at": iso_utc(fetched.internal_ms) if fetched.internal_ms is not None else None,
    }


async def _unless_halted(step: Awaitable[None], halt: asyncio.Event) -> bool:
    """Run ``step`` unless ``halt`` comes first (then it is cancelled): True when it completed."""
    task = asyncio.ensure_future(step)
    halted = asyncio.ensure_future(halt.wait())
    try:
        await asyncio.wait({task, halted}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        halted.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
    if task.cancelled():
        return False
    task.result()  # its error, if it failed
    return True


class Listener:
    def __init__(self, box: Mailbox, events: EventLog, checkpoints: Checkpoints, metrics: ImapMetrics) -> None:
        self._box = box
        self._events = events
        self._cp = checkpoints
        self._m = metrics
        self._validity = 0
        self._after = 0  # last handled UID of this session
        self._halt = asyncio.Event()

    async def run(self, halt: asyncio.Event, on_steady: Callable[[], Awaitable[None]]) -> None:
        box = self._box
        self._halt = halt
        conn = ImapConnection(box.endpoint)
        try:
            # A stop (a removed or changed mailbox, a shutdown) does not wait for a slow LOGIN: a
            # server may hold a refusal back for seconds (Dovecot's auth penalty grows to 15 s).
            if not await _unless_halted(conn.open(), halt):
                return
            selected = await conn.select(box.folder)
            self._m.connected.labels(box.id).set(1)
            await self._start(conn, selected)
            await self._catch_up(conn)
            await on_steady()
            cycle = min(box.idle_renew_seconds, box.heartbeat_seconds)
            while not halt.is_set():
                outcome = await conn.idle(cycle, halt)
                if outcome == "stopped":
                    break
                if outcome == "timeout":
                    self._m.idle_restarts.labels(box.id).inc()
                    await conn.noop()  # the heartbeat: a dead connection times out here
                await self._catch_up(conn)
            await conn.logout()
        finally:
            self._m.connected.labels(box.id).set(0)
            conn.close()

    async def _start(self, conn: ImapConnection, selected: Selected) -> None:
        highest = None
        if selected.uidnext is None:
            highest = max(await conn.uid_search("UID", "*"), default=0)
        top = top_uid(selected, highest)
        checkpoint = await self._cp.get()
        start = plan_start(checkpoint, selected, top)
        self._validity = selected.uidvalidity
        if start.kind == "resume":
            self._after = start.after_uid
            return
        high_water = checkpoint.high_water_ms if checkpoint else None
        if start.kind == "rebaseline":
            assert checkpoint is not None  # noqa: S101 - plan_start only re-baselines an existing one
            high_water = await self._replay_newer(conn, top, high_water)
            log.warning(
                "mailbox %s: UIDVALIDITY changed %d -> %d; re-baselined at UID %d",
                self._box.id,
                checkpoint.uidvalidity,
                selected.uidvalidity,
                top,
            )
        else:
            log.info("mailbox %s: first start, baseline at UID %d (older mail makes no signals)", self._box.id, top)
        await self._cp.reset(selected.uidvalidity, top, high_water)
        self._after = top

    async def _replay_newer(self, conn: ImapConnection, top: int, high_water: int | None) -> int | None:
        """After a UIDVALIDITY change: process mail newer than the old high-water mark (see rules)."""
        if high_water is None:
            return None
        since = (datetime.fromtimestamp(high_water / 1000, tz=UTC) - timedelta(days=1)).strftime("%d-%b-%Y")
        found = [uid for uid in await conn.uid_search("SINCE", since) if uid <= top]
        if not found:
            return high_water
        candidates = sorted(found)[-4 * REBASELINE_MAX :]
        dated = [(f.uid, f.internal_ms) for f in await conn.uid_fetch(candidates, "(UID INTERNALDATE)")]
        picks = rebaseline_pick(dated, high_water)
        for batch in batches(picks):
            for fetched in await conn.uid_fetch(batch, FETCH_ITEMS):
                await self._append(fetched)
                if fetched.internal_ms is not None:
                    high_water = max(high_water, fetched.internal_ms)
        if picks:
            log.warning("mailbox %s: %d message(s) newer than the last checkpoint processed", self._box.id, len(picks))
        return high_water

    async def _catch_up(self, conn: ImapConnection) -> None:
        """Handle every UID above the checkpoint; search again until nothing new is left, so mail
        that arrived while we fetched is not left waiting for the next IDLE wake-up."""
        while not self._halt.is_set():
            conn.take_new_mail_flag()
            uids = new_uids(await conn.uid_search("UID", f"{self._after + 1}:*"), self._after)
            if not uids:
                return
            for batch in batches(uids):
                if self._halt.is_set():  # a long backlog must not hold up a shutdown: resume later
                    return
                fetched = {f.uid: f for f in await conn.uid_fetch(batch, FETCH_ITEMS)}
                for uid in batch:
                    # A UID found by SEARCH but not returned by FETCH was expunged meanwhile.
                    msg = fetched.get(uid)
                    if msg is not None:
                        await self._append(msg)
                    await self._cp.advance(self._validity, uid, msg.internal_ms if msg else None)
                    self._after = uid

    async def _append(self, fetched: Fetched) -> None:
        """Parse (in a thread: big messages take a while) and append durably; skip what cannot be parsed."""
        box = self._box
        parsed = await asyncio.to_thread(parse_mail, fetched.body, fetched.size) if fetched.body else None
        if parsed is None or isinstance(parsed, ParseFailure):
            reason = parsed.reason if parsed is not None else "no body"
            self._m.parse_failures.labels(box.id).inc()
            log.warning("mailbox %s: skipped unparseable message UID %d (%s)", box.id, fetched.uid, reason)
            return
        data = event_data(box, self._validity, fetched, summary(parsed))
        try:
            await self._events.append(
                box.org, SOURCE, data, dedupe_id=f"{self._validity}:{fetched.uid}:{box.dedupe_suffix}"
            )
        except TypeError as exc:  # orjson refused a value: treat like an unparseable message
            self._m.parse_failures.labels(box.id).inc()
            log.warning("mailbox %s: skipped message UID %d (%s)", box.id, fetched.uid, exc)
            return
        self._m.messages.labels(box.id).inc()
