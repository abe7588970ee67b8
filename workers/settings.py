"""Composition root of a worker process: the arq Worker and its startup/shutdown."""

from __future__ import annotations

from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker, func

from gateway.config import Config
from workers import jobs
from workers.deps import build_deps
from workers.queue import QUEUE_NAME, SEND_EMAIL, SEND_REMINDER, SEND_SMS, deserialize, serialize

# Reconciling an interrupted SMS attempt may need a few extra runs beyond the retry budget.
_RECONCILE_TRIES = 5


def make_worker(config: Config, redis_url: str, *, handle_signals: bool) -> Worker:
    async def startup(ctx: dict[str, Any]) -> None:
        ctx["deps"] = await build_deps(config, redis_url)

    async def shutdown(ctx: dict[str, Any]) -> None:
        deps = ctx.get("deps")
        if deps is not None:
            await deps.aclose()

    tries = config.worker.max_tries + _RECONCILE_TRIES
    timeout = config.worker.job_timeout
    return Worker(
        functions=[
            func(jobs.send_sms, name=SEND_SMS, max_tries=tries, timeout=timeout),
            func(jobs.send_email, name=SEND_EMAIL, max_tries=tries, timeout=timeout),
            func(jobs.send_reminder, name=SEND_REMINDER, max_tries=tries, timeout=timeout),
        ],
        queue_name=QUEUE_NAME,
        redis_settings=RedisSettings.from_dsn(redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        handle_signals=handle_signals,
        max_jobs=config.worker.max_jobs,
        job_timeout=timeout,
        max_tries=tries,
        keep_result=3600,
        # arq takes at most 100 jobs per poll and sleeps poll_delay between polls: 0.1 s capped a
        # worker near 1,000 jobs/s and left it idle (`signalgate bench`); 10 ms costs one cheap ZRANGE.
        poll_delay=0.01,
        job_serializer=serialize,
        job_deserializer=deserialize,
    )
