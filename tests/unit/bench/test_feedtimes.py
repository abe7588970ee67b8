"""``gateway.bench.feedtimes``: accept and write times of routed events, read back from feed entries."""

from __future__ import annotations

import orjson

from gateway.bench.feedtimes import (
    FeedWrite,
    drain_rate,
    feed_writes,
    iso_ms,
    refill,
    route_figure,
    routed_rate,
    seq_check,
    takeover_seconds,
    write_latency,
)
from gateway.domain.signals import iso_utc


def _entry(entry_id: str, at_ms: int, data: dict[str, object], kind: str = "n") -> tuple[str, dict[str, str]]:
    signal = {"type": "survey.answered", "occurred_at": iso_utc(at_ms), "data": data}
    return entry_id, {"k": kind, "n": "1", "s": orjson.dumps(signal).decode()}


def test_each_feed_entry_gives_its_events_accept_and_write_time() -> None:
    """New signals and grouped updates alike; entries of other events (no seq) are not the bench's."""
    at = 1_767_225_600_123
    entries = [
        _entry(f"{at + 7}-0", at, {"seq": 5}),
        _entry(f"{at + 40}-3", at + 2, {"seq": 6}, kind="u"),
        _entry(f"{at + 41}-0", at + 3, {"other": 1}),
    ]
    assert iso_ms(iso_utc(at)) == at
    assert feed_writes(entries) == [FeedWrite(5, at, at + 7), FeedWrite(6, at + 2, at + 40)]
    lat = write_latency(feed_writes(entries))
    assert (lat.count, lat.p50_ms, lat.max_ms) == (2, 7.0, 38.0)


def test_rate_counts_writes_inside_the_window_only() -> None:
    """Events written per second between the producer's start and stop; the drain after is its own rate."""
    writes = [FeedWrite(i, 0, 1000 + 10 * i) for i in range(300)]  # 100/s from 1000 ms to 3990 ms
    assert routed_rate(writes, 1000, 2000) == 100.0
    assert routed_rate(writes, 2000, 2000) == 0.0
    assert drain_rate(writes, 3000) == 101.0  # 100 writes from 3000 to 3990 ms
    assert drain_rate(writes, 5000) is None


def test_lost_and_duplicated_by_sequence_number() -> None:
    """A sent event missing from the feeds is lost; one written twice is duplicated; others' events don't count."""
    writes = [FeedWrite(1, 0, 1), FeedWrite(2, 0, 1), FeedWrite(2, 0, 2), FeedWrite(9, 0, 3)]
    assert seq_check([1, 2, 3], writes) == (1, 1)
    assert seq_check([1], writes) == (0, 0)


def test_refill_keeps_the_window_full() -> None:
    assert refill(0, 0, 1000) == 1000
    assert refill(1000, 250, 1000) == 250
    assert refill(1000, 0, 1000) == 0
    assert refill(1200, 0, 1000) == 0  # never negative


def test_takeover_waits_for_the_last_held_event() -> None:
    """Seconds from the kill to the last held event's write; one written before the death counts 0;
    a held event that never reached a feed gives no figure."""
    killed = 10_000
    writes = [FeedWrite(1, 0, 9_000), FeedWrite(2, 0, 12_500), FeedWrite(3, 0, 11_000)]
    assert takeover_seconds([1, 2, 3], writes, killed) == 2.5
    assert takeover_seconds([1], writes, killed) == 0.0
    assert takeover_seconds([1, 4], writes, killed) is None
    assert takeover_seconds([], writes, killed) is None


def test_route_figures_are_named_by_router_count() -> None:
    """The scenario key ``route`` is the one-router figure."""
    assert [route_figure(n) for n in (1, 2, 4)] == ["route", "route_2r", "route_4r"]
