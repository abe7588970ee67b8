"""Decisions of the IMAP listener: where to start after SELECT, what to re-check after a
UIDVALIDITY change, how long to back off, how to name a mailbox. Pure; ``now`` and randomness
are passed in.

Checkpoint rules (per mailbox, kept in Redis by :mod:`gateway.store.mailboxes`):

* The checkpoint is ``(uidvalidity, uid, high_water_ms)``: every message of that UIDVALIDITY with
  a UID up to ``uid`` has been handled (its event is in the org's stream, or it was skipped as
  malformed), and ``high_water_ms`` is the newest INTERNALDATE among them. It is written only after
  the event is durable, so a crash in between replays the message, and the event's dedupe id
  (``uidvalidity:uid:mailbox``) makes the replay append nothing.
* **First start** (no checkpoint): baseline at the current ``UIDNEXT - 1``. Mail already in the
  folder is history, not news: no signals for it.
* **Same UIDVALIDITY**: process every UID above the checkpoint, in UID order — mail that arrived
  while nothing listened is processed once.
* **UIDVALIDITY changed** (the folder was rebuilt or restored; old UIDs mean nothing any more):
  re-baseline at the new ``UIDNEXT - 1`` — but first process the messages whose INTERNALDATE is
  *after* the old ``high_water_ms`` (at most :data:`REBASELINE_MAX` of the newest), so mail that
  arrived between the last checkpoint and the change is not lost while the rest of the folder is
  not re-announced. Known limit: a message delivered in the same second as the last processed one
  (INTERNALDATE has one-second resolution) is treated as already seen. Without a high-water mark
  (nothing was ever processed) nothing is replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.domain.mailbox import Checkpoint
from gateway.domain.mailbox import mailbox_id as mailbox_id  # moved to the domain (the API names mailboxes too)
from gateway.ingest.imap.wire import Selected

# After a UIDVALIDITY change at most this many of the newest candidates are looked at: a restored
# folder never floods reps, even when the server gives every message a fresh INTERNALDATE.
REBASELINE_MAX = 50
# Messages fetched per UID FETCH: bounds memory to this many (capped) bodies at once.
FETCH_BATCH = 10

StartKind = Literal["baseline", "resume", "rebaseline"]


@dataclass(frozen=True)
class Start:
    kind: StartKind
    # Messages with a UID above this are new (for "rebaseline": after the candidates are done).
    after_uid: int


def top_uid(selected: Selected, highest_existing: int | None) -> int:
    """The highest UID in use: ``UIDNEXT - 1``, or the highest UID found when UIDNEXT is missing."""
    if selected.uidnext is not None:
        return max(selected.uidnext - 1, 0)
    return highest_existing or 0


def plan_start(checkpoint: Checkpoint | None, selected: Selected, top: int) -> Start:
    """Where processing starts after SELECT (see the module docstring)."""
    if checkpoint is None:
        return Start("baseline", top)
    if checkpoint.uidvalidity != selected.uidvalidity:
        return Start("rebaseline", top)
    return Start("resume", checkpoint.uid)


def rebaseline_pick(candidates: Sequence[tuple[int, int | None]], high_water_ms: int | None) -> list[int]:
    """UIDs (ascending) of messages newer than the old high-water mark, at most the newest
    :data:`REBASELINE_MAX`; ``candidates`` are ``(uid, internaldate ms)`` pairs."""
    if high_water_ms is None:
        return []
    newer = sorted(uid for uid, at in candidates if at is not None and at > high_water_ms)
    return newer[-REBASELINE_MAX:]


def new_uids(found: Sequence[int], after_uid: int) -> list[int]:
    """UIDs above the checkpoint. ``UID SEARCH UID n:*`` also returns the highest existing UID
    when nothing is above ``n`` (RFC 3501: ``*`` is the largest UID), so filter."""
    return sorted(uid for uid in set(found) if uid > after_uid)


def batches(uids: Sequence[int], size: int = FETCH_BATCH) -> list[list[int]]:
    return [list(uids[i : i + size]) for i in range(0, len(uids), size)]


def uid_set(uids: Sequence[int]) -> str:
    """An IMAP sequence set with runs collapsed: ``[1, 2, 3, 7]`` → ``1:3,7``."""
    parts: list[str] = []
    ordered = sorted(set(uids))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)


def backoff_delay(attempt: int, initial: float, cap: float, rand: float) -> float:
    """Capped exponential backoff with jitter: a delay in ``[base/2, base]`` where
    ``base = min(cap, initial * 2**attempt)``; ``rand`` is uniform in [0, 1)."""
    base = min(cap, initial * (1 << min(max(attempt, 0), 32)))
    return base / 2 + base / 2 * rand
