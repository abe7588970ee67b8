"""Status precedence for SMS and calls: callbacks may repeat or arrive out of order. Pure.

Twilio sends no callback for a message's first status and may deliver ``sent`` after
``delivered``; a status is applied only when its rank is higher than the stored one. Terminal
outcomes share one rank so the first to arrive wins, except ``read`` which follows delivery.
"""

from __future__ import annotations

SMS_RANK: dict[str, int] = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}
SMS_FAILED = frozenset({"undelivered", "failed"})

CALL_RANK: dict[str, int] = {
    "queued": 0,
    "initiated": 0,
    "ringing": 1,
    "in-progress": 2,
    "completed": 3,
    "busy": 3,
    "no-answer": 3,
    "canceled": 3,
    "failed": 3,
}
MISSED_CALL = frozenset({"no-answer", "busy", "canceled", "failed"})


def sms_signal_type(status: str) -> str | None:
    """Which signal an SMS status makes when it is first reached."""
    if status == "delivered":
        return "sms.delivered"
    if status in SMS_FAILED:
        return "sms.failed"
    return None
