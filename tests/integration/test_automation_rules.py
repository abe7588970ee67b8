"""Automation rules end to end: a gateway, routers (with their wakers), a worker, the local Twilio
API; signals made by signed Twilio voice-status callbacks."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import redis as redis_sync

from gateway.devtools.twilio_api import TwilioApi
from gateway.domain.automation import idempotency_key
from gateway.domain.notifications import notification_id
from tests.support.api import SMITH_PHONE, YAMADA_PHONE, Gateway, call_params, post_twilio, signals_of
from tests.support.imap import Dovecot, imap_env, listening, mail
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.sending import (
    SendOrg,
    SmtpServer,
    StartWorkers,
    buy,
    email_template,
    provision_sending_org,
    settled,
    sms_template,
)
from tests.support.timing import sleep_scaled, wait_for

BODY = "{{ contact_name }}様、お電話ありがとうございました。折り返しご連絡いたします。"
U1_PHONE = "+819087654321"
U2_PHONE = "+819011112222"


async def _org(client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi) -> tuple[SendOrg, str]:
    org = await provision_sending_org(client, gateway, twilio_api)
    r = await client.put(f"/api/v1/orgs/{org.id}/users/u2", json={"phone": U2_PHONE}, headers=gateway.admin)
    assert r.status_code == 200, r.text
    tid = await sms_template(client, org, BODY)
    await buy(client, org, 50)
    return org, tid


async def _rule(client: httpx.AsyncClient, org: SendOrg, rule_id: str, body: dict[str, Any], status: int = 201) -> Any:
    r = await client.put(f"/api/v1/orgs/{org.id}/rules/{rule_id}", json=body, headers=org.ctx.gateway.admin)
    assert r.status_code == status, r.text
    return r.json()


def _sms_rule(tid: str, to: Any, **extra: Any) -> dict[str, Any]:
    return {"on": "call.missed", "action": {"channel": "sms", "template": tid, "to": to}, **extra}


async def _missed_call(client: httpx.AsyncClient, org: SendOrg, caller: str = YAMADA_PHONE) -> None:
    r = await post_twilio(client, org.ctx, "voice-status", call_params("no-answer", caller=caller))
    assert r.status_code == 204, r.text


async def _signal(client: httpx.AsyncClient, org: SendOrg, user: str) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        signals = [
            s for s in (await signals_of(client, org.ctx, user, view="all"))["signals"] if s["type"] == "call.missed"
        ]
        return signals[0] if signals else None

    result: dict[str, Any] = await wait_for(found, timeout=10)
    return result


async def test_call_missed_rule_texts_the_contact_once_despite_retries_and_two_routers(
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    procs: Processes,
    twilio_api: TwilioApi,
    start_send_workers: StartWorkers,
) -> None:
    """A call.missed rule → one SMS to the contact's mobile, however the callback is retried (same
    idempotency token three times, then the same status under another token) with two routers."""
    procs.router(redis_server.url)  # a second router (and waker) beside the session's
    start_send_workers()
    org, tid = await _org(client, gateway, twilio_api)
    rule = await _rule(client, org, "missed-call-text", _sms_rule(tid, "contact"))
    assert rule["on"] == "call.missed" and rule["enabled"] is True and "created_at" in rule
    params = call_params("no-answer")
    token = str(uuid.uuid4())
    for _ in range(3):
        assert (await post_twilio(client, org.ctx, "voice-status", params, idempotency_token=token)).status_code == 204
    assert (await post_twilio(client, org.ctx, "voice-status", params, idempotency_token="other")).status_code == 204
    signal = await _signal(client, org, "u1")
    await wait_for(lambda: twilio_api.created_to(YAMADA_PHONE), timeout=15)
    nid = notification_id(org.id, idempotency_key("missed-call-text", "u1", signal["id"]))
    done = await settled(client, org, nid)
    assert done["status"] == "sent" and done["kind"] == "auto", done
    await sleep_scaled(2)  # anything late would show up by now
    [msg] = twilio_api.created_to(YAMADA_PHONE)
    assert msg["body"] == "山田 太郎様、お電話ありがとうございました。折り返しご連絡いたします。"
    assert len(twilio_api.created) == 1


@pytest.mark.usefixtures("send_workers")
async def test_unread_for_escalates_only_unread_signals(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """unread_for 2 s, to the owner: u1 archives its signal without reading it (still unread: texted);
    u2 reads its signal in time (not texted)."""
    org, tid = await _org(client, gateway, twilio_api)
    await _rule(client, org, "escalate", _sms_rule(tid, "owner", unread_for=2))
    await _missed_call(client, org, YAMADA_PHONE)  # c-yamada, owner u1
    await _missed_call(client, org, SMITH_PHONE)  # c-smith, owner u2
    s1, s2 = await _signal(client, org, "u1"), await _signal(client, org, "u2")
    r = await client.post("/api/v1/me/signals/read", json={"ids": [s2["id"]]}, headers=org.ctx.user_headers("u2"))
    assert r.status_code == 200, r.text
    r = await client.post("/api/v1/me/signals/archive", json={"ids": [s1["id"]]}, headers=org.ctx.user_headers("u1"))
    assert r.status_code == 200, r.text
    assert not twilio_api.created  # nothing before its time
    await wait_for(lambda: twilio_api.created_to(U1_PHONE), timeout=15)
    await sleep_scaled(2)
    assert [m["to"] for m in twilio_api.created] == [U1_PHONE]
    assert twilio_api.created[0]["body"] == "山田 太郎様、お電話ありがとうございました。折り返しご連絡いたします。"


@pytest.mark.usefixtures("send_workers")
async def test_deleting_or_disabling_a_rule_cancels_its_timers(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """Three unread_for rules on one signal: the deleted and the disabled one send nothing, the third
    (due a second later) proves the timers were handled."""
    org, tid = await _org(client, gateway, twilio_api)
    await _rule(client, org, "deleted", _sms_rule(tid, "contact", unread_for=2))
    await _rule(client, org, "disabled", _sms_rule(tid, "owner", unread_for=2))
    await _rule(client, org, "kept", _sms_rule(tid, {"user": "u2"}, unread_for=3))
    await _missed_call(client, org)
    await _signal(client, org, "u1")
    r = await client.delete(f"/api/v1/orgs/{org.id}/rules/deleted", headers=gateway.admin)
    assert r.status_code == 204
    await _rule(client, org, "disabled", _sms_rule(tid, "owner", unread_for=2, enabled=False), status=200)
    await wait_for(lambda: twilio_api.created_to(U2_PHONE), timeout=15)
    await sleep_scaled(1)
    assert [m["to"] for m in twilio_api.created] == [U2_PHONE]
    r = await client.get(f"/api/v1/orgs/{org.id}/rules", headers=gateway.admin)
    assert [(x["id"], x["enabled"]) for x in r.json()["rules"]] == [("disabled", False), ("kept", True)]


async def test_rule_api_validates_and_checks_the_template(
    client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi
) -> None:
    org = await provision_sending_org(client, gateway, twilio_api)
    draft = await sms_template(client, org, BODY, approve=False)
    approved = await sms_template(client, org, BODY)
    base = f"/api/v1/orgs/{org.id}/rules"
    r = await client.put(f"{base}/r1", json=_sms_rule(draft, "contact"), headers=gateway.admin)
    assert r.status_code == 409 and r.json()["error"] == "template_not_approved"
    email_rule = {"on": "call.missed", "action": {"channel": "email", "template": approved, "to": "owner"}}
    r = await client.put(f"{base}/r1", json=email_rule, headers=gateway.admin)
    assert r.status_code == 409 and r.json()["error"] == "template_not_found"
    for bad in (
        _sms_rule(approved, "contact", unread_for=0),
        _sms_rule(approved, "someone"),
        {**_sms_rule(approved, "contact"), "on": "call.unknown"},
        {**_sms_rule(approved, "contact"), "extra": 1},
    ):
        r = await client.put(f"{base}/r1", json=bad, headers=gateway.admin)
        assert r.status_code == 400, (bad, r.text)
    r = await client.put(f"{base}/r1", json=_sms_rule(approved, {"user": "nobody"}), headers=gateway.admin)
    assert r.status_code == 400 and r.json()["error"] == "unknown_user"
    assert (await client.get(f"{base}/r1", headers=gateway.admin)).status_code == 404
    r = await client.put(f"{base}/r1", json=_sms_rule(approved, "contact"), headers=gateway.admin)
    assert r.status_code == 201
    assert (await client.get(f"{base}/r1", headers=gateway.admin)).json()["action"]["to"] == "contact"
    member = await client.get(base, headers=org.ctx.user_headers("u1"))
    assert member.status_code == 403
    assert (await client.delete(f"{base}/r1", headers=gateway.admin)).status_code == 204
    assert (await client.delete(f"{base}/r1", headers=gateway.admin)).status_code == 404


@pytest.mark.usefixtures("send_workers")
async def test_an_email_rule_fires_on_mail_routed_from_imap(
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
    dovecot: Dovecot,
    sync_redis: redis_sync.Redis,
) -> None:
    """Mail signals are routed apart from the batch (gateway/routing/mail.py): an email.received rule
    mails the contact's owner once, with the mail's subject as the title; a grouped repeat sends nothing."""
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await email_template(client, org, "{{ contact_name }}: {{ title }}", "<p>{{ contact_name }}様からメール</p>")
    action = {"channel": "email", "template": tid, "to": "owner"}
    await _rule(client, org, "mail-owner", {"on": "email.received", "action": action})
    box = dovecot.add_user()
    procs.imap(redis_server.url, **imap_env(dovecot, box, org.id, "u1"))
    await listening(sync_redis, dovecot, box, org.id)
    await dovecot.adeliver(box, mail("お見積もりのご依頼"))
    await wait_for(lambda: smtp_server.recorder.to("sato@sales.example.jp"), timeout=15)
    await dovecot.adeliver(box, mail("再送"))  # a repeat within the window: grouped, no new signal

    async def grouped() -> bool:
        signals = (await signals_of(client, org.ctx, "u1"))["signals"]
        return [(x["type"], x["count"]) for x in signals] == [("email.received", 2)]

    await wait_for(grouped, timeout=15)
    await sleep_scaled(2)
    [sent] = smtp_server.recorder.to("sato@sales.example.jp")
    assert sent["Subject"] == "山田 太郎: お見積もりのご依頼"
