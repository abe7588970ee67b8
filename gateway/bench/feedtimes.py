"""What the ``route`` and ``failover`` scenarios read back from the users' feeds. Pure.

Every routed event leaves exactly one feed entry (a new signal, or a grouped update of one), and
Redis gives that entry an id from its own clock at the moment of the write; the entry's signal
JSON carries ``occurred_at`` (when the event was appended, to the millisecond) and the event's
``data`` (the bench puts its sequence number there). So, per event: accepted at, written at.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from gateway.bench.stats import Latency, latency_ms

# One feed stream entry as redis-py returns it: (entry id, fields).
FeedEntry = tuple[str, dict[str, str]]


@dataclass(frozen=True, slots=True)
class FeedWrite:
    seq: int
    accepted_ms: int
    written_ms: int

    @property
    def latency_ms(self) -> int:
        return self.written_ms - self.accepted_ms


def entry_ms(entry_id: str) -> int:
    """The millisecond part of a stream entry id: when Redis wrote it."""
    return int(entry_id.split("-", 1)[0])


def iso_ms(text: str) -> int:
    """``2026-01-01T00:00:00.123Z`` (the gateway's ``occurred_at``) in milliseconds since the epoch."""
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def feed_writes(entries: Iterable[FeedEntry]) -> list[FeedWrite]:
    """The bench's events among these feed entries (those whose ``data`` carries a ``seq``)."""
    out: list[FeedWrite] = []
    for entry_id, fields in entries:
        signal = orjson.loads(fields["s"])
        seq = (signal.get("data") or {}).get("seq")
        if isinstance(seq, int):
            out.append(FeedWrite(seq, iso_ms(signal["occurred_at"]), entry_ms(entry_id)))
    return out


def write_latency(writes: Sequence[FeedWrite]) -> Latency:
    """Accept-to-feed-write percentiles (millisecond resolution: both clocks tick in ms)."""
    return latency_ms([max(0, w.latency_ms) * 1000 for w in writes])


def routed_rate(writes: Sequence[FeedWrite], start_ms: int, end_ms: int) -> float:
    """Events written per second within ``[start_ms, end_ms)``."""
    if end_ms <= start_ms:
        return 0.0
    inside = sum(1 for w in writes if start_ms <= w.written_ms < end_ms)
    return round(inside * 1000 / (end_ms - start_ms), 1)


def drain_rate(writes: Sequence[FeedWrite], stopped_ms: int) -> float | None:
    """Events written per second after the producer stopped (None: too few to tell). Far above the
    loaded rate, it would say the producer slowed the routers down."""
    after = [w.written_ms for w in writes if w.written_ms >= stopped_ms]
    if len(after) < 2 or max(after) <= stopped_ms:
        return None
    return round(len(after) * 1000 / (max(after) - stopped_ms), 1)


def seq_check(sent: Iterable[int], writes: Sequence[FeedWrite]) -> tuple[int, int]:
    """(lost, duplicated) of the sent sequence numbers, from the feed entries alone."""
    seen = Counter(w.seq for w in writes)
    wanted = set(sent)
    lost = sum(1 for s in wanted if s not in seen)
    duplicated = sum(n - 1 for s, n in seen.items() if s in wanted and n > 1)
    return lost, duplicated


def refill(appended: int, routed: int, window: int) -> int:
    """Events to append now so that ``window`` are appended and not yet routed (never negative)."""
    return max(0, window - (appended - routed))


def takeover_seconds(held: Iterable[int], writes: Sequence[FeedWrite], killed_ms: int) -> float | None:
    """Seconds from the kill until the last event a killed router held is in a feed (None: one is
    missing). An event written before the kill (the router died between write and ack) counts 0."""
    wanted = set(held)
    last: dict[int, int] = {}
    for w in writes:
        if w.seq in wanted:
            last[w.seq] = max(last.get(w.seq, 0), w.written_ms)
    if not wanted or len(last) < len(wanted):
        return None
    return round(max(0, max(last.values()) - killed_ms) / 1000, 3)


def route_figure(routers: int) -> str:
    """The figure of the ``route`` scenario with this many routers: ``route`` for one."""
    return "route" if routers == 1 else f"route_{routers}r"
