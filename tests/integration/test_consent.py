"""Consent and suppression end to end: gateway + worker processes, aiosmtpd recording mail and
refusing chosen addresses with 550 (issue 14)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import Gateway
from tests.support.sending import (
    SendOrg,
    SmtpServer,
    email_template,
    notify,
    provision_sending_org,
    settled,
)

YAMADA = "yamada@client.example.jp"
JANE = "jane@acme.example.com"


def mail(template: str, contact: str = "c-yamada", **extra: Any) -> dict[str, Any]:
    return {"channel": "email", "template": template, "to": {"contact": contact}, "data": {"name": "山田"}, **extra}


async def _usage(client: httpx.AsyncClient, org: SendOrg) -> dict[str, Any]:
    r = await client.get(f"/api/v1/orgs/{org.id}/usage", headers=org.ctx.gateway.admin)
    out: dict[str, Any] = r.json()["email"]
    return out


async def _marketing(client: httpx.AsyncClient, org: SendOrg, contact: str, value: bool | None = None) -> bool:
    path, admin = f"/api/v1/orgs/{org.id}/contacts/{contact}", org.ctx.gateway.admin
    if value is not None:
        assert (await client.put(path, json={"marketing": value}, headers=admin)).status_code == 200
    return bool((await client.get(path, headers=admin)).json()["marketing"])


def _unsubscribe_url(msg: EmailMessage) -> str:
    header = str(msg["List-Unsubscribe"])
    assert header.startswith("<") and header.endswith(">"), header
    return header[1:-1]


@pytest.mark.usefixtures("send_workers")
async def test_non_marketing_mass_mail_is_rejected_and_one_click_unsubscribes(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await email_template(client, org, "{{ name }}様 新製品のご案内", "<p>{{ name }}様</p>")
    assert await _marketing(client, org, "c-yamada") is False  # the default
    for kind in ("mass", "auto", "scheduled", "macro"):
        done = await settled(client, org, (await notify(client, org, mail(tid, kind=kind)))["id"])
        assert (done["status"], done.get("reason")) == ("rejected", "not_marketing"), done
    usage = await _usage(client, org)
    assert usage["mass"]["used"] == 0 and usage["individual"]["used"] == 0
    individual = await settled(client, org, (await notify(client, org, mail(tid)))["id"])
    assert individual["status"] == "sent"
    [plain] = smtp_server.recorder.to(YAMADA)
    assert plain["List-Unsubscribe"] is None  # individual mail: no unsubscribe header

    await _marketing(client, org, "c-yamada", True)
    mass = await settled(client, org, (await notify(client, org, mail(tid, kind="mass")))["id"])
    assert mass["status"] == "sent", mass
    msg = smtp_server.recorder.to(YAMADA)[-1]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = _unsubscribe_url(msg)
    assert url.startswith(f"{gateway.base_url}/u/")
    path = url[len(gateway.base_url) :]

    page = await client.get(path)  # a link scanner: changes nothing
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'lang="ja"' in page.text and "配信を停止する" in page.text and '<form method="post">' in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # nothing inline is allowed
    assert await _marketing(client, org, "c-yamada") is True

    token = path[len("/u/") :]
    forged = "/u/" + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (await client.post(forged, content="List-Unsubscribe=One-Click")).status_code == 404
    assert (await client.get(forged)).status_code == 404
    assert await _marketing(client, org, "c-yamada") is True

    for _ in range(2):  # idempotent
        r = await client.post(
            path, content="List-Unsubscribe=One-Click", headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert r.status_code == 200 and "停止しました" in r.text
    assert await _marketing(client, org, "c-yamada") is False
    again = await settled(client, org, (await notify(client, org, mail(tid, kind="mass")))["id"])
    assert (again["status"], again.get("reason")) == ("rejected", "not_marketing")
    assert (await _usage(client, org))["mass"]["used"] == 1


@pytest.mark.usefixtures("send_workers")
async def test_hard_bounce_suppresses_until_removed(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await email_template(client, org, "ご案内", "<p>{{ name }}様</p>")
    admin = gateway.admin
    smtp_server.recorder.script[JANE] = ["550 5.1.1 user unknown"]
    bounced = await settled(client, org, (await notify(client, org, mail(tid, "c-smith")))["id"])
    assert (bounced["status"], bounced["reason"]) == ("bounced", "smtp_550")
    r = await client.get(f"/api/v1/orgs/{org.id}/suppressions", headers=admin)
    assert r.status_code == 200, r.text
    [entry] = r.json()["suppressions"]
    assert (entry["address"], entry["reason"], r.json()["cursor"]) == (JANE, "smtp_550", None)

    used = (await _usage(client, org))["individual"]["used"]
    refused = await settled(client, org, (await notify(client, org, mail(tid, "c-smith")))["id"])
    assert (refused["status"], refused["reason"]) == ("rejected", "suppressed")
    by_address = await settled(client, org, (await notify(client, org, {**mail(tid), "to": {"email": JANE}}))["id"])
    assert by_address["reason"] == "suppressed"
    assert (await _usage(client, org))["individual"]["used"] == used  # nothing counted
    assert smtp_server.recorder.to(JANE) == []

    assert (await client.delete(f"/api/v1/orgs/{org.id}/suppressions/not-an-address", headers=admin)).status_code == 400
    r = await client.delete(f"/api/v1/orgs/{org.id}/suppressions/{JANE.replace('@', '%40')}", headers=admin)
    assert r.status_code == 204, r.text
    assert (await client.delete(f"/api/v1/orgs/{org.id}/suppressions/{JANE}", headers=admin)).status_code == 404
    sent = await settled(client, org, (await notify(client, org, mail(tid, "c-smith")))["id"])
    assert sent["status"] == "sent", sent
    assert len(smtp_server.recorder.to(JANE)) == 1
