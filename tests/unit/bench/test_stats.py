"""``gateway.bench.stats``: percentiles and ratios."""

from __future__ import annotations

from gateway.bench.stats import latency_ms, ratio


def test_percentiles_are_nearest_rank_in_ms() -> None:
    """p50/p90/p99/max of microsecond samples, in milliseconds."""
    lat = latency_ms(list(range(1000, 101_000, 1000)))  # 1..100 ms
    assert (lat.count, lat.p50_ms, lat.p90_ms, lat.p99_ms, lat.max_ms) == (100, 50.0, 90.0, 99.0, 100.0)
    assert latency_ms([]).p99_ms is None
    assert ratio(50, 200) == 0.25 and ratio(1, 0) is None and ratio(None, 3) is None
