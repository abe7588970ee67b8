"""Composition root of a worker process: the arq Worker and its startup/shutdown."""

from __future__ import annotations

import contextlib
from typing import Any

from arq.connections import RedisSettings
from arq.worker import Worker, func

from gateway.config import Config
from gateway.services import open_services
from gateway.store.jobs import QUEUE_NAME, SEND_EMAIL, SEND_REMINDER, SEND_SMS, deserialize, serialize
from workers import jobs
from workers.deps import Deps
from workers.providers.smtp import SmtpMailSender
from workers.providers.twilio_sms import TwilioSmsProvider

# Reconciling an interrupted SMS attempt may need a few extra runs beyond the retry budget.
_RECONCILE_TRIES = 5


def make_worker(config: Config, redis_url: str, *, handle_signals: bool) -> Worker:
    async def startup(ctx: dict[str, Any]) -> None:
        stack = contextlib.AsyncExitStack()
        ctx["stack"] = stack
        services = await stack.enter_async_context(open_services(config, redis_url, max_connections=128))
        sms = await TwilioSmsProvider.create(config.twilio.api_base, config.twilio.timeout)
        stack.push_async_callback(sms.aclose)
        ctx["deps"] = Deps(services, sms, SmtpMailSender(config.smtp))

    async def shutdown(ctx: dict[str, Any]) -> None:
        stack: contextlib.AsyncExitStack | None = ctx.get("stack")
        if stack is not None:
            await stack.aclose()

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
