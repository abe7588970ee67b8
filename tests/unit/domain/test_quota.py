"""Unit tests for gateway.domain.quota: email caps per plan and the org's local day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.domain.quota import (
    EmailCaps,
    day_window,
    email_caps,
    kind_bucket,
    local_day,
    report_bucket,
    seconds_until_reset,
)

HOUR = timedelta(hours=1)


def utc(text: str) -> datetime:
    """An aware UTC datetime from ``YYYY-MM-DDTHH:MM:SS[.ffffff]``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("plan", "users", "expected"),
    [
        ("free", 0, EmailCaps(individual=0, mass=0)),
        ("free", 1, EmailCaps(individual=50, mass=0)),
        ("free", 3, EmailCaps(individual=150, mass=0)),
        ("free", 4, EmailCaps(individual=200, mass=0)),
        ("free", 5, EmailCaps(individual=200, mass=0)),
        ("free", 100, EmailCaps(individual=200, mass=0)),
        ("standard", 1, EmailCaps(individual=300, mass=250)),
        ("standard", 5, EmailCaps(individual=1500, mass=250)),
        ("professional", 3, EmailCaps(individual=900, mass=500)),
        ("professional", 10, EmailCaps(individual=3000, mass=500)),
        ("enterprise", 0, EmailCaps(individual=0, mass=1000)),
        ("enterprise", 25, EmailCaps(individual=7500, mass=1000)),
    ],
)
def test_email_caps_by_plan(plan: str, users: int, expected: EmailCaps) -> None:
    """Individual: 50 × min(users, 4) on free, 300 × users paid; mass: 0 / 250 / 500 / 1,000."""
    assert email_caps(plan, users, 0) == expected


@pytest.mark.parametrize(
    ("plan", "addon", "mass"),
    [
        ("standard", 0, 250),
        ("standard", 100, 250),
        ("standard", 250, 250),
        ("standard", 251, 251),
        ("standard", 1000, 1000),
        ("standard", 2250, 2250),
        ("professional", 400, 500),
        ("professional", 1500, 1500),
        ("enterprise", 999, 1000),
        ("enterprise", 2250, 2250),
        ("free", 2250, 0),
    ],
)
def test_mass_addon_raises_cap_to_its_value(plan: str, addon: int, mass: int) -> None:
    """The add-on raises the paid plans' mass cap to its value, never lowers it, and not on free."""
    caps = email_caps(plan, 2, addon)
    assert caps.mass == mass
    assert caps.individual == email_caps(plan, 2, 0).individual


@pytest.mark.parametrize(
    ("plan", "users", "addon"),
    [
        ("gold", 1, 0),
        ("", 1, 0),
        ("Standard", 1, 0),
        ("standard", -1, 0),
        ("standard", 1, -1),
        ("standard", 1, 2251),
    ],
)
def test_email_caps_rejects_bad_input(plan: str, users: int, addon: int) -> None:
    """Unknown plans, negative users and add-ons outside 0..2,250 are errors, not zero caps."""
    with pytest.raises(ValueError):
        email_caps(plan, users, addon)


@pytest.mark.parametrize(
    ("kind", "bucket"),
    [("individual", "individual"), ("mass", "mass"), ("auto", "mass"), ("scheduled", "mass"), ("macro", "mass")],
)
def test_kind_bucket(kind: str, bucket: str) -> None:
    """Individual mail has its own limit; mass, auto, scheduled and macro share the mass limit."""
    assert kind_bucket(kind) == bucket


@pytest.mark.parametrize("kind", ["", "MASS", "sms", "workflow", "individual "])
def test_kind_bucket_rejects_unknown(kind: str) -> None:
    """An unknown kind is a ValueError, never silently counted somewhere."""
    with pytest.raises(ValueError, match="unknown email kind"):
        kind_bucket(kind)


