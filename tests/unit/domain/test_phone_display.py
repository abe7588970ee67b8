"""Unit tests for gateway.domain.phone_display: numbers as the org's country reads them."""

from __future__ import annotations

import pytest

from gateway.domain.phone_display import display


@pytest.mark.parametrize(
    ("number", "country", "shown"),
    [
        ("+819012345678", "JP", "090-1234-5678"),  # national in the org's own country
        ("+815012345678", "jp", "050-1234-5678"),
        ("+819012345678", "US", "+81 90-1234-5678"),  # international from elsewhere
        ("+14155550134", "US", "(415) 555-0134"),
        ("+14155550134", "JP", "+1 415-555-0134"),
        ("+14155550134", None, "+1 415-555-0134"),
        ("anonymous", "JP", "anonymous"),  # Twilio's caller id when withheld: as given
        ("", "JP", ""),
        ("+1", "US", "+1"),
    ],
)
def test_display(number: str, country: str | None, shown: str) -> None:
    """National format for the org's country, international otherwise; anything unparseable unchanged."""
    assert display(number, country) == shown
