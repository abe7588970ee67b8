"""An owed ``credits.low`` warning and the events that deliver it. Pure: no I/O.

``credits_reserve.lua`` records each crossing below the auto-recharge threshold (no top-up
possible) as *owed*, in the same atomic step that spends the crossing: a hash field named by the
crossing's id (``<seq>-<notification id>``, unique per org) holding JSON
``{balance, threshold, reason, notification, at}``. Whoever delivers it appends one
``send.credits_low`` event per admin with the dedupe id :func:`dedupe_id` — the same for every
delivery of the same crossing, so a repeated delivery appends nothing — and then clears it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

SOURCE = "send.credits_low"
REASONS = ("auto_recharge_off", "auto_recharge_cap")


@dataclass(frozen=True)
class OwedLow:
    crossing: str  # the crossing's id (the owed record's field)
    balance: int
    threshold: int
    reason: str  # one of REASONS
    notification: str  # the notification whose charge (or refusal) crossed the threshold


def parse_owed(crossing: str, raw: str | bytes) -> OwedLow:
    """The owed record ``crossing`` from its stored JSON; missing or odd facts get safe defaults
    (the warning is still delivered: a lost warning is worse than an imprecise one)."""
    try:
        facts: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        facts = {}
    if not isinstance(facts, dict):
        facts = {}
    reason = facts.get("reason")
    return OwedLow(
        crossing=crossing,
        balance=_int(facts.get("balance")),
        threshold=_int(facts.get("threshold")),
        reason=reason if reason in REASONS else REASONS[0],
        notification=str(facts.get("notification") or ""),
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def dedupe_id(crossing: str, admin: str) -> str:
    """The event's dedupe id: one per crossing and admin, whoever delivers it and how often."""
    return f"credits-low:{crossing}:{admin}"


def admin_events(owed: OwedLow, admins: Iterable[str]) -> list[tuple[dict[str, Any], str]]:
    """(event data, dedupe id) of the ``send.credits_low`` event for each admin, in order."""
    return [
        (
            {
                "user": admin,
                "balance": owed.balance,
                "threshold": owed.threshold,
                "reason": owed.reason,
                "notification": owed.notification,
            },
            dedupe_id(owed.crossing, admin),
        )
        for admin in admins
    ]
