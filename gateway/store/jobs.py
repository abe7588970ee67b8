"""The job queue contract shared by the gateway (producer) and the workers (consumer), on arq.

Any arq client can submit sends straight to Redis: job ``send_sms`` or ``send_email`` on queue
``signalgate:queue``, keyword arguments as the REST body plus ``org``, ``_job_id`` = the
idempotency key, JSON serialization (never pickle: jobs come from other services). arq may run a
job more than once, so every job is idempotent by its notification.

:class:`JobQueue` enqueues (its arq pool is opened on first use: only the gateway enqueues), and
:func:`run_worker` runs an arq ``Worker`` under our own shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker

log = logging.getLogger("signalgate.worker")

QUEUE_NAME = "signalgate:queue"
SEND_SMS = "send_sms"
SEND_EMAIL = "send_email"
SEND_REMINDER = "send_reminder"
SEGMENT_FANOUT = "segment_fanout"


def send_job_id(org: str, idempotency_key: str) -> str:
    """arq job ids share one namespace across orgs: the REST API scopes them by org, so two orgs
    using the same idempotency key never refuse each other's job (the worker is idempotent by the
    org's notification, so a direct client's job for the same send is a no-op, not a second send)."""
    return f"send:{org}:{idempotency_key}"


def fanout_job_id(org: str, batch: str, step: int) -> str:
    """One job per chunk of a segment send: step ``n`` walks the n-th chunk of the org's contacts."""
    return f"fanout:{org}:{batch}:{step}"


def serialize(job: dict[str, Any]) -> bytes:
    return orjson.dumps(job)


def deserialize(raw: bytes) -> dict[str, Any]:
    value = orjson.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("job payload must be a JSON object")
    return value


class JobQueue:
    """Submits jobs to ``signalgate:queue``; a job id already queued or done is not queued again."""

    def __init__(self, redis_url: str) -> None:
        self._url = redis_url
        self._pool: ArqRedis | None = None
        self._lock = asyncio.Lock()

    async def _arq(self) -> ArqRedis:
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._pool is None:
                self._pool = await create_pool(
                    RedisSettings.from_dsn(self._url), job_serializer=serialize, job_deserializer=deserialize
                )
            return self._pool

    async def enqueue(self, function: str, job_id: str, defer_until: datetime | None, **kwargs: Any) -> None:
        arq = await self._arq()
        if defer_until is not None and defer_until <= datetime.now(tz=UTC):
            # A time already past means now; arq would set a negative expiry (PSETEX error).
            defer_until = None
        await arq.enqueue_job(function, _job_id=job_id, _queue_name=QUEUE_NAME, _defer_until=defer_until, **kwargs)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None


async def run_worker(worker: Worker, stop: asyncio.Event, grace: float = 5.0) -> None:
    """Run ``worker`` until ``stop``: then take no more jobs and let running ones finish.

    Jobs still running after ``grace`` seconds are cancelled (arq hands them to another worker
    once their in-progress key expires, and every send is idempotent, so a cancelled send is
    never doubled). If the worker fails (Redis went away), its running jobs get the same grace,
    it is closed as far as Redis lets it, and the error is raised for the supervisor, which
    starts a new worker.
    """
    main = asyncio.create_task(worker.main(), name="arq-worker")
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({main, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        main.cancel()
        await asyncio.wait({main})
        await _finish_jobs(worker, grace)
        await _close(worker)
    if not main.cancelled() and main.exception() is not None:
        raise main.exception()  # type: ignore[misc]


async def _finish_jobs(worker: Worker, grace: float) -> None:
    running = [t for t in worker.tasks.values() if not t.done()]
    if running:
        log.info("waiting up to %.0f s for %d running job(s)", grace, len(running))
        _, late = await asyncio.wait(running, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.wait(running)
        for task in running:  # arq handles a job's own errors; anything here is arq's or ours
            if not task.cancelled() and task.exception() is not None:
                log.error("worker: a job task failed", exc_info=task.exception())
    worker.tasks.clear()


async def _close(worker: Worker) -> None:
    """``worker.close()``; when Redis cannot be reached, still release what the worker holds."""
    try:
        await worker.close()
    except Exception as exc:  # Redis is down (the usual reason we are here): close what is ours
        log.warning("worker: closing without Redis (%s)", exc)
        if worker.on_shutdown is not None:
            with contextlib.suppress(Exception):
                await worker.on_shutdown(worker.ctx)
        pool = worker._pool  # arq keeps it private; close() never got to it
        if pool is not None:
            worker._pool = None
            with contextlib.suppress(Exception):
                await pool.aclose()
