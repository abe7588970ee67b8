"""Composition root of a worker process: the arq Worker and its startup/shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker, func

from gateway.config import Config
from gateway.metrics import Metrics
from gateway.services import open_services
from gateway.store.connect import queue_url
from gateway.store.jobs import (
    QUEUE_NAME,
    SEGMENT_FANOUT,
    SEND_EMAIL,
    SEND_REMINDER,
    SEND_SMS,
    deserialize,
    serialize,
)
from workers import fanout, jobs
from workers.deps import Deps
from workers.providers.smtp import SmtpMailSender
from workers.providers.twilio_sms import TwilioSmsProvider
from workers.stats import WorkerStats

# Reconciling an interrupted SMS attempt may need a few extra runs beyond the retry budget.
_RECONCILE_TRIES = 5
# Redis connections opened at startup, at most (the pool allows 128).
_WARM_CONNECTIONS = 32


def make_worker(
    config: Config,
    redis_url: str,
    *,
    handle_signals: bool,
    metrics: Metrics | None = None,
    stats: WorkerStats | None = None,
) -> Worker:
    """A new arq Worker (one per run: the supervisor makes another after a failure).

    ``metrics``: the process's registry (jobs' metrics, ``/metrics``); ``stats`` counts its jobs there.
    """

    async def startup(ctx: dict[str, Any]) -> None:
        stack = contextlib.AsyncExitStack()
        ctx["stack"] = stack
        if stats is not None:
            stats.attach(worker)
            stack.callback(stats.detach, worker)
        services = await stack.enter_async_context(
            open_services(config, redis_url, max_connections=128, metrics=metrics)
        )
        sms = await TwilioSmsProvider.create(config.twilio.api_base, config.twilio.timeout)
        stack.push_async_callback(sms.aclose)
        sms.warm()
        # The Redis connections the concurrent jobs will use, opened before the first job (within
        # the pool's limit).
        await asyncio.gather(*(services.redis.ping() for _ in range(min(config.worker.max_jobs, _WARM_CONNECTIONS))))
        mail = SmtpMailSender(config.smtp)
        stack.push_async_callback(mail.aclose)
        ctx["deps"] = Deps(services, sms, mail)

    async def shutdown(ctx: dict[str, Any]) -> None:  # may run twice (see run_worker): once is enough
        stack: contextlib.AsyncExitStack | None = ctx.pop("stack", None)
        if stack is not None:
            await stack.aclose()

    tries = config.worker.max_tries + _RECONCILE_TRIES
    timeout = config.worker.job_timeout
    worker = Worker(
        functions=[
            func(jobs.send_sms, name=SEND_SMS, max_tries=tries, timeout=timeout),
            func(jobs.send_email, name=SEND_EMAIL, max_tries=tries, timeout=timeout),
            func(jobs.send_reminder, name=SEND_REMINDER, max_tries=tries, timeout=timeout),
            func(fanout.segment_fanout, name=SEGMENT_FANOUT, max_tries=tries, timeout=timeout),
        ],
        queue_name=QUEUE_NAME,
        # No connection retries of arq's own (5 x 1 s, each a warning line): the supervisor retries
        # with its backoff and reports the worker as restarting meanwhile.
        redis_settings=dataclasses.replace(RedisSettings.from_dsn(queue_url(config, redis_url)), conn_retries=0),
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
    return worker
