"""Email sending end to end: worker processes, a real aiosmtpd server, daily caps, tracking, reports."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from gateway.devtools.twilio_api import TwilioApi
from gateway.domain.quota import local_day
from gateway.store import keys
from tests.support.api import Gateway
from tests.support.redis import RedisServer
from tests.support.sending import (
    SendOrg,
    SmtpServer,
    StartWorkers,
    email_template,
    notify,
    provision_sending_org,
    settled,
)
from tests.support.timing import wait_for
from tests.support.ws import live_feed

SUBJECT = "{{ name }}様 新製品のご案内"
HTML = (
    '<html><body><p>{{ name }}様</p><p>詳しくは<a href="https://example.jp/products?id=42&amp;ref=mail">製品ページ</a>'
    'をご覧ください。</p><p><a href="mailto:support@example.jp">お問い合わせ</a></p></body></html>'
)
YAMADA_EMAIL = "yamada@client.example.jp"


def mail(template: str, to: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "channel": "email",
        "template": template,
        "to": to or {"contact": "c-yamada"},
        "data": {"name": "山田"},
        **extra,
    }


async def _org(client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi, **kw: Any) -> tuple[SendOrg, str]:
    org = await provision_sending_org(client, gateway, twilio_api, **kw)
    return org, await email_template(client, org, SUBJECT, HTML)


async def _consent(client: httpx.AsyncClient, org: SendOrg) -> None:
    """c-yamada agrees to marketing mail: mass/auto/scheduled/macro mail to it is counted and sent."""
    r = await client.put(
        f"/api/v1/orgs/{org.id}/contacts/c-yamada", json={"marketing": True}, headers=org.ctx.gateway.admin
    )
    assert r.status_code == 200, r.text


def _html_part(msg: Any) -> str:
    return str(msg.get_body(preferencelist=("html",)).get_content())


def _text_part(msg: Any) -> str:
    return str(msg.get_body(preferencelist=("plain",)).get_content())


@pytest.mark.usefixtures("send_workers")
async def test_tracked_email_opens_and_clicks_make_signals(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """The delivered mail has the pixel and signed links (text part untouched); open and click reach the owner."""
    org, tid = await _org(client, gateway, twilio_api)
    feed = await live_feed(gateway, org.ctx.tokens["u1"])
    n = await notify(client, org, mail(tid))
    done = await settled(client, org, n["id"])
    assert done["status"] == "sent", done
    [msg] = smtp_server.recorder.to(YAMADA_EMAIL)
    assert msg["Subject"] == "山田様 新製品のご案内"
    assert msg["Message-ID"] == done["message_id"]
    html = _html_part(msg)
    links = re.findall(r'href="([^"]+)"', html)
    assert [link.startswith(f"{gateway.base_url}/t/c/") for link in links] == [True, False]
    assert "mailto:support@example.jp" in links
    pixel = re.findall(r'<img src="([^"]+)"', html)
    assert len(pixel) == 1 and pixel[0].startswith(f"{gateway.base_url}/t/o/")
    text = _text_part(msg)
    assert "https://example.jp/products?id=42&ref=mail" in text and "/t/c/" not in text and "/t/o/" not in text
    r = await client.get(links[0].replace(gateway.base_url, ""))
    assert r.status_code == 302 and r.headers["location"] == "https://example.jp/products?id=42&ref=mail"
    assert (await feed.signal("email.clicked"))["contact"]["id"] == "c-yamada"
    assert (await client.get(pixel[0].replace(gateway.base_url, ""))).status_code == 200
    opened = await feed.signal("email.opened")
    assert opened["data"]["notification"] == n["id"] and opened["user"] == "u1"
    await feed.ws.close()


@pytest.mark.usefixtures("send_workers")
async def test_untracked_org_sends_plain_links(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """With tracking off the mail carries the original links and no pixel."""
    org, tid = await _org(client, gateway, twilio_api, tracking=False)
    await settled(client, org, (await notify(client, org, mail(tid)))["id"])
    html = _html_part(smtp_server.recorder.to(YAMADA_EMAIL)[0])
    assert "/t/c/" not in html and "/t/o/" not in html and "https://example.jp/products" in html


@pytest.mark.usefixtures("send_workers")
async def test_smtp_550_bounces_and_451_is_retried(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """550 → bounced with an email.bounced (hard) signal to the owner; 451 then OK → sent once."""
    org, tid = await _org(client, gateway, twilio_api)
    feed = await live_feed(gateway, org.ctx.tokens["u2"])
    smtp_server.recorder.script["jane@acme.example.com"] = ["550 5.1.1 <jane@acme.example.com>: user unknown"]
    bounced = await settled(client, org, (await notify(client, org, mail(tid, {"contact": "c-smith"})))["id"])
    assert (bounced["status"], bounced["reason"]) == ("bounced", "smtp_550")
    sig = await feed.signal("email.bounced")
    assert sig["data"]["bounce"] == "hard" and sig["contact"]["id"] == "c-smith"
    smtp_server.recorder.script[YAMADA_EMAIL] = ["451 4.7.1 try again later"]
    retried = await settled(client, org, (await notify(client, org, mail(tid)))["id"], timeout=30)
    assert retried["status"] == "sent"
    assert len(smtp_server.recorder.to(YAMADA_EMAIL)) == 1
    await feed.ws.close()


async def test_daily_cap_is_exact_under_concurrency(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
    start_send_workers: StartWorkers,
) -> None:
    """Free plan, 1 user (cap 50): 64 concurrent individual emails → 50 sent, 14 daily_email_limit."""
    start_send_workers(n=2)
    org, tid = await _org(client, gateway, twilio_api, plan="free", users=1)
    created = await asyncio.gather(*(notify(client, org, mail(tid)) for _ in range(64)))
    outcomes = await asyncio.gather(*(settled(client, org, n["id"], timeout=60) for n in created))
    statuses = [o["status"] for o in outcomes]
    assert statuses.count("sent") == 50 and statuses.count("rejected") == 14
    assert {o["reason"] for o in outcomes if o["status"] == "rejected"} == {"daily_email_limit"}
    assert len(smtp_server.recorder.to(YAMADA_EMAIL)) == 50
    usage = (await client.get(f"/api/v1/orgs/{org.id}/usage", headers=gateway.admin)).json()["email"]
    assert usage["individual"] == {"used": 50, "limit": 50}
    assert usage["day"] == local_day(datetime.now(tz=UTC), "Asia/Tokyo")
    await _consent(client, org)
    free_mass = await settled(client, org, (await notify(client, org, mail(tid, kind="mass")))["id"])
    assert (free_mass["status"], free_mass["reason"]) == ("rejected", "mass_email_limit")


async def test_mass_cap_is_exact_under_concurrency(
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    twilio_api: TwilioApi,
    start_send_workers: StartWorkers,
) -> None:
    """Standard plan (mass 250) with 240 already sent today: 20 concurrent mass/auto/macro → 10 sent."""
    start_send_workers(n=2)
    org, tid = await _org(client, gateway, twilio_api)
    redis = aioredis.from_url(redis_server.url, decode_responses=True)
    day = local_day(datetime.now(tz=UTC), "Asia/Tokyo")
    await redis.hset(keys.email_usage(org.id, day), "mass", 240)  # earlier sends of the same local day
    await redis.aclose()
    await _consent(client, org)
    kinds = ["mass", "auto", "scheduled", "macro"] * 5
    created = await asyncio.gather(*(notify(client, org, mail(tid, kind=k)) for k in kinds))
    outcomes = await asyncio.gather(*(settled(client, org, n["id"], timeout=60) for n in created))
    statuses = [o["status"] for o in outcomes]
    assert statuses.count("sent") == 10 and statuses.count("rejected") == 10
    assert {o["reason"] for o in outcomes if o["status"] == "rejected"} == {"mass_email_limit"}
    usage = (await client.get(f"/api/v1/orgs/{org.id}/usage", headers=gateway.admin)).json()["email"]
    assert usage["mass"] == {"used": 250, "limit": 250}
    individual = await settled(client, org, (await notify(client, org, mail(tid)))["id"])
    assert individual["status"] == "sent"  # the individual cap is separate


@pytest.mark.usefixtures("send_workers")
async def test_email_report_from_real_sends_opens_clicks_bounces(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """4 sent (1 bounced), 2 opened (one twice), 1 clicked → the seed's columns with rates, per template too."""
    org, tid = await _org(client, gateway, twilio_api)
    other = await email_template(client, org, "ご請求書", "<p>{{ name }}様 請求書をお送りします</p>")
    smtp_server.recorder.script["jane@acme.example.com"] = ["550 5.1.1 user unknown"]
    sent = [
        await notify(client, org, mail(t, to))
        for t, to in (
            (tid, {"contact": "c-yamada"}),
            (tid, {"contact": "c-suzuki"}),
            (other, {"contact": "c-yamada"}),
            (tid, {"contact": "c-smith"}),
        )
    ]
    outcomes = [await settled(client, org, n["id"]) for n in sent]
    assert [o["status"] for o in outcomes] == ["sent", "sent", "sent", "bounced"]
    to_yamada = smtp_server.recorder.to(YAMADA_EMAIL)
    pixels = [re.findall(r'<img src="([^"]+)"', _html_part(m))[0] for m in to_yamada]
    for url in (pixels[0], pixels[0], pixels[1]):
        await client.get(url.replace(gateway.base_url, ""))
    first_link = re.findall(r'href="([^"]+/t/c/[^"]+)"', _html_part(to_yamada[0]))[0]
    await client.get(first_link.replace(gateway.base_url, ""))

    async def report() -> dict[str, Any] | None:
        r = await client.get(f"/api/v1/orgs/{org.id}/reports/email", params={"group": "day"}, headers=gateway.admin)
        body: dict[str, Any] = r.json()
        return body if body["total"]["opened"] == 2 and body["total"]["clicked"] == 1 else None

    body = await wait_for(report, timeout=10)
    total = body["total"]
    assert {k: total[k] for k in ("sent", "bounced", "opened", "clicked", "received", "replied")} == {
        "sent": 4,
        "bounced": 1,
        "opened": 2,
        "clicked": 1,
        "received": 0,
        "replied": 0,
    }
    assert total["bounced_rate"] == 25.0 and total["opened_rate"] == 50.0 and total["clicked_rate"] == 25.0
    today = local_day(datetime.now(tz=UTC), "Asia/Tokyo")
    assert [row["period"] for row in body["rows"] if row["sent"]] == [today]
    per_template = {row["template"]: row for row in body["templates"]}
    assert per_template[tid]["sent"] == 3 and per_template[tid]["opened"] == 1 and per_template[tid]["bounced"] == 1
    assert per_template[other]["sent"] == 1 and per_template[other]["opened"] == 1
    for group in ("week", "month"):
        r = await client.get(f"/api/v1/orgs/{org.id}/reports/email", params={"group": group}, headers=gateway.admin)
        assert r.status_code == 200 and r.json()["total"]["sent"] == 4
    bad = await client.get(f"/api/v1/orgs/{org.id}/reports/email", params={"group": "year"}, headers=gateway.admin)
    assert bad.status_code == 400
