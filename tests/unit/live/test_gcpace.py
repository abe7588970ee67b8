"""gateway.live.gcpace: when the full collection after a burst of connections runs (pure, a fake clock)."""

from __future__ import annotations

from gateway.live.gcpace import SPACING, CollectPacer


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.collect_takes = 0.0

    def __call__(self) -> float:
        return self.now


def _pacer(clock: Clock, ran: list[float]) -> CollectPacer:
    def collect() -> None:
        ran.append(clock.now)
        clock.now += clock.collect_takes

    return CollectPacer(collect, clock, quiet=0.5, min_new=100, share=0.25)


def _burst(p: CollectPacer, clock: Clock, n: int, gap: float = 0.001) -> None:
    for _ in range(n):
        clock.now += gap
        p.attached(clock.now)


def test_a_burst_is_collected_once_it_is_quiet() -> None:
    clock, ran = Clock(), list[float]()
    p = _pacer(clock, ran)
    _burst(p, clock, 1000)
    assert not p.maybe_collect(clock.now + 0.4, 1000)  # still within the quiet period
    assert p.maybe_collect(clock.now + 0.5, 1000)
    assert ran == [clock.now]
    assert not p.maybe_collect(clock.now + 5, 1000)  # nothing new since


def test_frames_in_flight_postpone_it() -> None:
    clock, ran = Clock(), list[float]()
    p = _pacer(clock, ran)
    _burst(p, clock, 1000)
    for _ in range(10):
        clock.now += 0.2
        p.active(clock.now)
        assert not p.maybe_collect(clock.now, 1000)
    assert p.maybe_collect(clock.now + 0.5, 1000)


def test_too_few_new_connections_are_left_to_the_interpreter() -> None:
    clock, ran = Clock(), list[float]()
    p = _pacer(clock, ran)
    _burst(p, clock, 99)
    assert not p.maybe_collect(clock.now + 10, 99)  # under min_new
    _burst(p, clock, 200)
    assert not p.maybe_collect(clock.now + 10, 10_000)  # 299 new is under a quarter of 10,000 open
    assert p.maybe_collect(clock.now + 10, 1_000)
    assert len(ran) == 1


def test_a_full_collection_by_the_interpreter_resets_the_count() -> None:
    clock, ran = Clock(), list[float]()
    p = _pacer(clock, ran)
    _burst(p, clock, 500)
    p.on_gc("start", {"generation": 2})
    assert p.due(clock.now + 1, 500)
    p.on_gc("stop", {"generation": 1, "collected": 0, "uncollectable": 0})
    assert p.due(clock.now + 1, 500)
    p.on_gc("stop", {"generation": 2, "collected": 0, "uncollectable": 0})
    assert not p.due(clock.now + 1, 500)
    assert not ran


def test_collections_are_spaced_by_their_cost() -> None:
    """A storm that pauses for ``quiet`` again and again does not collect at every pause."""
    clock, ran = Clock(), list[float]()
    clock.collect_takes = 0.05
    p = _pacer(clock, ran)
    _burst(p, clock, 300)
    clock.now += 0.5
    assert p.maybe_collect(clock.now, 300)
    _burst(p, clock, 300)
    clock.now += 0.5  # quiet again, 0.8 s after a 50 ms collection: too soon
    assert not p.maybe_collect(clock.now, 600)
    clock.now = ran[0] + 0.05 + SPACING * 0.05 + 0.001
    assert p.maybe_collect(clock.now, 600)
    assert len(ran) == 2
