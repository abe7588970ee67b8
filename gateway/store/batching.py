"""Coalesces concurrent calls of one Lua script into pipelines (auto-pipelining).

Under load many requests append events at the same moment; each would pay a full Redis round
trip and redis-py's per-command overhead. Calls made while a flush is pending join the next
pipeline (non-transactional: each script is still atomic on its own), and every caller awaits its
own result, so nothing is answered before its own write is in Redis. A lone call costs one
event-loop tick more than a direct call, never a timer: at low rates nothing waits for a batch to
fill. While one pipeline is in flight the next one gathers, so under load each write waits at
most one round trip for its turn.

The pipeline is written on a pooled connection directly: every EVALSHA of the batch packed into
one buffer (RESP, the same bytes redis-py would send, several times cheaper than its
``pack_command``), then one reply read per command. Like a redis-py pipeline without retries (the
client's setting), a connection error fails the whole batch and nothing is sent twice.

On a Redis Cluster a batch mixes slots (partition streams live on every node): it goes through the
cluster client's pipeline instead, which sends each node the EVALSHAs of the slots it owns (one
pipeline per node, concurrently) and follows MOVED/ASK one command at a time; a connection error
still fails the whole batch, sent once (``cluster_error_retry_attempts = 1``, see
:mod:`gateway.store.connect`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import DataError, NoScriptError, ResponseError

from gateway.store.connect import is_cluster

# Bounds one pipeline's size (memory and head-of-line latency), not the concurrency.
MAX_BATCH = 256
# Loads of a script forgotten again while a batch runs (a node restarting or flushed repeatedly).
NOSCRIPT_RETRIES = 3


class ScriptBatcher:
    def __init__(self, redis: Redis, script: AsyncScript) -> None:
        self._redis = redis
        self._script = script
        self._cluster = is_cluster(redis)
        self._pending: list[tuple[list[str], list[Any], asyncio.Future[Any]]] = []
        self._flushing = False
        self._flush_task: asyncio.Task[None] | None = None  # kept: the loop holds tasks only weakly

    async def __call__(self, keys: list[str], args: list[Any]) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((keys, args, fut))
        if not self._flushing:
            self._flushing = True
            self._flush_task = asyncio.get_running_loop().create_task(self._flush())
        return await fut

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(0)  # let the other requests of this loop iteration join
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._run(batch)
        finally:
            self._flushing = False

    async def _evalsha_all(self, batch: list[tuple[list[str], list[Any], asyncio.Future[Any]]]) -> list[Any]:
        if self._cluster:
            return await self._evalsha_by_node(batch)
        # EVALSHA straight into the pipeline: redis-py's script-in-pipeline path would send a
        # SCRIPT EXISTS round trip before every batch.
        sha = _bulk(self._script.sha)
        payload = b"".join([_command(sha, keys, args) for keys, args, _ in batch])
        pool = self._redis.connection_pool
        conn = await pool.get_connection()
        try:
            await conn.send_packed_command(payload)
            results: list[Any] = []
            for _ in batch:
                try:
                    results.append(await conn.read_response())
                except ResponseError as exc:  # this command's error (NOSCRIPT, a script error), not the batch's
                    results.append(exc)
        except BaseException:
            await conn.disconnect()  # replies may be left unread: the connection is not reused
            raise
        finally:
            await pool.release(conn)
        return results

    async def _evalsha_by_node(self, batch: list[tuple[list[str], list[Any], asyncio.Future[Any]]]) -> list[Any]:
        """The batch through the cluster client's pipeline: one pipeline per node owning its slots."""
        pipe = self._redis.pipeline(transaction=False)
        for keys, args, _ in batch:
            pipe.execute_command("EVALSHA", self._script.sha, len(keys), *keys, *args)
        results: list[Any] = await pipe.execute(raise_on_error=False)
        return results

    async def _run(self, batch: list[tuple[list[str], list[Any], asyncio.Future[Any]]]) -> None:
        try:
            results = await self._evalsha_all(batch)
            for _ in range(NOSCRIPT_RETRIES):
                # Redis restarted or flushed. Only the refused calls run again: on a cluster one
                # master can forget its scripts while the others ran their calls of this batch.
                again = [i for i, r in enumerate(results) if isinstance(r, NoScriptError)]
                if not again:
                    break
                self._script.sha = await self._redis.script_load(self._script.script)
                for i, result in zip(again, await self._evalsha_all([batch[i] for i in again]), strict=True):
                    results[i] = result
        except Exception as exc:
            for _, _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, _, fut), result in zip(batch, results, strict=True):
            if fut.done():
                continue
            if isinstance(result, Exception):
                fut.set_exception(result)
            else:
                fut.set_result(result)


def _bulk(value: str | bytes | int | float) -> bytes:
    """One RESP bulk string, encoded as redis-py's ``Encoder`` does (UTF-8 str, repr of a number)."""
    if isinstance(value, str):
        value = value.encode()
    elif isinstance(value, bool) or not isinstance(value, (bytes, int, float)):
        raise DataError(
            f"Invalid input of type: {type(value).__name__!r}. Convert to a bytes, string, int or float first."
        )
    elif not isinstance(value, bytes):
        value = repr(value).encode()
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _command(sha: bytes, keys: list[str], args: list[Any]) -> bytes:
    """``EVALSHA sha numkeys *keys *args`` as RESP."""
    parts = [b"*%d\r\n$7\r\nEVALSHA\r\n" % (3 + len(keys) + len(args)), sha, _bulk(len(keys))]
    parts += [_bulk(k) for k in keys]
    parts += [_bulk(a) for a in args]
    return b"".join(parts)
