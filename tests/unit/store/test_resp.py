"""Hand-packed RESP (gateway.store.resp) is byte for byte what redis-py's pack_command sends."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from gateway.store.resp import command

CASES: list[tuple[Any, ...]] = [
    ("PING",),
    ("EVALSHA", "a" * 40, 2, "sg:{acme}:feed:u1", "sg:{acme}:done:p3-1-0:u1", 0, -7, 10**20, 2.5, 1e-9),
    ("HSET", "k", "顧客", "ベンチマーク回答 😀", b"\x00\xff raw", ""),
    ("XACK", "sg:{p:3}:events", "routers", *(f"17000000{i}-{i}" for i in range(300))),
]


@pytest.mark.parametrize("args", CASES, ids=[c[0] for c in CASES])
def test_command_is_what_redis_py_sends(args: tuple[Any, ...]) -> None:
    assert command(args) == b"".join(Connection().pack_command(*args))


@pytest.mark.parametrize("bad", [True, None, object(), [1]])
def test_what_redis_py_refuses_is_refused(bad: Any) -> None:
    with pytest.raises(DataError):
        Connection().pack_command("SET", "k", bad)
    with pytest.raises(DataError):
        command(("SET", "k", bad))
