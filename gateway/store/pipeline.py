"""Many repository calls in one Redis round trip: the router's batches.

A repository method named ``queue_<what>`` adds its commands to a :class:`Round` and returns a
:class:`Slot`; :meth:`Round.run` sends everything in one non-transactional pipeline and fills the
slots. Each command (each Lua script) is still atomic on its own; nothing spans commands, which is
why every write queued here is idempotent by itself (done markers, status ranks, flags). Scripts go
as EVALSHA; a NOSCRIPT (Redis restarted or flushed) reloads the script and sends the refused
commands again. The round is packed and sent as raw RESP on a pooled connection (see
:func:`execute`). Any other error in a reply is raised after the round (the router's batch is then
retried as a whole: see ``gateway.routing.router``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError

from gateway.store import resp
from gateway.store.connect import is_cluster

T = TypeVar("T")
_UNSET: Any = object()


class Slot(Generic[T]):
    """The decoded result of one queued call, readable after its round ran."""

    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value: T = _UNSET

    @property
    def value(self) -> T:
        if self._value is _UNSET:
            raise RuntimeError("the round of this slot has not run")
        return self._value


class Round:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        # (command name and arguments, script to reload on NOSCRIPT or None)
        self._commands: list[tuple[tuple[Any, ...], AsyncScript | None]] = []
        # (slot, first command index, number of commands, decoder of their replies)
        self._calls: list[tuple[Slot[Any], int, int, Callable[[list[Any]], Any]]] = []

    def __len__(self) -> int:
        return len(self._commands)

    def command(self, *args: Any) -> int:
        """Queue one raw command (redis-py's reply callbacks apply by name); its index."""
        self._commands.append((args, None))
        return len(self._commands) - 1

    def script(self, script: AsyncScript, keys: list[str], args: list[Any]) -> int:
        """Queue one EVALSHA of ``script``; its index."""
        self._commands.append((("EVALSHA", script.sha, len(keys), *keys, *args), script))
        return len(self._commands) - 1

    def slot(self, first: int, decode: Callable[[list[Any]], T]) -> Slot[T]:
        """A slot decoding the replies of the commands queued from index ``first`` on."""
        slot: Slot[T] = Slot()
        self._calls.append((slot, first, len(self._commands) - first, decode))
        return slot

    async def run(self) -> None:
        if not self._commands:
            return
        replies = await self._send(list(range(len(self._commands))))
        refused = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if refused:
            for script in {id(s): s for i in refused if (s := self._commands[i][1]) is not None}.values():
                script.sha = await self._redis.script_load(script.script)
            for i, reply in zip(refused, await self._send(refused), strict=True):
                replies[i] = reply
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        for slot, first, count, decode in self._calls:
            slot._value = decode(replies[first : first + count])

    async def _send(self, indices: list[int]) -> list[Any]:
        commands = []
        for i in indices:
            args, script = self._commands[i]
            if script is not None:  # the sha may have been reloaded since it was queued
                args = ("EVALSHA", script.sha, *args[2:])
            commands.append(args)
        return await execute(self._redis, commands)


async def execute(redis: Redis, commands: list[tuple[Any, ...]], *, callbacks: bool = True) -> list[Any]:
    """``commands`` packed into one buffer (:mod:`gateway.store.resp`) and written on a pooled
    connection, then one reply read per command: what a redis-py pipeline does, without its
    per-command packing. A command's error is its reply; with ``callbacks``, redis-py's reply
    callback (by command name) applies to every other reply, else replies come as parsed RESP. A
    connection error (or a cancellation) fails the whole call and drops the connection, unread
    replies and all, like a pipeline without retries.

    On a Redis Cluster (no single connection pool) the commands go through the cluster client's
    pipeline instead: one pipeline per node owning their slots, MOVED/ASK followed per command,
    reply callbacks always applied (whatever ``callbacks`` says)."""
    if is_cluster(redis):
        return await _execute_on_cluster(redis, commands)
    payload = b"".join([resp.command(args) for args in commands])
    known = redis.response_callbacks if callbacks else {}
    pool = redis.connection_pool
    conn = await pool.get_connection()
    try:
        await conn.send_packed_command(payload)
        replies: list[Any] = []
        for args in commands:
            try:
                reply = await conn.read_response()
            except ResponseError as exc:
                replies.append(exc)
                continue
            callback = known.get(args[0])
            replies.append(reply if callback is None else callback(reply))
    except BaseException:
        await conn.disconnect()  # replies may be left unread: the connection is not reused
        raise
    finally:
        await pool.release(conn)
    return replies


async def _execute_on_cluster(redis: Redis, commands: list[tuple[Any, ...]]) -> list[Any]:
    pipe: Any
    async with redis.pipeline(transaction=False) as pipe:
        for args in commands:
            pipe.execute_command(*args)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
    return replies