@pytest.mark.parametrize(
    ("now", "tz", "day"),
    [
        ("2026-11-25T14:59:59", "Asia/Tokyo", "2026-11-25"),
        ("2026-11-25T15:00:00", "Asia/Tokyo", "2026-11-26"),
        ("2026-11-25T23:59:59", "UTC", "2026-11-25"),
        ("2026-11-26T00:00:00", "UTC", "2026-11-26"),
        ("2026-11-26T04:59:59", "America/New_York", "2026-11-25"),
        ("2026-11-26T05:00:00", "America/New_York", "2026-11-26"),
        ("2026-03-08T04:59:59", "America/New_York", "2026-03-07"),
        ("2026-03-08T05:00:00", "America/New_York", "2026-03-08"),
        ("2026-03-09T03:59:59", "America/New_York", "2026-03-08"),
        ("2026-03-09T04:00:00", "America/New_York", "2026-03-09"),
        ("2026-11-01T03:59:59", "America/New_York", "2026-10-31"),
        ("2026-11-01T04:00:00", "America/New_York", "2026-11-01"),
        ("2026-11-02T04:59:59", "America/New_York", "2026-11-01"),
        ("2026-11-02T05:00:00", "America/New_York", "2026-11-02"),
        ("2026-06-30T18:29:59", "Asia/Kolkata", "2026-06-30"),
        ("2026-06-30T18:30:00", "Asia/Kolkata", "2026-07-01"),
        ("2026-12-31T10:59:59", "Pacific/Auckland", "2026-12-31"),
        ("2026-12-31T11:00:00", "Pacific/Auckland", "2027-01-01"),
    ],
)
def test_local_day(now: str, tz: str, day: str) -> None:
    """The day is the calendar date in the org's zone, switching at local midnight."""
    assert local_day(utc(now), tz) == day


def test_local_day_accepts_any_aware_datetime() -> None:
    """An aware datetime in another offset names the same instant, so the same local day."""
    now = datetime(2026, 11, 26, 0, 30, tzinfo=timezone(timedelta(hours=9)))
    assert local_day(now, "UTC") == "2026-11-25"
    assert local_day(now, "Asia/Tokyo") == "2026-11-26"


@pytest.mark.parametrize(
    ("now", "tz", "start", "end", "hours"),
    [
        ("2026-11-25T14:59:59", "Asia/Tokyo", "2026-11-24T15:00:00", "2026-11-25T15:00:00", 24),
        ("2026-11-25T15:00:00", "Asia/Tokyo", "2026-11-25T15:00:00", "2026-11-26T15:00:00", 24),
        ("2026-11-25T12:00:00", "UTC", "2026-11-25T00:00:00", "2026-11-26T00:00:00", 24),
        ("2026-03-07T12:00:00", "America/New_York", "2026-03-07T05:00:00", "2026-03-08T05:00:00", 24),
        ("2026-03-08T12:00:00", "America/New_York", "2026-03-08T05:00:00", "2026-03-09T04:00:00", 23),
        ("2026-03-09T12:00:00", "America/New_York", "2026-03-09T04:00:00", "2026-03-10T04:00:00", 24),
        ("2026-10-31T12:00:00", "America/New_York", "2026-10-31T04:00:00", "2026-11-01T04:00:00", 24),
        ("2026-11-01T12:00:00", "America/New_York", "2026-11-01T04:00:00", "2026-11-02T05:00:00", 25),
        ("2026-11-01T05:30:00", "America/New_York", "2026-11-01T04:00:00", "2026-11-02T05:00:00", 25),
        ("2026-11-02T12:00:00", "America/New_York", "2026-11-02T05:00:00", "2026-11-03T05:00:00", 24),
    ],
)
def test_day_window(now: str, tz: str, start: str, end: str, hours: int) -> None:
    """The window runs from local midnight to the next, 23 h / 25 h across DST changes."""
    window = day_window(utc(now), tz)
    assert window == (utc(start), utc(end))
    assert window[1] - window[0] == hours * HOUR
    assert window[0].tzinfo is UTC


