"""The state of every long-running part of one process, as ``/healthz`` reports it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.domain.supervision import DOWN, OK, health_report, part_state
from gateway.metrics import Metrics

# How long /healthz waits for Redis to answer PING before calling it down.
PING_TIMEOUT_SECONDS = 2.0


class Health:
    """Per part (``router``, ``worker``, ``imap``, ``hub``, ``http``), the state of each of its units
    (a router has one per partition; most parts have one, named ""). A part is ok when every unit is."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self._units: dict[str, dict[str, str]] = {}
        self._m = metrics

    def set(self, part: str, state: str, unit: str = "") -> None:
        units = self._units.setdefault(part, {})
        units[unit] = state
        if self._m is not None:
            self._m.part_up.labels(part).set(1 if part_state(units) == OK else 0)

    def forget(self, part: str, unit: str) -> None:
        """Drop a unit that is gone for good (an IMAP mailbox deleted through the API)."""
        units = self._units.get(part, {})
        units.pop(unit, None)
        if self._m is not None and part in self._units:
            self._m.part_up.labels(part).set(1 if part_state(units) == OK else 0)

    def state(self, part: str) -> str:
        return part_state(self._units.get(part, {}))

    def parts(self) -> dict[str, str]:
        return {part: part_state(units) for part, units in self._units.items()}

    async def report(self, ping: Callable[[], Awaitable[Any]]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body) of ``/healthz``: ``redis`` is whether ``ping`` answers in time."""
        try:
            await asyncio.wait_for(ping(), PING_TIMEOUT_SECONDS)
            redis = OK
        except Exception:  # any failure to answer is "down"; the parts say more
            redis = DOWN
        return health_report({"redis": redis, **self.parts()})
