"""Unit tests for gateway.store.errors: which Redis errors the supervisor retries and which are bugs."""

from __future__ import annotations

import pytest
from redis import exceptions as rx

from gateway.store.errors import is_transient, stream_gone


@pytest.mark.parametrize(
    "exc",
    [
        rx.ConnectionError("Error 111 connecting"),
        rx.TimeoutError("Timeout reading from socket"),
        rx.BusyLoadingError("Redis is loading the dataset in memory"),
        rx.ReadOnlyError("You can't write against a read only replica."),  # redis-py strips "READONLY"
        rx.OutOfMemoryError("command not allowed when used memory > 'maxmemory'."),  # ... and "OOM"
        rx.ResponseError("BUSY Redis is busy running a script. You can only call SCRIPT KILL"),
        rx.ResponseError("UNBLOCKED the stream key no longer exists"),
        rx.ResponseError("NOGROUP No such key 'sg:{p3}:events' or consumer group 'routers'"),
        rx.ResponseError("MASTERDOWN Link with MASTER is down"),
        ConnectionResetError(),
        TimeoutError(),
        # Redis Cluster, as redis-py 5.3 raises it (the reply code stripped, or no reply at all):
        rx.ClusterDownError("The cluster is down"),
        rx.MasterDownError("Link with MASTER is down and replica-serve-stale-data is set to 'no'."),
        rx.TryAgainError("Multiple keys request during rehashing of slot"),
        rx.SlotNotCoveredError("Slot 5 not covered by the cluster."),
        rx.ClusterError("TTL exhausted."),
    ],
)
def test_transient(exc: Exception) -> None:
    """Redis down, restarting, busy or full, or a vanished stream: the same call may work later."""
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        rx.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
        rx.ResponseError("BUSYGROUP Consumer Group name already exists"),
        rx.ResponseError("ERR syntax error"),
        rx.DataError("Invalid input of type: 'NoneType'"),
        rx.RedisClusterException("EVALSHA - all keys must map to the same key slot"),  # a CROSSSLOT bug
        rx.ClusterCrossSlotError("Keys in request don't hash to the same slot"),
        KeyError("org"),
        AssertionError(),
    ],
)
def test_not_transient(exc: Exception) -> None:
    """Bugs and wrong commands are not retried as if Redis were away."""
    assert not is_transient(exc)


def test_stream_gone() -> None:
    """NOGROUP and UNBLOCKED mean "recreate the consumer group"; other replies do not."""
    assert stream_gone(rx.ResponseError("UNBLOCKED the stream key no longer exists"))
    assert stream_gone(rx.ResponseError("NOGROUP No such key"))
    assert not stream_gone(rx.ResponseError("BUSYGROUP Consumer Group name already exists"))
    assert not stream_gone(rx.ConnectionError("down"))
