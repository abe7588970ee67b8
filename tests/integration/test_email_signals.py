"""Email signals that say which mail, end to end (gateway, router, worker, aiosmtpd): opens and clicks
name the subject and group per contact and mail; mass mail makes campaign.* signals."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import Gateway, signals_of
from tests.support.sending import (
    SendOrg,
    SmtpServer,
    email_template,
    notify,
    provision_sending_org,
    settled,
)
from tests.support.ws import live_feed

YAMADA_EMAIL = "yamada@client.example.jp"
HTML = '<html><body><p>{{ name }}様</p><p><a href="https://example.jp/seminar">詳細</a></p></body></html>'


def _mail(template: str, kind: str = "individual", contact: str = "c-yamada") -> dict[str, Any]:
    return {
        "channel": "email",
        "template": template,
        "to": {"contact": contact},
        "data": {"name": "山田"},
        "kind": kind,
    }


def _html(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def _pixel(gateway: Gateway, msg: EmailMessage) -> str:
    [src] = re.findall(r'<img src="([^"]+)"', _html(msg))
    return str(src).replace(gateway.base_url, "")


def _link(gateway: Gateway, msg: EmailMessage) -> str:
    [href] = [h for h in re.findall(r'href="([^"]+)"', _html(msg)) if "/t/c/" in h]
    return str(href).replace(gateway.base_url, "")


async def _sent(client: httpx.AsyncClient, org: SendOrg, smtp: SmtpServer, body: dict[str, Any]) -> EmailMessage:
    """Send ``body`` and return the message the SMTP server received for it."""
    done = await settled(client, org, (await notify(client, org, body))["id"])
    assert done["status"] == "sent", done
    [msg] = [m for m in smtp.recorder.to(YAMADA_EMAIL) if m["Message-ID"] == done["message_id"]]
    return msg


async def _marketing(client: httpx.AsyncClient, org: SendOrg) -> None:
    """Campaign mail goes to contacts that accept marketing."""
    r = await client.put(
        f"/api/v1/orgs/{org.id}/contacts/c-yamada", json={"marketing": True}, headers=org.ctx.gateway.admin
    )
    assert r.status_code == 200, r.text


@pytest.mark.usefixtures("send_workers")
async def test_opens_name_the_mail_and_group_per_mail(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """Opens of two mails to one contact are two signals titled with their subjects; a repeat of one
    mail groups (count 2); a click names its mail too."""
    org = await provision_sending_org(client, gateway, twilio_api)
    seminar = await email_template(client, org, "{{ name }}様 セミナーのご案内", HTML)
    invoice = await email_template(client, org, "請求書送付のお知らせ", HTML)
    first = await _sent(client, org, smtp_server, _mail(seminar))
    second = await _sent(client, org, smtp_server, _mail(invoice))
    feed = await live_feed(gateway, org.ctx.tokens["u1"])
    assert (await client.get(_pixel(gateway, first))).status_code == 200
    one = await feed.signal("email.opened")
    assert one["title"] == "山田 太郎 opened “山田様 セミナーのご案内”", one
    assert one["data"]["subject"] == "山田様 セミナーのご案内" and one["count"] == 1
    assert (await client.get(_pixel(gateway, second))).status_code == 200
    two = await feed.signal("email.opened")
    assert two["id"] != one["id"] and two["count"] == 1
    assert (
        two["title"] == "山田 太郎 opened “請求書送付のお知らせ”" and two["data"]["subject"] == "請求書送付のお知らせ"
    )
    assert (await client.get(_pixel(gateway, first))).status_code == 200
    again = await feed.signal("email.opened")
    assert (again["id"], again["count"], again["title"]) == (one["id"], 2, one["title"])
    assert (await client.get(_link(gateway, second))).status_code == 302
    clicked = await feed.signal("email.clicked")
    assert clicked["title"] == "山田 太郎 clicked a link in “請求書送付のお知らせ”"
    assert clicked["data"]["url"] == "https://example.jp/seminar"
    opened = [s for s in (await signals_of(client, org.ctx, "u1"))["signals"] if s["type"] == "email.opened"]
    assert sorted((s["data"]["subject"], s["count"]) for s in opened) == [
        ("山田様 セミナーのご案内", 2),
        ("請求書送付のお知らせ", 1),
    ]
    await feed.ws.close()


@pytest.mark.usefixtures("send_workers")
async def test_mass_mail_makes_campaign_signals(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """A mass mail's open and click are campaign.opened/clicked (not email.*); a user with campaign
    types off gets none of them while individual mail still reaches them; a mass 550 is campaign.bounced."""
    org = await provision_sending_org(client, gateway, twilio_api)
    await _marketing(client, org)
    tid = await email_template(client, org, "春のキャンペーン", HTML)
    mass = await _sent(client, org, smtp_server, _mail(tid, "mass"))
    feed = await live_feed(gateway, org.ctx.tokens["u1"])
    assert (await client.get(_pixel(gateway, mass))).status_code == 200
    opened = await feed.signal("campaign.opened")
    assert opened["title"] == "山田 太郎 opened “春のキャンペーン”" and opened["contact"]["id"] == "c-yamada"
    assert (await client.get(_link(gateway, mass))).status_code == 302
    assert (await feed.signal("campaign.clicked"))["data"]["subject"] == "春のキャンペーン"
    off = {"types": {"campaign.opened": False, "campaign.clicked": False}}
    r = await client.put("/api/v1/me/settings", json=off, headers=org.ctx.user_headers("u1"))
    assert r.status_code == 200, r.text
    another = await _sent(client, org, smtp_server, _mail(tid, "mass"))
    assert (await client.get(_pixel(gateway, another))).status_code == 200
    assert (await client.get(_link(gateway, another))).status_code == 302
    personal = await _sent(client, org, smtp_server, _mail(tid))
    assert (await client.get(_pixel(gateway, personal))).status_code == 200
    await feed.signal("email.opened")  # routed after the mass hits (one org: one partition, in order)
    kinds = [s["type"] for s in (await signals_of(client, org.ctx, "u1"))["signals"]]
    assert kinds == ["campaign.opened", "campaign.clicked", "email.opened"], kinds
    # A mass mail refused with 550 is campaign.bounced (hard) to the owner of the contact (u2 for Smith).
    r = await client.put(
        f"/api/v1/orgs/{org.id}/contacts/c-smith", json={"marketing": True}, headers=org.ctx.gateway.admin
    )
    assert r.status_code == 200, r.text
    smith = await live_feed(gateway, org.ctx.tokens["u2"])
    smtp_server.recorder.script["jane@acme.example.com"] = ["550 5.1.1 <jane@acme.example.com>: user unknown"]
    bounced = await settled(client, org, (await notify(client, org, _mail(tid, "mass", "c-smith")))["id"])
    assert bounced["status"] == "bounced", bounced
    sig = await smith.signal("campaign.bounced")
    assert sig["data"]["bounce"] == "hard" and sig["data"]["subject"] == "春のキャンペーン"
    assert sig["title"] == "Email “春のキャンペーン” to Jane Smith bounced"
    assert [s["type"] for s in (await signals_of(client, org.ctx, "u2"))["signals"]] == ["campaign.bounced"]
    await feed.ws.close()
    await smith.ws.close()
