"""Template versions end to end: an edit of an approved SMS template is a new version while the
approved one keeps serving sends (a worker, the local Twilio API); reports count per version."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import YAMADA_PHONE, Gateway
from tests.support.sending import (
    SendOrg,
    SmtpServer,
    buy,
    email_template,
    notify,
    provision_sending_org,
    settled,
    sms_template,
)
from tests.support.timing import FACTOR, wait_for

V1 = "{{ name }}様、ご予約ありがとうございます。"
V2 = "{{ name }}様、ご予約を承りました。当日お待ちしております。"
V3 = "{{ name }}様、ご予約の変更はこちらから。"


def _sms(tid: str, **extra: Any) -> dict[str, Any]:
    return {"channel": "sms", "template": tid, "to": {"contact": "c-yamada"}, "data": {"name": "山田"}, **extra}


async def _template(client: httpx.AsyncClient, org: SendOrg, tid: str, suffix: str = "") -> dict[str, Any]:
    r = await client.get(f"/api/v1/orgs/{org.id}/templates/{tid}{suffix}", headers=org.ctx.gateway.admin)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def _post(client: httpx.AsyncClient, org: SendOrg, path: str, body: Any = None) -> dict[str, Any]:
    r = await client.post(f"/api/v1/orgs/{org.id}/templates/{path}", json=body, headers=org.ctx.gateway.admin)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


@pytest.mark.usefixtures("send_workers")
async def test_the_approved_version_serves_until_the_new_one_is_approved(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """A send scheduled under v1, then v1 edited and the edit submitted: the send still goes with v1.
    v2 approved: sends use v2. v3 rejected: v2 keeps serving. The versions list tells it all."""
    org = await provision_sending_org(client, gateway, twilio_api)
    await buy(client, org, 20)
    tid = await sms_template(client, org, V1)
    send_at = (datetime.now(tz=UTC) + timedelta(seconds=3 * FACTOR)).isoformat()
    queued = await notify(client, org, _sms(tid, send_at=send_at))
    r = await client.put(
        f"/api/v1/orgs/{org.id}/templates/{tid}", json={"body": V2, "submit": True}, headers=gateway.admin
    )
    assert r.status_code == 200, r.text
    edited = r.json()
    assert (edited["status"], edited["version"], edited["body"]) == ("approved", 1, V1)
    assert edited["pending"] == {"version": 2, "body": V2, "status": "pending"} and "draft" not in edited
    first = await settled(client, org, queued["id"], timeout=30)
    assert first["status"] == "sent" and first["template_version"] == 1, first
    assert twilio_api.created_to(YAMADA_PHONE)[0]["body"] == "山田様、ご予約ありがとうございます。"

    approved = await _post(client, org, f"{tid}/approve")
    assert (approved["status"], approved["version"], approved["body"]) == ("approved", 2, V2)
    assert "pending" not in approved and "draft" not in approved
    second = await settled(client, org, (await notify(client, org, _sms(tid)))["id"])
    assert second["status"] == "sent" and second["template_version"] == 2, second
    assert twilio_api.created_to(YAMADA_PHONE)[1]["body"] == "山田様、ご予約を承りました。当日お待ちしております。"

    r = await client.put(f"/api/v1/orgs/{org.id}/templates/{tid}", json={"body": V3}, headers=gateway.admin)
    assert r.json()["draft"] == {"version": 3, "body": V3, "status": "draft"}
    await _post(client, org, f"{tid}/submit")
    rejected = await _post(client, org, f"{tid}/reject", {"reason": "文言不一致"})
    assert (rejected["status"], rejected["version"]) == ("approved", 2)
    assert rejected["draft"]["status"] == "rejected" and rejected["draft"]["reject_reason"] == "文言不一致"
    third = await settled(client, org, (await notify(client, org, _sms(tid, idempotency_key="third")))["id"])
    assert third["status"] == "sent" and third["template_version"] == 2, third

    versions = (await _template(client, org, tid, "/versions"))["versions"]
    assert [(v["version"], v["status"], v["live"], v["body"]) for v in versions] == [
        (1, "retired", False, V1),
        (2, "approved", True, V2),
        (3, "rejected", False, V3),
    ]
    r = await client.put(f"/api/v1/orgs/{org.id}/templates/{tid}", json={"module": "leads"}, headers=gateway.admin)
    assert r.status_code == 400 and r.json()["error"] == "module_immutable"


@pytest.mark.usefixtures("send_workers")
async def test_email_report_counts_per_template_version(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """Mail from v1 and from v2 of one email template (an email edit is live at once): the report's
    ``versions`` rows count sent and opened per version; ``templates`` keeps the sum."""
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await email_template(client, org, "{{ name }}様 ご案内", "<p>{{ name }}様 旧版</p>")

    def mail(to: str) -> dict[str, Any]:
        return {"channel": "email", "template": tid, "to": {"contact": to}, "data": {"name": "山田"}}

    one = await settled(client, org, (await notify(client, org, mail("c-yamada")))["id"])
    r = await client.put(
        f"/api/v1/orgs/{org.id}/templates/{tid}", json={"body": "<p>{{ name }}様 新版</p>"}, headers=gateway.admin
    )
    assert r.json()["version"] == 2 and r.json()["status"] == "approved"
    two = [await settled(client, org, (await notify(client, org, mail(c)))["id"]) for c in ("c-suzuki", "c-smith")]
    assert [n["template_version"] for n in (one, *two)] == [1, 2, 2]
    [first_mail] = smtp_server.recorder.to("yamada@client.example.jp")
    html = str(first_mail.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]
    pixel = re.findall(r'<img src="([^"]+)"', html)[0]
    await client.get(pixel.replace(gateway.base_url, ""))

    async def report() -> dict[str, Any] | None:
        r = await client.get(f"/api/v1/orgs/{org.id}/reports/email", headers=gateway.admin)
        body: dict[str, Any] = r.json()
        return body if body["total"]["opened"] == 1 else None

    body = await wait_for(report, timeout=10)
    rows = {(v["template"], v["version"]): (v["sent"], v["opened"]) for v in body["versions"]}
    assert rows == {(tid, 1): (1, 1), (tid, 2): (2, 0)}
    assert [(t["template"], t["sent"], t["opened"]) for t in body["templates"]] == [(tid, 3, 1)]
    versions = (await _template(client, org, tid, "/versions"))["versions"]
    assert [(v["version"], v["status"], v["live"]) for v in versions] == [(1, "retired", False), (2, "approved", True)]
