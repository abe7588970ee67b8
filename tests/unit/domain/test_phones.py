"""Unit tests for gateway.domain.phones: E.164 normalisation."""

from __future__ import annotations

import pytest

from gateway.domain.phones import InvalidPhone, lookup_key, to_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("090-1234-5678", "JP", "+819012345678"),
        ("09012345678", "JP", "+819012345678"),
        ("080 1234 5678", "JP", "+818012345678"),
        ("+81 90-1234-5678", None, "+819012345678"),
        ("+819012345678", None, "+819012345678"),
        ("+81 90 1234 5678", "US", "+819012345678"),
        ("03-1234-5678", "JP", "+81312345678"),
        ("06-6123-4567", "jp", "+81661234567"),
        ("0120-123-456", "JP", "+81120123456"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("202.555.0143", "US", "+12025550143"),
        ("+1 650 253 0000", None, "+16502530000"),
        ("+1 (650) 253-0000", "JP", "+16502530000"),
        ("+91 98123 45678", None, "+919812345678"),
        ("+91 9812345678", None, "+919812345678"),
        ("09812345678", "IN", "+919812345678"),
        ("+44 20 7946 0958", None, "+442079460958"),
    ],
)
def test_to_e164_valid(raw: str, region: str | None, expected: str) -> None:
    """Valid numbers normalise to E.164; national formats are read in the given region."""
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("", "JP"),
        ("abc", "JP"),
        ("123", None),
        ("123", "JP"),
        ("090-1234-5678", None),
        ("0312345678", None),
        ("+81 1", None),
        ("+81 90 1234 567", None),
        ("+1 123 456 7890", None),
        ("+91 98123 4567", None),
        ("+91 0812345678", None),
        ("not a phone", "US"),
    ],
)
def test_to_e164_invalid(raw: str, region: str | None) -> None:
    """Unparseable, too short or impossible numbers raise InvalidPhone naming the input."""
    with pytest.raises(InvalidPhone) as info:
        to_e164(raw, region)
    assert repr(raw) in str(info.value)


def test_invalid_phone_is_a_value_error() -> None:
    """InvalidPhone subclasses ValueError."""
    assert issubclass(InvalidPhone, ValueError)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+81 90-1234-5678", "+819012345678"),
        ("+1 (650) 253-0000", "+16502530000"),
        ("  090-1234-5678 ", "090-1234-5678"),
        ("client:alice", "client:alice"),
        ("", ""),
    ],
)
def test_lookup_key(raw: str, expected: str) -> None:
    """lookup_key gives E.164 for international numbers and the stripped input otherwise."""
    assert lookup_key(raw) == expected
