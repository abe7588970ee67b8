"""Coalesces concurrent calls of one Lua script into pipelines (auto-pipelining).

Under load many requests append events at the same moment; each would pay a full Redis round
trip and redis-py's per-command overhead. Calls made while a flush is pending join the next
pipeline (non-transactional: each script is still atomic on its own), and every caller awaits its
own result, so nothing is answered before its own write is in Redis. A lone call costs one
event-loop tick more than a direct call, never a timer: at low rates nothing waits for a batch to
fill. While one pipeline is in flight the next one gathers, so under load each write waits at
most one round trip for its turn.

The pipeline is written on a pooled connection directly (:func:`gateway.store.pipeline.execute`):
every EVALSHA of the batch packed into one buffer (RESP, the same bytes redis-py would send,
several times cheaper than its ``pack_command``), then one reply read per command. Like a redis-py
pipeline without retries (the client's setting), a connection error fails the whole batch and
nothing is sent twice.

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
from redis.exceptions import NoScriptError

from gateway.store.pipeline import execute

# Bounds one pipeline's size (memory and head-of-line latency), not the concurrency.
MAX_BATCH = 256
# Loads of a script forgotten again while a batch runs (a node restarting or flushed repeatedly).
NOSCRIPT_RETRIES = 3


class ScriptBatcher:
    def __init__(self, redis: Redis, script: AsyncScript) -> None:
        self._redis = redis
        self._script = script
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
        # EVALSHA straight into the pipeline: redis-py's script-in-pipeline path would send a
        # SCRIPT EXISTS round trip before every batch.
        sha = self._script.sha
        commands = [("EVALSHA", sha, len(keys), *keys, *args) for keys, args, _ in batch]
        return await execute(self._redis, commands, callbacks=False)

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
