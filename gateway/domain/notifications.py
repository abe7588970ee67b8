"""Outgoing notifications (SMS and email): status order and ids. Pure.

A notification's status only moves forward: a status is applied only when its rank is higher
than the stored one, so a replayed status callback or a job that runs twice changes nothing.
Terminal outcomes share one rank (the first to arrive wins), except ``read``, which follows
delivery.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

RANK: dict[str, int] = {
    "queued": 0,
    "scheduled": 0,  # queued with a send_at still ahead
    "cancelled": 3,  # DELETE .../notifications/{id} before it was sending
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "bounced": 3,
    "rejected": 3,
    "read": 4,
}
FINAL = frozenset({"delivered", "undelivered", "failed", "bounced", "rejected", "read", "cancelled"})
# Statuses a send may still be cancelled in (nothing charged or counted yet).
CANCELLABLE = frozenset({"queued", "scheduled"})


def initial_status(send_at: str | None, now_ms: int) -> str:
    """``scheduled`` when ``send_at`` (ISO 8601 with an offset) is still ahead, else ``queued``."""
    if not send_at:
        return "queued"
    try:
        at = datetime.fromisoformat(send_at)
    except ValueError:
        return "queued"
    return "scheduled" if at.tzinfo is not None and at.timestamp() * 1000 > now_ms else "queued"


def notification_id(org: str, idempotency_key: str | None) -> str:
    """Deterministic for an idempotency key (REST and arq submissions agree), else random."""
    if idempotency_key is None:
        return "n_" + secrets.token_hex(12)
    return "n_" + hashlib.sha256(f"{org}\x00{idempotency_key}".encode()).hexdigest()[:24]
