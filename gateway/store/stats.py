"""Per-org counters of events that made no signal (``sg:{org}:stats``), each event counted once.

Fields are ``<what>:<source>``, e.g. ``unmatched:twilio.sms`` or ``auto_reply:imap.mail``.
"""

from __future__ import annotations

from gateway.store import keys
from gateway.store.pipeline import Round
from gateway.store.scripts import Scripts


class Stats:
    def __init__(self, scripts: Scripts) -> None:
        self._s = scripts

    async def count_once(self, org: str, event_key: str, what: str, source: str) -> bool:
        """Count ``what`` for an event of ``source``, unless this event was counted for it before."""
        counted = await self._s.count_once(
            keys=[keys.event_done(org, f"{event_key}:{what}"), keys.stats(org)],
            args=[f"{what}:{source}", keys.DONE_TTL_SECONDS],
        )
        return bool(counted)

    def queue_count_once(self, batch: Round, org: str, event_key: str, what: str, source: str) -> None:
        """:meth:`count_once` as part of ``batch``."""
        batch.script(
            self._s.count_once,
            [keys.event_done(org, f"{event_key}:{what}"), keys.stats(org)],
            [f"{what}:{source}", keys.DONE_TTL_SECONDS],
        )
