"""Failover: how fast a dead process is noticed, and whose work is orphaned (pure, no I/O).

Every long-running process proves it is alive by a heartbeat key in Redis with a short TTL
(``gateway.store.heartbeat``). From ``[gateway] failover_seconds`` (F):

- the heartbeat lives ``0.6 F`` and is refreshed every quarter of that (``0.15 F``), so a live
  process must miss three refreshes in a row before anyone calls it dead;
- peers look for dead holders every ``0.2 F``.

A process that dies at ``t`` refreshed its heartbeat last at ``t`` or before, so the key is gone by
``t + 0.6 F`` and a peer (or the restarted process) sees it by ``t + 0.8 F``; the remaining
``0.2 F`` are for taking the work over (claiming the pending entries, stealing the lease).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

# Shares of failover_seconds (see the module docstring).
HEARTBEAT_TTL_SHARE = 0.6
BEATS_PER_TTL = 4
CHECK_SHARE = 0.2


@dataclass(frozen=True)
class FailoverTiming:
    failover_seconds: float

    @property
    def heartbeat_ttl_ms(self) -> int:
        """How long a heartbeat key lives after its last refresh."""
        return max(1, round(self.failover_seconds * HEARTBEAT_TTL_SHARE * 1000))

    @property
    def beat_seconds(self) -> float:
        """How often a live process refreshes its heartbeat."""
        return self.heartbeat_ttl_ms / 1000 / BEATS_PER_TTL

    @property
    def check_seconds(self) -> float:
        """How often a process looks for dead holders of work."""
        return self.failover_seconds * CHECK_SHARE

    @property
    def detection_seconds(self) -> float:
        """Worst case from a death to a peer noticing it (heartbeat expiry + one check)."""
        return self.heartbeat_ttl_ms / 1000 + self.check_seconds


def orphaned(holders: Iterable[str], alive: Collection[str], me: str) -> list[str]:
    """The holders of work whose heartbeat is gone (never ``me``: this process is alive), in order,
    each once."""
    out: list[str] = []
    for holder in holders:
        if holder != me and holder not in alive and holder not in out:
            out.append(holder)
    return out


def partition_share(partitions: int, routers: int) -> int:
    """How many partitions one of ``routers`` live routers may hold (the rest are its peers'):
    the fair share rounded up, so every partition always has room for a holder."""
    return -(-partitions // max(1, routers))
