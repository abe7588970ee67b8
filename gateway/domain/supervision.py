"""Pure rules of supervision: which Redis replies are worth retrying, how long to wait before the
next attempt, and what ``/healthz`` answers for a set of part states.

The I/O side (running the parts, the health registry, the listener) is :mod:`gateway.supervision`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OK = "ok"
STARTING = "starting"
RESTARTING = "restarting"
DOWN = "down"

# Error replies that say "not now" rather than "never": the same command can succeed later.
#   READONLY/MASTERDOWN  a replica or a failover in progress
#   LOADING              Redis is reading its AOF/RDB after a restart
#   BUSY                 a script runs past lua-time-limit (SCRIPT KILL or its end frees it)
#   OOM/MISCONF          memory or persistence trouble the operator can fix without us
#   TRYAGAIN/CLUSTERDOWN a cluster resharding or electing
#   UNBLOCKED/NOGROUP    the stream a blocked XREADGROUP waited on was deleted: recreate the group
TRANSIENT_REPLIES = frozenset(
    {"READONLY", "MASTERDOWN", "LOADING", "BUSY", "OOM", "MISCONF", "TRYAGAIN", "CLUSTERDOWN", "UNBLOCKED", "NOGROUP"}
)
# The replies after which the consumer group must be created again before reading.
STREAM_GONE_REPLIES = frozenset({"UNBLOCKED", "NOGROUP"})


def reply_code(message: str) -> str:
    """The error code of a Redis error reply (``"UNBLOCKED the stream..."`` → ``"UNBLOCKED"``), or ""."""
    head = message.split(" ", 1)[0]
    return head if head.isupper() and head.isalpha() else ""


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff: ``initial * 2**attempt`` up to ``cap`` seconds, with jitter."""

    initial: float
    cap: float

    def delay(self, attempt: int, rand: float) -> float:
        """A delay in ``[base/2, base]`` for the ``attempt``-th retry (0 = first); ``rand`` in [0, 1)."""
        base = min(self.cap, self.initial * (1 << min(max(attempt, 0), 32)))
        return base / 2 + base / 2 * rand


def part_state(units: Mapping[str, str]) -> str:
    """One part's state from its units' (e.g. one per router partition): the first that is not ok."""
    for unit in sorted(units):
        if units[unit] != OK:
            return units[unit]
    return OK


def health_report(parts: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """``/healthz``: 200 ``{"status":"ok"}`` when every part is ok, else 503 ``"degraded"``."""
    healthy = all(state == OK for state in parts.values())
    body = {"status": "ok" if healthy else "degraded", "parts": dict(parts)}
    return (200 if healthy else 503), body


def describe(exc: BaseException, limit: int = 160) -> str:
    """A short one-line description of an error for a health state (never a traceback)."""
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"
