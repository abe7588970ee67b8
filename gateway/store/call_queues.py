"""The member calls of a call flow's queue step, in Redis: called once, settled once.

- :meth:`CallQueues.ring_once`: a ``SET NX`` marker per (org, call, step), so a Twilio retry of
  the webhook that reached the queue step (or the flow reaching it again) calls nobody twice.
- :meth:`CallQueues.add_legs`: the call sids Twilio placed to the members (``queue_legs.lua``).
- :meth:`CallQueues.settle`: the first member to accept, or the caller leaving, settles the wait
  (``queue_settle.lua``) and gets the legs still to hang up, each leg handed out once.

All keys of one call's queue share the org's hash tag (:mod:`gateway.store.keys`), so each script
touches one slot. Everything expires after :data:`QUEUE_TTL`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from gateway.domain.call_flow_run import Path
from gateway.store import keys
from gateway.store.scripts import Scripts

# Twilio ends a call after at most 24 hours (TimeLimit's cap; 4 hours by default): a caller's wait
# and its bridge are over by then.
QUEUE_TTL = 24 * 3600


@dataclass(frozen=True)
class Settled:
    """``winner``: the leg that took the caller (``""``: the caller left first); ``hang_up``: the
    legs to end now (never the winner's, nor the settling leg's own)."""

    winner: str
    hang_up: list[str]


def _step(step: Path) -> str:
    return ".".join(str(i) for i in step)


class CallQueues:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._legs = scripts.queue_legs
        self._settle = scripts.queue_settle

    async def ring_once(self, org: str, call: str, step: Path) -> bool:
        """True the first time the members of the queue step at ``step`` are to be called for
        ``call``; False on every retry after it (within :data:`QUEUE_TTL`)."""
        return bool(await self._r.set(keys.queue_rung(org, call, _step(step)), "1", nx=True, ex=QUEUE_TTL))

    async def forget_ring(self, org: str, call: str, step: Path) -> None:
        """Undo :meth:`ring_once` when calling the members failed outright (a retry may try again)."""
        await self._r.delete(keys.queue_rung(org, call, _step(step)))

    async def add_legs(self, org: str, queue: str, legs: Sequence[str]) -> list[str]:
        """Record the member calls placed for ``queue``; the ones to hang up at once if the wait
        was settled meanwhile (empty while the caller still waits)."""
        if not legs:
            return []
        out = await self._legs(
            keys=[keys.queue_legs(org, queue), keys.queue_settled(org, queue)], args=[QUEUE_TTL, *legs]
        )
        return [str(leg) for leg in out]

    async def settle(self, org: str, queue: str, by: str) -> Settled:
        """Settle the wait of ``queue``: ``by`` is the accepting leg's call sid, or ``""`` when the
        caller left the queue. The first settle wins (``winner``); every settle takes the legs
        recorded since the last one."""
        winner, legs = await self._settle(
            keys=[keys.queue_legs(org, queue), keys.queue_settled(org, queue)], args=[by, QUEUE_TTL]
        )
        return Settled(str(winner), [str(leg) for leg in legs])

    async def drop_leg(self, org: str, queue: str, leg: str) -> None:
        """A leg that declined (hung up by its own TwiML): nothing to hang up later."""
        await self._r.srem(keys.queue_legs(org, queue), leg)
