"""The live path's view of Redis errors (gateway.store.errors.is_transient: 1013, not 1011) and the
revocation message of gateway.store.live."""

from __future__ import annotations

import pytest
from redis.exceptions import BusyLoadingError, ReadOnlyError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.store.errors import is_transient
from gateway.store.live import REVOKED, parse_revocation, revocation


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (RedisConnectionError("Error 111 connecting"), True),
        (RedisTimeoutError("Timeout reading"), True),
        (BusyLoadingError("Redis is loading the dataset in memory"), True),
        (ReadOnlyError("You can't write against a read only replica."), True),
        (ResponseError("BUSY Redis is busy running a script."), True),
        (ResponseError("OOM command not allowed when used memory > 'maxmemory'."), True),
        (ResponseError("UNBLOCKED the stream key no longer exists"), True),
        (ConnectionResetError("reset by peer"), True),
        (ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"), False),
        (ResponseError("ERR unknown command"), False),
        (ResponseError("BUSYGROUP Consumer Group name already exists"), False),
        (KeyError("type"), False),
        (AssertionError(), False),
        (RuntimeError("bug"), False),
    ],
    ids=repr,
)
def test_what_the_live_path_retries(exc: BaseException, transient: bool) -> None:
    """Connection loss and Redis' busy/loading/read-only/OOM/unblocked replies are transient; bugs are not."""
    assert is_transient(exc) is transient


@pytest.mark.parametrize("ids", [["tk_b", "tk_a"], [], None])
def test_revocation_round_trip(ids: list[str] | None) -> None:
    """A revocation names its token ids (or all, as None) in the cursor slot's ``revoked`` frame."""
    cursor, _, payload = revocation(ids).partition("\n")
    assert cursor == REVOKED
    assert parse_revocation(payload) == (None if ids is None else frozenset(ids))
