"""The send path's Redis cost, counted on the wire, and its combined scripts under concurrency.

Jobs run in-process against the session's real Redis with the real providers (the local Twilio
API, an aiosmtpd server). Each phase of a job is one round trip: open (create + reads), begin
(fields, credits or daily cap, ``sending``, claim), finish (sid/link/``sent``, or count/``sent``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from redis.asyncio.connection import AbstractConnection

from gateway.config import load_config
from gateway.devtools.twilio_api import TwilioApi
from gateway.domain.quota import EmailCaps
from gateway.services import Services, open_services
from gateway.store import keys
from tests.support.api import Gateway
from tests.support.processes import SECRET_KEY
from tests.support.redis import RedisServer
from tests.support.sending import SmtpServer, buy, email_template, provision_sending_org, sms_template
from workers import jobs
from workers.deps import Deps
from workers.providers.smtp import SmtpMailSender
from workers.providers.twilio_sms import TwilioSmsProvider

# Round trips of one job, contact recipient, nothing unusual (no retry, no reconciliation).
SMS_ROUND_TRIPS = 3
EMAIL_ROUND_TRIPS = 3


@pytest.fixture
async def services(redis_server: RedisServer, smtp_server: SmtpServer) -> AsyncIterator[Services]:
    config = load_config(
        environ={
            "SIGNALGATE_SMTP_FROM_ADDRESS": "sales@signalgate.example.jp",
            # The session gateway's key: it sealed the orgs' Twilio tokens this worker opens.
            "SIGNALGATE_GATEWAY_SECRET_KEY": SECRET_KEY,
            "SIGNALGATE_SMTP_HOST": smtp_server.host,
            "SIGNALGATE_SMTP_PORT": str(smtp_server.port),
        }
    )
    async with open_services(config, redis_server.url) as svc:
        yield svc


@pytest.fixture
async def deps(services: Services, twilio_api: TwilioApi) -> AsyncIterator[Deps]:
    sms = await TwilioSmsProvider.create(twilio_api.base_url, 10)
    mail = SmtpMailSender(services.config.smtp)
    yield Deps(services, sms, mail)
    await mail.aclose()
    await sms.aclose()


@contextmanager
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Counts what is written to any Redis connection: one write per command or pipeline."""
    count = [0]
    real = AbstractConnection.send_packed_command

    async def counting(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        count[0] += 1
        await real(self, command, check_health)

    with monkeypatch.context() as m:
        m.setattr(AbstractConnection, "send_packed_command", counting)
        yield count


def _ctx(deps: Deps) -> dict[str, Any]:
    return {"deps": deps, "job_try": 1, "job_id": "job-" + uuid.uuid4().hex}


def _sms(org: str, tid: str) -> dict[str, Any]:
    return {"org": org, "template": tid, "to": {"contact": "c-yamada"}, "data": {"name": "山田"},
            "idempotency_key": "k-" + uuid.uuid4().hex}  # fmt: skip


async def test_an_sms_job_is_three_round_trips(
    client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi, deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await provision_sending_org(client, gateway, twilio_api, tracking=False)
    tid = await sms_template(client, org, "{{ name }}様 ご予約ありがとうございます")
    await buy(client, org, 10)
    assert (await jobs.send_sms(_ctx(deps), **_sms(org.id, tid)))["status"] == "sent"  # scripts loaded
    with round_trips(monkeypatch) as count:
        outcome = await jobs.send_sms(_ctx(deps), **_sms(org.id, tid))
    assert outcome["status"] == "sent", outcome
    assert count[0] == SMS_ROUND_TRIPS
    assert (await deps.services.credits.status(org.id))["balance"] == 8


async def test_an_email_job_is_three_round_trips(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
    deps: Deps,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    org = await provision_sending_org(client, gateway, twilio_api, tracking=True)
    tid = await email_template(client, org, "{{ name }}様へのご案内", "<p>{{ name }}様</p>")
    kwargs = {"org": org.id, "channel": "email", "template": tid, "to": {"contact": "c-yamada"},
              "data": {"name": "山田"}}  # fmt: skip
    assert (await jobs.send_email(_ctx(deps), **kwargs, idempotency_key="k1"))["status"] == "sent"
    with round_trips(monkeypatch) as count:
        outcome = await jobs.send_email(_ctx(deps), **kwargs, idempotency_key="k2")
    assert outcome["status"] == "sent", outcome
    assert count[0] == EMAIL_ROUND_TRIPS
    assert [m["Subject"] for m in smtp_server.recorder.to("yamada@client.example.jp")] == ["山田様へのご案内"] * 2
    usage = (await client.get(f"/api/v1/orgs/{org.id}/usage", headers=gateway.admin)).json()
    assert usage["email"]["individual"]["used"] == 2


async def test_sms_begin_never_overdraws_and_charges_each_notification_once(services: Services) -> None:
    """60 concurrent sms_begin for 30 notifications (each twice) of 2 credits against 41 credits:
    20 charged, the balance ends at 1, never below zero, and no notification is charged twice."""
    org = "o-" + uuid.uuid4().hex[:8]
    await services.credits.purchase(org, 41, "test")
    nids = [f"n_{i}" for i in range(30)]
    for nid in nids:
        await services.notifications.create(org, {"id": nid, "channel": "sms", "to": {"phone": "+81"}})
    starts = await asyncio.gather(
        *(
            services.sending.sms_begin(org, nid, 2, {"text": "x"}, stale_ms=60_000, token=f"t{run}", day="2026-12-01")
            for nid in nids
            for run in (1, 2)
        )
    )
    charged = [s for s in starts if s.reservation.outcome == "charged"]
    assert len(charged) == 20
    assert all(s.reservation.balance >= 0 for s in starts)
    assert (await services.credits.status(org))["balance"] == 1
    ledger = [e for e in await services.credits.ledger(org, 1000) if e["type"] == "charge"]
    assert len(ledger) == 20 and len({e["notification"] for e in ledger}) == 20
    # A charged notification is `sending` with exactly one claim; a refused one is untouched.
    go = [s for s in starts if s.verdict == "go"]
    assert len(go) == 20
    for nid in nids:
        rec = await services.notifications.get(org, nid)
        assert rec is not None
        assert rec["status"] == ("sending" if "charged" in rec else "queued"), rec


async def test_sms_begin_auto_recharges_once_per_crossing(services: Services) -> None:
    org = "o-" + uuid.uuid4().hex[:8]
    await services.credits.purchase(org, 10, "test")
    await services.credits.set_auto_recharge(org, True, threshold=5, amount=100, max_per_day=10, day="2026-12-01")
    for i in range(20):
        await services.notifications.create(org, {"id": f"n_{i}", "channel": "sms", "to": {"phone": "+81"}})
    await asyncio.gather(
        *(
            services.sending.sms_begin(org, f"n_{i}", 1, {}, stale_ms=60_000, token="t", day="2026-12-01")
            for i in range(20)
        )
    )
    recharges = [e for e in await services.credits.ledger(org, 1000) if e["type"] == "auto_recharge"]
    assert len(recharges) == 1
    assert (await services.credits.status(org))["balance"] == 10 + 100 - 20


async def test_email_begin_never_exceeds_the_cap_and_counts_each_notification_once(services: Services) -> None:
    """80 concurrent email_begin for 40 notifications (each twice) against a cap of 25: 25 counted,
    each counted one has the Message-ID of the run that counted it, indexed; the others have none."""
    org = "o-" + uuid.uuid4().hex[:8]
    now = datetime.now(tz=UTC)
    nids = [f"n_{i}" for i in range(40)]
    for nid in nids:
        await services.notifications.create(org, {"id": nid, "channel": "email", "to": {"email": "a@b.jp"}})
    results = await asyncio.gather(
        *(
            services.sending.email_begin(
                org,
                nid,
                bucket="individual",
                cap=25,
                tz="Asia/Tokyo",
                now=now,
                message_id=f"<{nid}.{run}@x.jp>",
                fields={"recipient": "a@b.jp"},
                address="a@b.jp",
                contact=None,
                marketing=False,
            )
            for nid in nids
            for run in (1, 2)
        )
    )
    assert sum(r.outcome == "counted" for r in results) == 25
    assert max(r.used for r in results) == 25
    usage = await services.email_usage.today(org, "Asia/Tokyo", now, EmailCaps(individual=25, mass=0))
    assert usage["individual"] == {"used": 25, "limit": 25}
    counted = 0
    for nid in nids:
        rec = await services.notifications.get(org, nid)
        assert rec is not None
        if "counted_day" in rec:
            counted += 1
            assert rec["status"] == "sending"
            assert await services.redis.get(keys.message_id(org, rec["message_id"].strip("<>"))) == nid
        else:
            assert rec["status"] == "queued" and "message_id" not in rec, rec
    assert counted == 25
