"""What a job needs, built once per worker process (arq ``on_startup``) and kept in its context."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from gateway import credentials
from gateway.config import Config
from gateway.credits import Credits
from gateway.email_usage import EmailUsage
from gateway.events import EventLog
from gateway.notifications import Notifications
from gateway.reminders_store import Reminders
from gateway.reports import Reports
from gateway.scripts import Scripts, load_scripts
from gateway.store import Store
from gateway.templates_store import Templates
from workers.providers.smtp import MailSender, SmtpMailSender
from workers.providers.twilio_sms import SmsProvider, TwilioSmsProvider


@dataclass
class Deps:
    config: Config
    redis: Redis
    scripts: Scripts
    store: Store
    notifications: Notifications
    templates: Templates
    credits: Credits
    email_usage: EmailUsage
    reports: Reports
    events: EventLog
    reminders: Reminders
    sms: SmsProvider
    mail: MailSender
    secret_key: bytes

    @property
    def attempt_stale_ms(self) -> int:
        """An SMS attempt with no outcome after this long cannot still be in flight."""
        return int((2 * self.config.twilio.timeout + 5) * 1000)

    async def aclose(self) -> None:
        await self.sms.aclose()
        await self.redis.aclose()


async def build_deps(config: Config, redis_url: str) -> Deps:
    redis = Redis.from_url(redis_url, decode_responses=True, max_connections=128)
    scripts = load_scripts(redis)
    _, secret_key = await credentials.resolve(redis, config.gateway)
    sms = await TwilioSmsProvider.create(config.twilio.api_base, config.twilio.timeout)
    return Deps(
        config=config,
        redis=redis,
        scripts=scripts,
        store=Store(redis, scripts),
        notifications=Notifications(redis, scripts),
        templates=Templates(redis),
        credits=Credits(redis, scripts),
        email_usage=EmailUsage(redis, scripts),
        reports=Reports(redis, scripts),
        events=EventLog(redis, scripts),
        reminders=Reminders(redis),
        sms=sms,
        mail=SmtpMailSender(config.smtp),
        secret_key=secret_key,
    )
