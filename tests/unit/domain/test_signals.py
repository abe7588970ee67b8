"""Unit tests for gateway.domain.signals: the signal vocabulary and timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain.signals import SIGNAL_TYPE_SET, SIGNAL_TYPES, iso_utc


def test_iso_utc_epoch() -> None:
    """iso_utc(0) is the epoch with millisecond precision and a Z suffix."""
    assert iso_utc(0) == "1970-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    "ms",
    [
        1,
        999,
        1000,
        86_399_999,
        1_700_000_000_000,
        1_700_000_000_123,
        1_700_000_000_999,
        1_709_251_199_999,
        4_102_444_800_001,
    ],
)
def test_iso_utc_is_exact_to_the_millisecond(ms: int) -> None:
    """iso_utc renders the exact millisecond (no float rounding) in UTC."""
    expected = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    assert iso_utc(ms) == expected.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def test_iso_utc_known_value() -> None:
    """A known timestamp renders as expected."""
    assert iso_utc(1_700_000_000_123) == "2023-11-14T22:13:20.123Z"


def test_there_are_25_signal_types() -> None:
    """SIGNAL_TYPES lists the 25 signal types (SPEC's 24, call.voicemail and web.visited among them, and
    mailbox.auth_failed) without duplicates."""
    assert len(SIGNAL_TYPES) == 25
    assert {"call.voicemail", "credits.low", "web.visited", "mailbox.auth_failed"} <= set(SIGNAL_TYPES)
    assert len(set(SIGNAL_TYPES)) == len(SIGNAL_TYPES)
    assert frozenset(SIGNAL_TYPES) == SIGNAL_TYPE_SET


@pytest.mark.parametrize("kind", SIGNAL_TYPES)
def test_signal_type_shape(kind: str) -> None:
    """Each signal type is <family>.<event> in lower case."""
    assert re.fullmatch(r"[a-z]+\.[a-z_]+", kind)


@pytest.mark.parametrize(
    "kind",
    ["email.opened", "email.clicked", "sms.received", "sms.delivered", "sms.failed", "call.missed", "call.voicemail"],
)
def test_types_made_by_the_gateway_exist(kind: str) -> None:
    """The types the router drafts itself are part of the vocabulary."""
    assert kind in SIGNAL_TYPE_SET
