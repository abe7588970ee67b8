"""When the gateway runs a full garbage collection: at a quiet moment after a burst of connections.

Every open WebSocket is ~80 objects the cyclic collector tracks (uvicorn's and websockets'
protocol objects, transports, the endpoint's suspended coroutines). CPython runs a full
collection once the objects that reached the oldest generation since the last one are 25 % of
those it held then, so a burst of connections (a deploy, a reconnect storm, the bench's fleet)
is followed by one full collection, some seconds later, whenever the allocation counters say:
with 1,000 connections that is a 25–45 ms stop of the event loop (measured with ``gc.callbacks``
in ``signalgate serve``), and every frame in flight waits for it.

:class:`CollectPacer` runs that collection itself, earlier, at the first quiet moment: once at
least ``min_new`` connections (and a quarter of those open) arrived since the last full
collection, and nothing (no frame, no handshake, no connection) happened for ``quiet`` seconds (a storm on a
busy machine can pause that long: the next one waits ``SPACING`` times as long as the last took). The work is the
same the interpreter would do; it moves to a moment when nothing waits for the loop, and leaves
the interpreter no reason for its own soon after. Under steady traffic there is no quiet moment
and the interpreter's own rule stays in charge, as before. Pure: the clock (the same one as the
``now`` its callers pass: the event loop's) and the collector are passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

QUIET_SECONDS = 0.5
# After a collection that took d seconds, none for SPACING × d: at most ~5 % of the time collecting
# even if the machine stalls for `quiet` seconds again and again in the middle of a storm.
SPACING = 20.0
MIN_NEW = 100
SHARE = 0.25


class CollectPacer:
    __slots__ = (
        "_clock",
        "_collect",
        "_last_activity",
        "_new",
        "_not_before",
        "collections",
        "min_new",
        "quiet",
        "share",
    )

    def __init__(
        self,
        collect: Callable[[], Any],
        clock: Callable[[], float],
        *,
        quiet: float = QUIET_SECONDS,
        min_new: int = MIN_NEW,
        share: float = SHARE,
    ) -> None:
        self._collect = collect
        self._clock = clock
        self._not_before = float("-inf")
        self.quiet = quiet
        self.min_new = min_new
        self.share = share
        self._new = 0
        self._last_activity = float("-inf")
        self.collections = 0  # the ones this pacer ran

    def attached(self, now: float) -> None:
        """A connection arrived."""
        self._new += 1
        self._last_activity = now

    def active(self, now: float) -> None:
        """Something happened that a collection would delay (a frame to deliver, a handshake)."""
        self._last_activity = now

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """A ``gc.callbacks`` hook: a full collection (the interpreter's or ours) resets the count."""
        if phase == "stop" and info.get("generation") == 2:
            self._new = 0

    def due(self, now: float, connections: int) -> bool:
        return (
            self._new >= max(self.min_new, self.share * connections)
            and now - self._last_activity >= self.quiet
            and now >= self._not_before
        )

    def maybe_collect(self, now: float, connections: int) -> bool:
        """Run the full collection if it is due; True when it ran."""
        if not self.due(now, connections):
            return False
        self._new = 0
        self.collections += 1
        started = self._clock()
        self._collect()
        ended = self._clock()
        self._not_before = ended + SPACING * (ended - started)
        return True
