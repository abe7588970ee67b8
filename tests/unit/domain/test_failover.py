"""gateway.domain.failover: heartbeat timing derived from failover_seconds, and who is dead."""

from __future__ import annotations

import pytest

from gateway.domain.failover import FailoverTiming, orphaned, partition_share


def test_default_timing() -> None:
    """failover_seconds 5: heartbeats live 3 s, refreshed every 0.75 s; peers look every second."""
    t = FailoverTiming(5.0)
    assert (t.heartbeat_ttl_ms, t.beat_seconds, t.check_seconds, t.detection_seconds) == (3000, 0.75, 1.0, 4.0)


@pytest.mark.parametrize("seconds", [1.0, 2.5, 5.0, 7.3, 60.0, 600.0])
def test_a_death_is_noticed_within_failover_seconds_and_a_live_process_has_slack(seconds: float) -> None:
    """Heartbeat expiry plus one check stays inside failover_seconds with room left for the takeover;
    a live process must miss more than two refreshes in a row before it looks dead."""
    t = FailoverTiming(seconds)
    assert t.detection_seconds <= 0.8 * seconds + 0.001
    assert t.heartbeat_ttl_ms / 1000 >= 4 * t.beat_seconds - 0.001
    assert 0 < t.beat_seconds < t.heartbeat_ttl_ms / 1000 / 3


def test_orphaned_holders_are_those_without_a_heartbeat() -> None:
    """Every holder whose heartbeat is missing, once each and in order — never this process."""
    holders = ["a", "me", "b", "c", "b", "d"]
    assert orphaned(holders, alive={"a", "c"}, me="me") == ["b", "d"]
    assert orphaned(holders, alive=set(), me="me") == ["a", "b", "c", "d"]
    assert orphaned([], alive={"a"}, me="me") == []
    assert orphaned(["me"], alive=set(), me="me") == []


@pytest.mark.parametrize(("routers", "share"), [(0, 16), (1, 16), (2, 8), (3, 6), (5, 4), (16, 1), (40, 1)])
def test_partition_share_leaves_room_for_every_partition(routers: int, share: int) -> None:
    """Each live router may hold the fair share of the 16 partitions, rounded up: all are held."""
    assert partition_share(16, routers) == share
    assert partition_share(16, routers) * max(1, routers) >= 16
