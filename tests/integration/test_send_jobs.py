"""The send jobs run in-process against the real Redis of the session: atomic notification
creation, a job that breaks, a crash between counting and advancing, the credit ledger's cap."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx
import orjson
import pytest
from arq import Retry
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.config import load_config
from gateway.devtools.twilio_api import TwilioApi
from gateway.domain.quota import local_day
from gateway.services import Services, open_services
from gateway.store import keys
from gateway.store.credits import Credits
from gateway.store.scripts import load_scripts
from tests.support.api import Gateway
from tests.support.processes import SECRET_KEY
from tests.support.redis import RedisServer
from tests.support.sending import SendOrg, buy, email_template, provision_sending_org, sms_template
from tests.support.streams import org_entries
from workers import jobs
from workers.deps import Deps
from workers.providers.smtp import MailError
from workers.providers.twilio_sms import SentMessage


class FakeMail:
    """A MailSender that records, or raises what it is told to."""

    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[EmailMessage] = []
        self.error = error

    async def send(self, message: EmailMessage, *, sender: str, recipient: str, via: Any = None) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(message)


class BrokenSms:
    """An SmsProvider whose send breaks with a bug (not a ProviderError)."""

    async def send(self, **_: Any) -> SentMessage:
        raise RuntimeError("bug in the provider client")

    async def find_sent(self, **_: Any) -> list[SentMessage]:
        return []

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def services(redis_server: RedisServer) -> AsyncIterator[Services]:
    # The session gateway's key: it sealed the orgs' Twilio tokens these jobs open.
    environ = {
        "SIGNALGATE_SMTP_FROM_ADDRESS": "sales@signalgate.example.jp",
        "SIGNALGATE_GATEWAY_SECRET_KEY": SECRET_KEY,
    }
    config = load_config(environ=environ)
    async with open_services(config, redis_server.url, secrets=False) as svc:
        yield svc


async def _org(client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi) -> SendOrg:
    return await provision_sending_org(client, gateway, twilio_api, tracking=False)


def _ctx(deps: Deps, job_try: int = 1) -> dict[str, Any]:
    return {"deps": deps, "job_try": job_try, "job_id": "job-" + uuid.uuid4().hex}


def _fail_once(target: Callable[..., Any]) -> Callable[..., Any]:
    """``target`` that raises a Redis connection error on its first call (a crash at that point)."""
    calls = {"n": 0}

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RedisConnectionError("connection lost (injected)")
        return await target(*args, **kwargs)

    return flaky


def _mail(tid: str, key: str) -> dict[str, Any]:
    return {"channel": "email", "template": tid, "to": {"email": "yamada@client.example.jp"},
            "data": {"name": "山田"}, "idempotency_key": key}  # fmt: skip


async def _sent_today(svc: Services, org: str) -> dict[str, Any]:
    today = datetime.fromisoformat(local_day(datetime.now(tz=UTC), "Asia/Tokyo")).date()
    total: dict[str, Any] = (await svc.reports.rows(org, today, today, "day"))["total"]
    return total


async def test_concurrent_create_is_atomic(services: Services) -> None:
    """50 concurrent creates of one notification: one creates it, all see a whole queued record, one history entry."""
    org, nid = "o-" + uuid.uuid4().hex[:8], "n_" + uuid.uuid4().hex
    rec = {"id": nid, "org": org, "channel": "sms", "template": "t1", "to": {"phone": "+819012345678"},
           "data": {"a": [1, 2]}, "kind": "individual", "idempotency_key": nid}  # fmt: skip
    results = await asyncio.gather(*(services.notifications.create(org, dict(rec)) for _ in range(50)))
    assert sum(created for _, created in results) == 1
    for stored, _ in results:
        assert stored["status"] == "queued" and stored["to"] == {"phone": "+819012345678"}, stored
    assert [h["status"] for h in await services.notifications.history(org, nid)] == ["queued"]


async def test_a_reader_never_sees_a_half_created_notification(services: Services) -> None:
    """While notifications are created, a reader polling their hashes never finds one without a status."""
    org = "o-" + uuid.uuid4().hex[:8]
    partial: list[dict[str, str]] = []
    for _ in range(100):
        nid = "n_" + uuid.uuid4().hex
        rec = {"id": nid, "org": org, "channel": "sms", "template": "t1", "to": {"phone": "+819012345678"},
               "kind": "individual", "idempotency_key": nid}  # fmt: skip
        creating = asyncio.create_task(services.notifications.create(org, rec))
        while not creating.done():
            raw = await services.redis.hgetall(keys.notification(org, nid))
            if raw and "status" not in raw:
                partial.append(raw)
        await creating
    assert partial == []


async def test_email_crash_between_count_and_advance_counts_once(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the mail went out, the connection breaks once between the report count and the advance
    to `sent` (the count reached Redis, the advance did not): the rerun ends `sent` and the mail is
    counted exactly once."""
    org = await _org(client, gateway, twilio_api)
    tid = await email_template(client, org, "{{ name }}様", "<p>本文</p>")
    deps = Deps(services, BrokenSms(), FakeMail())
    email_sent = services.sending.email_sent
    breaks = {"left": 1}

    async def counted_then_broken(org_id: str, nid: str, *, tz: str, template: str | None, at_ms: int) -> bool:
        if breaks["left"]:
            breaks["left"] -= 1
            await services.reports.count_notification(org_id, tz, nid, template, "sent", at_ms)
            raise RedisConnectionError("connection lost after the count (injected)")
        return await email_sent(org_id, nid, tz=tz, template=template, at_ms=at_ms)

    monkeypatch.setattr(services.sending, "email_sent", counted_then_broken)
    kwargs = {"org": org.id, **_mail(tid, "k-" + uuid.uuid4().hex)}
    with pytest.raises((Retry, RedisConnectionError)):
        await jobs.send_email(_ctx(deps, 1), **kwargs)
    outcome = await jobs.send_email(_ctx(deps, 2), **kwargs)
    assert outcome["status"] == "sent", outcome
    assert (await _sent_today(services, org.id))["sent"] == 1
    await jobs.send_email(_ctx(deps, 3), **kwargs)  # a third run changes nothing
    assert (await _sent_today(services, org.id))["sent"] == 1


