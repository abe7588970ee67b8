"""SMS sending end to end: real worker processes, the local Twilio API, credits in Redis."""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from arq.connections import RedisSettings, create_pool

from gateway.devtools.twilio_api import TwilioApi
from gateway.store.jobs import QUEUE_NAME, deserialize, serialize
from tests.support.api import SMITH_PHONE, YAMADA_PHONE, Gateway
from tests.support.redis import RedisServer
from tests.support.sending import (
    SendOrg,
    StartWorkers,
    buy,
    credits_of,
    notification,
    notify,
    provision_sending_org,
    settled,
    sms_template,
)
from tests.support.timing import wait_for
from tests.support.ws import live_feed

BODY = "{{ name }}様、ご予約ありがとうございます。{{ date }}にお待ちしております。"
DATA = {"name": "山田", "date": "12月1日"}


def sms(template: str, to: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"channel": "sms", "template": template, "to": to or {"contact": "c-yamada"}, "data": DATA, **extra}


async def _org(
    client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi, credits: int = 0
) -> tuple[SendOrg, str]:
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await sms_template(client, org, BODY)
    if credits:
        await buy(client, org, credits)
    return org, tid


@pytest.mark.usefixtures("send_workers")
async def test_sms_is_sent_charged_per_segment_and_delivered(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """A Japanese SMS costs its UCS-2 segments; the delivered callback makes sms.delivered for the sender."""
    org, tid = await _org(client, gateway, twilio_api, credits=10)
    feed = await live_feed(gateway, org.ctx.tokens["u2"])
    n = await notify(client, org, sms(tid, sender="u2"))
    assert n["status"] == "queued"
    done = await settled(client, org, n["id"])
    assert done["status"] == "sent", done
    text = "山田様、ご予約ありがとうございます。12月1日にお待ちしております。"
    [msg] = twilio_api.created_to(YAMADA_PHONE)
    assert msg["body"] == text and msg["from"] == "+815012345678"
    assert done["segments"] == 1 and done["charged"] == 1
    assert (await credits_of(client, org))["balance"] == 9
    assert str(twilio_api.status_callback_of(msg["sid"])).endswith(f"/webhooks/twilio/{org.id}/sms-status?n={n['id']}")
    assert await twilio_api.send_status_callback(msg["sid"], "delivered") == 204
    delivered = await feed.signal("sms.delivered")
    assert delivered["data"]["message_sid"] == msg["sid"]
    assert (await settled(client, org, n["id"], statuses={"delivered"}))["status"] == "delivered"
    await feed.ws.close()


async def test_concurrent_sends_never_overdraw_credits(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    start_send_workers: StartWorkers,
) -> None:
    """64 concurrent sends with credits for 5 → exactly 5 reach the provider, 59 insufficient_credits, balance 0."""
    start_send_workers(n=2)
    org, tid = await _org(client, gateway, twilio_api, credits=5)
    created = await asyncio.gather(*(notify(client, org, sms(tid)) for _ in range(64)))
    outcomes = await asyncio.gather(*(settled(client, org, n["id"], timeout=60) for n in created))
    statuses = [o["status"] for o in outcomes]
    assert statuses.count("sent") == 5
    assert statuses.count("rejected") == 59
    assert {o["reason"] for o in outcomes if o["status"] == "rejected"} == {"insufficient_credits"}
    assert len(twilio_api.created) == 5
    assert (await credits_of(client, org))["balance"] == 0
    ledger = (await client.get(f"/api/v1/orgs/{org.id}/credits/ledger", headers=gateway.admin)).json()["entries"]
    assert sorted(e["type"] for e in ledger) == ["charge"] * 5 + ["purchase"]


async def test_auto_recharge_fires_once_under_concurrency(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    start_send_workers: StartWorkers,
) -> None:
    """Balance 12, threshold 10, +100: 20 concurrent one-segment sends → one auto_recharge entry, balance 92."""
    start_send_workers(n=2)
    org, tid = await _org(client, gateway, twilio_api, credits=12)
    r = await client.put(
        f"/api/v1/orgs/{org.id}/credits/auto-recharge",
        json={"enabled": True, "threshold": 10, "amount": 100},
        headers=gateway.admin,
    )
    assert r.status_code == 200 and r.json()["auto_recharge"] == {
        "enabled": True, "threshold": 10, "amount": 100, "max_per_day": 10, "today": 0,
    }  # fmt: skip
    created = await asyncio.gather(*(notify(client, org, sms(tid)) for _ in range(20)))
    outcomes = await asyncio.gather(*(settled(client, org, n["id"], timeout=60) for n in created))
    assert [o["status"] for o in outcomes] == ["sent"] * 20
    assert (await credits_of(client, org))["balance"] == 92
    ledger = (await client.get(f"/api/v1/orgs/{org.id}/credits/ledger", headers=gateway.admin)).json()["entries"]
    assert [e["type"] for e in ledger].count("auto_recharge") == 1


@pytest.mark.usefixtures("send_workers")
async def test_rules_reject_without_sending_or_charging(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """Unapproved templates, bad numbers, a missing merge field → rejected with the reason, free. (An
    edit of an approved template is a new version that waits for approval while the approved one
    keeps serving: tests/integration/test_template_versions.py.)"""
    org, approved = await _org(client, gateway, twilio_api, credits=10)
    draft = await sms_template(client, org, BODY, approve=False)
    cases = {
        "template_not_approved": [sms(draft), sms("no-such-template")],
        "invalid_phone": [sms(approved, {"phone": "+81 12"}), sms(approved, {"phone": "not a number"})],
        "template_error": [{**sms(approved), "data": {"name": "山田"}}],
        "unknown_recipient": [sms(approved, {"contact": "nobody"})],
    }
    for reason, bodies in cases.items():
        for body in bodies:
            n = await notify(client, org, body)
            done = await settled(client, org, n["id"])
            assert (done["status"], done.get("reason")) == ("rejected", reason), (body, done)
    assert twilio_api.created == []
    assert (await credits_of(client, org))["balance"] == 10


@pytest.mark.usefixtures("send_workers")
async def test_india_requires_registered_sender_and_indian_numbers(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """An IN org: no registered sender → sender_not_registered; non +91 number → invalid_phone; the
    registration SPEC names (header, entity id, operator) → sent, while the org still lists the rest of
    the regulator's list as missing until it is complete."""
    org = await provision_sending_org(client, gateway, twilio_api, country="IN")
    tid = await sms_template(client, org, "Your OTP is {{ code }}", dlt="1107161234567890123")
    await buy(client, org, 10)
    body = {"channel": "sms", "template": tid, "to": {"phone": "+91 98765 43210"}, "data": {"code": "4321"}}
    first = await settled(client, org, (await notify(client, org, body))["id"])
    assert (first["status"], first["reason"]) == ("rejected", "sender_not_registered")
    sender = {"sender_id": "SGATE", "entity_id": "1201160000000000001", "operator": "Jio"}
    r = await client.put(f"/api/v1/orgs/{org.id}", json={"sender": sender}, headers=gateway.admin)
    assert r.status_code == 200 and "profile.legal_name" in r.json()["sender_registration"]["missing"], r.text
    foreign = await settled(client, org, (await notify(client, org, {**body, "to": {"phone": SMITH_PHONE}}))["id"])
    assert (foreign["status"], foreign["reason"]) == ("rejected", "invalid_phone")
    ok = await settled(client, org, (await notify(client, org, body))["id"])
    assert ok["status"] == "sent"
    assert [m["to"] for m in twilio_api.created] == ["+919876543210"]
    assert (await credits_of(client, org))["balance"] == 9
    complete = {
        "sender": {**sender, "entity_name": "Signal Gate Pvt Ltd", "sender_unique_id": "1305161234567890"},
        "profile": {"legal_name": "Signal Gate Private Limited", "brand_name": "SignalGate", "city": "Bengaluru",
                    "state": "Karnataka", "postal_code": "560001"},
    }  # fmt: skip
    r = await client.put(f"/api/v1/orgs/{org.id}", json=complete, headers=gateway.admin)
    assert r.status_code == 200 and r.json()["sender_registration"] == {"missing": []}, r.text


@pytest.mark.usefixtures("send_workers")
async def test_provider_429_retried_and_400_refunded(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """Two 429s then OK → one message; a 400 (21211) → failed and the credit comes back."""
    org, tid = await _org(client, gateway, twilio_api, credits=3)
    twilio_api.fail_next(2, status=429)
    n = await notify(client, org, sms(tid))
    done = await settled(client, org, n["id"], timeout=30)
    assert done["status"] == "sent"
    assert len(twilio_api.created) == 1
    creates = [r for r in twilio_api.requests if r.method == "POST"]
    assert len(creates) == 3
    twilio_api.reject_numbers.add(YAMADA_PHONE)
    bad = await settled(client, org, (await notify(client, org, sms(tid)))["id"], timeout=30)
    assert (bad["status"], bad["reason"]) == ("failed", "provider_error_21211")
    assert (await credits_of(client, org))["balance"] == 2
    ledger = (await client.get(f"/api/v1/orgs/{org.id}/credits/ledger", headers=gateway.admin)).json()["entries"]
    assert [e["type"] for e in ledger][:2] == ["refund", "charge"]


async def test_worker_killed_mid_call_never_sends_twice(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    start_send_workers: StartWorkers,
) -> None:
    """SIGKILL the worker while the provider holds its create call; after restart: sent, one create."""
    [worker] = start_send_workers()
    org, tid = await _org(client, gateway, twilio_api, credits=5)
    twilio_api.delay_next(30)
    n = await notify(client, org, sms(tid))
    await wait_for(lambda: len(twilio_api.created) == 1, timeout=20)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert (await notification(client, org, n["id"]))["status"] == "sending"
    start_send_workers()
    done = await settled(client, org, n["id"], timeout=60)
    assert done["status"] == "sent"
    assert done["provider_sid"] == twilio_api.created[0]["sid"]
    assert len([r for r in twilio_api.requests if r.method == "POST"]) == 1
    assert (await credits_of(client, org))["balance"] == 4


@pytest.mark.usefixtures("send_workers")
async def test_same_idempotency_key_rest_and_arq_send_once(
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    twilio_api: TwilioApi,
) -> None:
    """The same key via REST twice and via an arq client's _job_id → one notification, one message."""
    org, tid = await _org(client, gateway, twilio_api, credits=5)
    key = "order-" + uuid.uuid4().hex
    first = await notify(client, org, sms(tid, idempotency_key=key))
    second = await notify(client, org, sms(tid, idempotency_key=key))
    assert first["id"] == second["id"]
    arq = await create_pool(
        RedisSettings.from_dsn(redis_server.url), job_serializer=serialize, job_deserializer=deserialize
    )
    await arq.enqueue_job("send_sms", _job_id=key, _queue_name=QUEUE_NAME, org=org.id, **sms(tid, idempotency_key=key))
    await settled(client, org, first["id"])
    # A direct submission with a fresh key (the README snippet) is sent once too.
    other = "crm-" + uuid.uuid4().hex
    job = await arq.enqueue_job(
        "send_sms",
        _job_id=other,
        _queue_name=QUEUE_NAME,
        org=org.id,
        **sms(tid, to={"phone": SMITH_PHONE}, idempotency_key=other),
    )
    assert job is not None
    result = await job.result(timeout=30)
    assert result["status"] == "sent"
    await arq.aclose()
    await asyncio.sleep(1)
    assert sorted(m["to"] for m in twilio_api.created) == sorted([YAMADA_PHONE, SMITH_PHONE])


@pytest.mark.usefixtures("send_workers")
async def test_late_sent_callback_never_regresses(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """delivered, then a late sent and a repeated delivered → status delivered, one sms.delivered signal."""
    org, tid = await _org(client, gateway, twilio_api, credits=5)
    feed = await live_feed(gateway, org.ctx.tokens["u1"])
    n = await notify(client, org, sms(tid))
    await settled(client, org, n["id"])
    sid = twilio_api.created[0]["sid"]
    for status in ("delivered", "sent", "delivered"):
        assert await twilio_api.send_status_callback(sid, status) == 204
    await feed.signal("sms.delivered")
    await asyncio.sleep(0.5)
    assert [f["signal"]["type"] for f in feed.frames if f["type"] == "signal"] == ["sms.delivered"]
    rec = await notification(client, org, n["id"])
    assert rec["status"] == "delivered"
    assert [h["status"] for h in rec["history"]] == ["queued", "sending", "sent", "delivered"]
    await feed.ws.close()


@pytest.mark.usefixtures("send_workers")
async def test_reminders_respect_opt_outs(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """A reminder SMS goes out at remind_at; an opted-out user or an org switch makes it skipped."""
    org, _ = await _org(client, gateway, twilio_api, credits=5)
    at = datetime.now(tz=UTC) + timedelta(seconds=2)
    body = {"user": "u1", "activity": "call", "title": "山田様に折り返し", "remind_at": at.isoformat()}
    r = await client.post(f"/api/v1/orgs/{org.id}/reminders", json=body, headers=gateway.admin)
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    assert twilio_api.created == []

    async def reminder_status(rid: str) -> str | None:
        """The reminder's final status once it has one (`sending` is on the way to `sent`)."""
        rec = (await client.get(f"/api/v1/orgs/{org.id}/reminders/{rid}", headers=gateway.admin)).json()
        return rec["status"] if rec["status"] not in ("scheduled", "sending") else None

    assert await wait_for(lambda: reminder_status(rid), timeout=20) == "sent"
    [msg] = twilio_api.created
    assert "山田様に折り返し" in msg["body"] and msg["to"] == "+819087654321"
    assert msg["date_created"] is not None
    await client.put(f"/api/v1/orgs/{org.id}/users/u1", json={"reminders": False}, headers=gateway.admin)
    r = await client.post(
        f"/api/v1/orgs/{org.id}/reminders",
        json={**body, "remind_at": datetime.now(tz=UTC).isoformat()},
        headers=gateway.admin,
    )
    assert await wait_for(lambda: reminder_status(r.json()["id"]), timeout=20) == "skipped"
    await client.put(f"/api/v1/orgs/{org.id}/users/u1", json={"reminders": True}, headers=gateway.admin)
    await client.put(f"/api/v1/orgs/{org.id}", json={"reminders": False}, headers=gateway.admin)
    r = await client.post(
        f"/api/v1/orgs/{org.id}/reminders",
        json={**body, "remind_at": datetime.now(tz=UTC).isoformat()},
        headers=gateway.admin,
    )
    assert await wait_for(lambda: reminder_status(r.json()["id"]), timeout=20) == "skipped"
    assert len(twilio_api.created) == 1


@pytest.mark.usefixtures("send_workers")
async def test_send_at_defers_the_send(client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi) -> None:
    """A notification with send_at stays scheduled until then, then goes out."""
    org, tid = await _org(client, gateway, twilio_api, credits=5)
    at = datetime.now(tz=UTC) + timedelta(seconds=3)
    n = await notify(client, org, sms(tid, send_at=at.isoformat()))
    assert n["status"] == "scheduled"
    await asyncio.sleep(1.5)
    assert (await notification(client, org, n["id"]))["status"] == "scheduled"
    assert twilio_api.created == []
    done = await settled(client, org, n["id"], timeout=20)
    assert done["status"] == "sent"
    created = datetime.fromisoformat(done["history"][-1]["at"].replace("Z", "+00:00"))
    assert created >= at
