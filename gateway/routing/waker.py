"""The waker: applies what is due (a snoozed signal's return) from the per-partition due sets.

Every ``interval`` seconds it reads the entries due by now of all 16 partitions in one round trip
(:class:`gateway.store.due.DueSet`), hands each to the handler of its kind and removes it
afterwards. Any number of wakers may run (one in each ``signalgate up`` / ``signalgate router``
process): handlers are idempotent (``feed_wake.lua`` wakes a signal only while its snooze still
has the entry's exact time), so an entry handled twice, or by two nodes, takes effect once. An
entry of a kind this version does not know is left for one that does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from gateway.domain.automation import TIMER_KIND
from gateway.routing.automation import Automation
from gateway.services import Services
from gateway.store.due import DueEntry, DueSet
from gateway.store.feed import SNOOZE

log = logging.getLogger("signalgate.waker")

Handler = Callable[[DueEntry], Awaitable[object]]
INTERVAL_SECONDS = 0.5


class Waker:
    def __init__(self, services: Services, interval: float = INTERVAL_SECONDS) -> None:
        self._due = DueSet(services.redis)
        self._interval = interval
        feed = services.feed
        self.handlers: dict[str, Handler] = {
            SNOOZE: lambda e: feed.wake(e.org, e.user, e.at_ms),
            TIMER_KIND: Automation(services).on_timer,  # an automation rule's unread_for
        }

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop``; a Redis error ends the run (the supervisor retries it)."""
        while not stop.is_set():
            await self.tick(int(time.time() * 1000))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval)

    async def tick(self, now_ms: int) -> int:
        """Handle every entry due by ``now_ms``; how many were handled."""
        done = 0
        for pending in await self._due.pending(now_ms):
            entry = pending.entry
            if entry is None:
                log.warning("dropping a malformed due entry %r", pending.member[:200])
            else:
                handler = self.handlers.get(entry.kind)
                if handler is None:
                    continue
                await handler(entry)
                done += 1
            await self._due.remove(pending.partition, pending.member)
        return done