@pytest.mark.parametrize(
    ("now", "tz", "seconds"),
    [
        ("2026-11-25T14:59:59", "Asia/Tokyo", 1),
        ("2026-11-25T14:59:59.999999", "Asia/Tokyo", 1),
        ("2026-11-25T14:59:58.500000", "Asia/Tokyo", 2),
        ("2026-11-25T15:00:00", "Asia/Tokyo", 86_400),
        ("2026-11-25T15:00:00.000001", "Asia/Tokyo", 86_400),
        ("2026-11-25T00:00:00", "UTC", 86_400),
        ("2026-11-25T23:00:00", "UTC", 3_600),
        ("2026-03-08T05:00:00", "America/New_York", 23 * 3_600),
        ("2026-11-01T04:00:00", "America/New_York", 25 * 3_600),
        ("2026-11-01T06:00:00", "America/New_York", 23 * 3_600),
    ],
)
def test_seconds_until_reset(now: str, tz: str, seconds: int) -> None:
    """Seconds to the next local midnight, rounded up and at least 1."""
    assert seconds_until_reset(utc(now), tz) == seconds


def test_tokyo_resets_at_tokyo_midnight_not_utc() -> None:
    """One second before 15:00 UTC is still Tokyo's day; at 15:00 UTC Tokyo's new day starts."""
    before, after = utc("2026-11-25T14:59:59"), utc("2026-11-25T15:00:00")
    assert (local_day(before, "Asia/Tokyo"), local_day(after, "Asia/Tokyo")) == ("2026-11-25", "2026-11-26")
    assert local_day(before, "UTC") == local_day(after, "UTC") == "2026-11-25"
    assert before + timedelta(seconds=seconds_until_reset(before, "Asia/Tokyo")) == after


@pytest.mark.parametrize(
    ("ts", "tz", "group", "bucket"),
    [
        ("2026-11-25T12:00:00", "UTC", "day", "2026-11-25"),
        ("2026-11-25T12:00:00", "UTC", "week", "2026-W48"),
        ("2026-11-25T12:00:00", "UTC", "month", "2026-11"),
        ("2026-11-25T15:00:00", "Asia/Tokyo", "day", "2026-11-26"),
        ("2026-11-30T14:59:59", "Asia/Tokyo", "month", "2026-11"),
        ("2026-11-30T15:00:00", "Asia/Tokyo", "month", "2026-12"),
        ("2026-12-31T12:00:00", "UTC", "day", "2026-12-31"),
        ("2026-12-31T12:00:00", "UTC", "week", "2026-W53"),
        ("2026-12-31T12:00:00", "UTC", "month", "2026-12"),
        ("2026-12-31T15:00:00", "Asia/Tokyo", "day", "2027-01-01"),
        ("2026-12-31T15:00:00", "Asia/Tokyo", "week", "2026-W53"),
        ("2026-12-31T15:00:00", "Asia/Tokyo", "month", "2027-01"),
        ("2027-01-03T23:59:59", "UTC", "week", "2026-W53"),
        ("2027-01-04T00:00:00", "UTC", "week", "2027-W01"),
        ("2027-01-04T03:00:00", "America/New_York", "week", "2026-W53"),
        ("2024-12-30T12:00:00", "UTC", "week", "2025-W01"),
        ("2024-12-30T12:00:00", "UTC", "month", "2024-12"),
        ("2026-03-01T04:59:59", "America/New_York", "month", "2026-02"),
    ],
)
def test_report_bucket(ts: str, tz: str, group: str, bucket: str) -> None:
    """Rows group by the org's local day, ISO week (year of the week) or month."""
    assert report_bucket(utc(ts), tz, group) == bucket


def test_report_bucket_rejects_unknown_group() -> None:
    """Only day, week and month are groups."""
    with pytest.raises(ValueError, match="report group"):
        report_bucket(utc("2026-11-25T12:00:00"), "UTC", "year")


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "../etc/passwd", "Asia/Tokyo "])
def test_unknown_zone_is_value_error(tz: str) -> None:
    """A zone that is not IANA raises ValueError."""
    with pytest.raises(ValueError, match="IANA"):
        local_day(utc("2026-11-25T12:00:00"), tz)


def test_naive_datetime_is_refused() -> None:
    """A naive 'now' is ambiguous, so it is refused rather than read as local time."""
    with pytest.raises(ValueError, match="aware"):
        day_window(datetime(2026, 11, 25, 12, 0), "Asia/Tokyo")
