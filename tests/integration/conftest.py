"""Integration tests: every WebSocket feed a test opened is closed at its end, passed or failed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.ws import close_feeds


@pytest.fixture(autouse=True)
async def _close_feeds() -> AsyncIterator[None]:
    yield
    await close_feeds()
