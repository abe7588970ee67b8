"""Unit tests for gateway.edge.metrics: the bearer check of /metrics."""

from __future__ import annotations

import pytest

from gateway.domain.bearer import bearer_matches

TOKEN = "metrics-token-0123456789"


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer {TOKEN}", True),
        (f"Bearer  {TOKEN} ", True),
        (None, False),
        ("", False),
        (TOKEN, False),
        (f"Basic {TOKEN}", False),
        (f"Bearer {TOKEN}x", False),
        (f"Bearer {TOKEN[:-1]}", False),
        ("Bearer ", False),
        ("Bearer ü", False),
    ],
)
def test_only_the_exact_bearer_token_matches(header: str | None, ok: bool) -> None:
    """Scheme case-insensitive, token exact; anything else is refused."""
    assert bearer_matches(header, TOKEN) is ok


def test_no_token_configured_means_open() -> None:
    """An empty metrics_token leaves /metrics open (protect it with metrics_port instead)."""
    assert bearer_matches(None, "")
