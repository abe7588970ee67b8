"""Email daily limits and the org's local calendar day. Pure: ``now`` is always passed in.

Limits are counted per organisation over its *local* day (00:00 to 24:00 in the org's IANA time
zone), not the UTC day: an org in Tokyo gets a fresh allowance at Tokyo midnight. The Redis
counters are keyed by :func:`local_day` and expire :func:`seconds_until_reset` (plus a margin)
after they are created, so a counter outlives its day and never leaks into the next one.
Windows are computed in the zone itself, so a day is 23 or 25 hours long across a DST change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Bucket = Literal["individual", "mass"]
ReportGroup = Literal["day", "week", "month"]
REPORT_GROUPS: tuple[ReportGroup, ...] = ("day", "week", "month")

# Individual mail on the free plan: 50 per user, counting at most 4 users.
FREE_PER_USER = 50
FREE_MAX_USERS = 4
PAID_PER_USER = 300
# Mass/automated mail per org per day by plan; the free plan sends none.
MASS_BY_PLAN = {"free": 0, "standard": 250, "professional": 500, "enterprise": 1000}
# The add-on raises the mass cap to at most this many per day (org records are validated against it).
MAX_MASS_ADDON = 2250
KIND_BUCKETS: dict[str, Bucket] = {
    "individual": "individual",
    "mass": "mass",
    "auto": "mass",
    "scheduled": "mass",
    "macro": "mass",
}


@dataclass(frozen=True)
class EmailCaps:
    """Per-org daily limits: ``individual`` mail, and ``mass`` for mass|auto|scheduled|macro."""

    individual: int
    mass: int


def email_caps(plan: str, active_users: int, mass_email_addon: int) -> EmailCaps:
    """Daily email limits of an org.

    ``individual`` is 50 × min(users, 4) on ``free`` and 300 × users on a paid plan.
    ``mass`` is 250 / 500 / 1,000 on standard / professional / enterprise. The add-on value is
    read as the daily mass cap the org has bought (0 to 2,250): the cap becomes that value when
    it is larger than the plan's, and an add-on never lowers it. The free plan sends no mass
    email at all, add-on or not (the add-on extends a paid plan's allowance; it does not unlock
    mass email on free).
    """
    if plan not in MASS_BY_PLAN:
        raise ValueError(f"unknown plan {plan!r}; expected one of {', '.join(MASS_BY_PLAN)}")
    if active_users < 0:
        raise ValueError(f"active_users must not be negative, got {active_users}")
    if not 0 <= mass_email_addon <= MAX_MASS_ADDON:
        raise ValueError(f"mass_email_addon must be 0..{MAX_MASS_ADDON}, got {mass_email_addon}")
    if plan == "free":
        return EmailCaps(individual=FREE_PER_USER * min(active_users, FREE_MAX_USERS), mass=0)
    return EmailCaps(
        individual=PAID_PER_USER * active_users,
        mass=max(MASS_BY_PLAN[plan], mass_email_addon),
    )


def kind_bucket(kind: str) -> Bucket:
    """Which daily limit a send of ``kind`` counts against."""
    try:
        return KIND_BUCKETS[kind]
    except KeyError:
        raise ValueError(f"unknown email kind {kind!r}; expected one of {', '.join(KIND_BUCKETS)}") from None


@lru_cache(maxsize=256)
def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{tz!r} is not an IANA time zone") from None


def _local(moment: datetime, tz: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetime must be timezone-aware")
    return moment.astimezone(_zone(tz))


def _local_midnight_utc(day: date, tz: str) -> datetime:
    # fold=0 picks the first 00:00 when midnight repeats, and the transition instant itself
    # when a zone springs forward at midnight, so the window has no gap and no overlap.
    return datetime.combine(day, time(0), tzinfo=_zone(tz)).astimezone(UTC)


def local_day(now: datetime, tz: str) -> str:
    """The org's calendar date at ``now``, ``YYYY-MM-DD``."""
    return _local(now, tz).date().isoformat()


def day_window(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of the org's local day containing ``now``."""
    day = _local(now, tz).date()
    return _local_midnight_utc(day, tz), _local_midnight_utc(day + timedelta(days=1), tz)


def seconds_until_reset(now: datetime, tz: str) -> int:
    """Whole seconds (rounded up, at least 1) until the org's next local midnight."""
    _, end = day_window(now, tz)
    return max(1, math.ceil((end - now).total_seconds()))


def report_bucket(ts: datetime, tz: str, group: str) -> str:
    """Report row key of ``ts`` in the org's zone: ``2026-11-25``, ``2026-W48`` or ``2026-11``.

    ``group`` is one of :data:`REPORT_GROUPS`; it is typed ``str`` because it arrives from a
    query string, and anything else is a ValueError.
    """
    local = _local(ts, tz)
    if group == "day":
        return local.date().isoformat()
    if group == "week":
        iso = local.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    if group == "month":
        return f"{local.year:04d}-{local.month:02d}"
    raise ValueError(f"unknown report group {group!r}; expected day, week or month")