async def test_bounce_crash_before_the_signal_still_signals_once(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Appending send.email_bounced fails once: the rerun appends it (once), counts once, ends `bounced`."""
    org = await _org(client, gateway, twilio_api)
    tid = await email_template(client, org, "{{ name }}様", "<p>本文</p>")
    deps = Deps(services, BrokenSms(), FakeMail(MailError("550 no such user", code=550, permanent=True)))
    monkeypatch.setattr(services.events, "append", _fail_once(services.events.append))
    kwargs = {"org": org.id, **_mail(tid, "k-" + uuid.uuid4().hex)}
    with pytest.raises((Retry, RedisConnectionError)):
        await jobs.send_email(_ctx(deps, 1), **kwargs)
    outcome = await jobs.send_email(_ctx(deps, 2), **kwargs)
    assert outcome["status"] == "bounced", outcome
    await jobs.send_email(_ctx(deps, 3), **kwargs)
    bounced = [
        orjson.loads(f["data"])
        for _, f in await org_entries(services.redis, org.id)
        if f["source"] == "send.email_bounced"
    ]
    assert len(bounced) == 1, bounced
    totals = await _sent_today(services, org.id)
    assert (totals["sent"], totals["bounced"]) == (1, 1)


async def test_unexpected_sms_error_fails_and_refunds(
    client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi, services: Services
) -> None:
    """A bug in the provider call ends the notification `failed` with the reason, and refunds its credits."""
    org = await _org(client, gateway, twilio_api)
    tid = await sms_template(client, org, "{{ name }}様 ご予約ありがとうございます")
    await buy(client, org, 10)
    deps = Deps(services, BrokenSms(), FakeMail())
    kwargs = {"org": org.id, "channel": "sms", "template": tid, "to": {"phone": "+819012345678"},
              "data": {"name": "山田"}, "idempotency_key": "k-" + uuid.uuid4().hex}  # fmt: skip
    try:
        outcome = await jobs.send_sms(_ctx(deps), **kwargs)
    except RuntimeError:
        outcome = {"status": "raised"}
    assert outcome == {"status": "failed", "reason": "internal_error:RuntimeError"}
    assert (await services.credits.status(org.id))["balance"] == 10
    [entry] = [e for e in await services.credits.ledger(org.id) if e["type"] == "refund"]
    assert entry["amount"] == 1


async def test_unexpected_email_error_fails_and_releases_the_daily_cap(
    client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi, services: Services
) -> None:
    """A bug while sending ends the email `failed` with the reason and gives its place in the daily cap back."""
    org = await _org(client, gateway, twilio_api)
    tid = await email_template(client, org, "{{ name }}様", "<p>本文</p>")
    deps = Deps(services, BrokenSms(), FakeMail(ValueError("bug while building the message")))
    kwargs = {"org": org.id, **_mail(tid, "k-" + uuid.uuid4().hex)}
    try:
        outcome = await jobs.send_email(_ctx(deps), **kwargs)
    except ValueError:
        outcome = {"status": "raised"}
    assert outcome == {"status": "failed", "reason": "internal_error:ValueError"}
    r = await client.get(f"/api/v1/orgs/{org.id}/usage", headers=gateway.admin)
    assert r.json()["email"]["individual"]["used"] == 0


async def test_credit_ledger_is_capped(services: Services) -> None:
    """The ledger stream is trimmed to about its cap (MAXLEN ~); the balance is untouched."""
    org = "o-" + uuid.uuid4().hex[:8]
    credits = Credits(services.redis, load_scripts(services.redis), ledger_max=10)
    for i in range(300):
        await credits.purchase(org, 1, f"p{i}")
    assert (await credits.status(org))["balance"] == 300
    assert await services.redis.xlen(keys.credit_ledger(org)) <= 10 + 100  # trimmed by whole stream nodes
