"""The object graph of a signalgate process, built once: one Redis client and every repository on it.

Every process kind opens it the same way — the gateway's lifespan, the router, the worker, the IMAP
listeners and the demo — with :func:`open_services`, and closes it when it leaves the block. What a
process adds on top (the hub, the router loop, the providers of the worker) is built by that
process's composition root from these parts.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from redis.asyncio import Redis

from gateway.config import Config
from gateway.domain.signed_token import Keys
from gateway.metrics import Metrics
from gateway.store import credentials
from gateway.store.actions import SignalActions
from gateway.store.activity import Activity
from gateway.store.call_flows import CallFlows
from gateway.store.call_queues import CallQueues
from gateway.store.connect import open_client, queue_url
from gateway.store.credits import Credits
from gateway.store.email_usage import EmailUsage
from gateway.store.event_log import EventLog
from gateway.store.feed import Feed
from gateway.store.jobs import JobQueue
from gateway.store.live import LiveChannels
from gateway.store.mailboxes import Mailboxes
from gateway.store.messages import Messages
from gateway.store.notifications import Notifications
from gateway.store.reminders import Reminders
from gateway.store.reports import Reports
from gateway.store.scripts import load_scripts
from gateway.store.segments import Segments
from gateway.store.sending import Sending
from gateway.store.sms_notifications import SmsNotifications
from gateway.store.stats import Stats
from gateway.store.suppressions import Suppressions
from gateway.store.telephony import Groups, Numbers
from gateway.store.templates import Templates
from gateway.store.tenancy import Tenancy
from gateway.store.vault import Vault
from gateway.twilio_rest import TwilioRest


@dataclass(frozen=True)
class Services:
    config: Config
    redis: Redis
    metrics: Metrics
    tenancy: Tenancy
    events: EventLog
    feed: Feed
    live: LiveChannels
    notifications: Notifications
    messages: Messages
    templates: Templates
    credits: Credits
    email_usage: EmailUsage
    reports: Reports
    reminders: Reminders
    activity: Activity
    stats: Stats
    mailboxes: Mailboxes
    jobs: JobQueue
    secrets: credentials.Secrets | None
    sending: Sending
    numbers: Numbers
    groups: Groups
    twilio: TwilioRest  # numbers and calls (telephony); its HTTP session opens on first use
    call_flows: CallFlows
    actions: SignalActions
    suppressions: Suppressions
    segments: Segments
    sms_notifications: SmsNotifications
    vault: Vault  # seals and opens the orgs' provider secrets (gateway.domain.sealing)
    call_queues: CallQueues  # a queue step's member calls: called once, settled once

    @property
    def admin_token(self) -> str:
        return self._secrets().admin_token

    @property
    def secret_key(self) -> bytes:
        """The HMAC key of tracking tokens."""
        return self._secrets().secret_key

    @property
    def verify_keys(self) -> Keys:
        """What signed tokens verify under: the key, then ``[gateway] previous_secret_keys``."""
        return self._secrets().verify_keys

    def _secrets(self) -> credentials.Secrets:
        if self.secrets is None:
            raise RuntimeError("this process opened its services without secrets")
        return self.secrets


@contextlib.asynccontextmanager
async def open_services(
    config: Config,
    redis_url: str,
    *,
    max_connections: int = 64,
    metrics: Metrics | None = None,
    secrets: bool = True,
    health_check_interval: int = 0,
) -> AsyncIterator[Services]:
    """Services on ``redis_url`` (already resolved: an embedded Redis is running); a Redis Cluster
    client with ``[redis] cluster``, the job queue on ``[queue] url`` (:mod:`gateway.store.connect`).

    ``secrets``: resolve the admin token and the tracking key (from config, else generated once
    in Redis) — this needs Redis to answer now; processes that never use them skip it.
    """
    redis = open_client(
        redis_url,
        cluster=config.redis.cluster,
        max_connections=max_connections,
        health_check_interval=health_check_interval,
    )
    jobs = JobQueue(queue_url(config, redis_url))
    twilio = TwilioRest(config.twilio.api_base, config.twilio.timeout)
    try:
        scripts = load_scripts(redis)
        resolved = await credentials.resolve(redis, config.gateway) if secrets else None
        vault = Vault(redis, config.gateway, resolved)
        yield Services(
            config=config,
            redis=redis,
            metrics=metrics or Metrics(),
            tenancy=Tenancy(redis, scripts, vault),
            events=EventLog(redis, scripts),
            feed=Feed(redis, scripts, config.signals),
            live=LiveChannels(redis),
            notifications=Notifications(redis, scripts),
            messages=Messages(redis, scripts),
            templates=Templates(redis),
            credits=Credits(redis, scripts),
            email_usage=EmailUsage(redis, scripts),
            reports=Reports(redis, scripts),
            reminders=Reminders(redis, scripts),
            activity=Activity(redis),
            stats=Stats(scripts),
            mailboxes=Mailboxes(redis, scripts, vault),
            jobs=jobs,
            secrets=resolved,
            sending=Sending(redis, scripts),
            numbers=Numbers(redis, scripts),
            groups=Groups(redis),
            twilio=twilio,
            call_flows=CallFlows(redis, scripts),
            actions=SignalActions(redis, scripts),
            suppressions=Suppressions(redis),
            segments=Segments(redis, scripts),
            sms_notifications=SmsNotifications(redis),
            vault=vault,
            call_queues=CallQueues(redis, scripts),
        )
    finally:
        await twilio.aclose()
        await jobs.aclose()
        await redis.aclose()
