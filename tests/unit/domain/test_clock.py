"""gateway/domain/clock.py: the one wall-clock reader, in epoch milliseconds."""

from __future__ import annotations

import time

from gateway.domain.clock import now_ms


def test_now_ms_is_the_wall_clock_in_whole_milliseconds() -> None:
    before = time.time() * 1000
    now = now_ms()
    after = time.time() * 1000
    assert isinstance(now, int)
    assert int(before) <= now <= after
