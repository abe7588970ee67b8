"""Credits as the source describes them: auto-recharge tops up *before* the credits run out (in the
same atomic step as the charge, within max_per_day top-ups a day), credits.low tells the admins
once per crossing, and a preview tells what an SMS costs. Real gateway, workers, local Twilio API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import Gateway
from tests.support.sending import (
    SendOrg,
    StartWorkers,
    buy,
    credits_of,
    notify,
    provision_sending_org,
    settled,
    sms_template,
)
from tests.support.timing import wait_for
from tests.support.ws import live_feed

# 3 GSM-7 segments: 307..459 septets.
LONG = "Dear {{ name }}, " + "your order is on its way and will arrive tomorrow morning. " * 6
JAPANESE_71 = "ご予約ありがとうございます。" * 5 + "!"  # 70 + 1 characters


def sms(template: str, **extra: Any) -> dict[str, Any]:
    return {"channel": "sms", "template": template, "to": {"contact": "c-yamada"}, "data": {"name": "Yamada"}, **extra}


async def auto_recharge(client: httpx.AsyncClient, org: SendOrg, **body: Any) -> dict[str, Any]:
    r = await client.put(f"/api/v1/orgs/{org.id}/credits/auto-recharge", json=body, headers=org.ctx.gateway.admin)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def ledger(client: httpx.AsyncClient, org: SendOrg) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/orgs/{org.id}/credits/ledger?limit=1000", headers=org.ctx.gateway.admin)
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()["entries"]
    return entries


async def test_enabling_below_the_threshold_tops_up_at_once(
    client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi
) -> None:
    """Balance 3, enabled with threshold 10 and amount 4 → two top-ups at once (11), two ledger entries."""
    org = await provision_sending_org(client, gateway, twilio_api)
    await buy(client, org, 3)
    status = await auto_recharge(client, org, enabled=True, threshold=10, amount=4, max_per_day=5)
    assert status["balance"] == 11
    assert status["auto_recharge"] == {"enabled": True, "threshold": 10, "amount": 4, "max_per_day": 5, "today": 2}
    entries = await ledger(client, org)
    assert [(e["type"], e["amount"], e["balance"]) for e in entries] == [
        ("auto_recharge", 4, 11),
        ("auto_recharge", 4, 7),
        ("purchase", 3, 3),
    ]
    # Enabling again above the threshold changes nothing.
    assert (await auto_recharge(client, org, enabled=True, threshold=10, amount=4, max_per_day=5))["balance"] == 11


@pytest.mark.usefixtures("send_workers")
async def test_a_send_larger_than_the_balance_tops_up_then_sends(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """Balance 2, threshold 1, amount 10: a 3-segment SMS tops up first (12), then is charged (9)."""
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await sms_template(client, org, LONG)
    await buy(client, org, 2)
    await auto_recharge(client, org, enabled=True, threshold=1, amount=10, max_per_day=3)
    done = await settled(client, org, (await notify(client, org, sms(tid)))["id"])
    assert (done["status"], done["segments"], done["charged"]) == ("sent", 3, 3), done
    assert len(twilio_api.created) == 1
    assert (await credits_of(client, org))["balance"] == 9
    assert [e["type"] for e in await ledger(client, org)] == ["charge", "auto_recharge", "purchase"]


@pytest.mark.usefixtures("send_workers")
async def test_a_send_the_cap_cannot_cover_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """Balance 1, amount 1, one top-up a day: a 3-segment SMS cannot be covered → insufficient_credits, no top-up."""
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await sms_template(client, org, LONG)
    await buy(client, org, 1)
    await auto_recharge(client, org, enabled=True, threshold=1, amount=1, max_per_day=1)
    done = await settled(client, org, (await notify(client, org, sms(tid)))["id"])
    assert (done["status"], done["reason"]) == ("rejected", "insufficient_credits")
    assert (await credits_of(client, org))["balance"] == 1
    assert [e["type"] for e in await ledger(client, org)] == ["purchase"]


@pytest.mark.usefixtures("send_workers")
async def test_credits_low_goes_to_admins_once_per_crossing(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """Auto-recharge off, threshold 2: falling below tells the admin (not the member) once; a purchase
    back above re-arms it; the next crossing tells again."""
    org = await provision_sending_org(client, gateway, twilio_api)
    r = await client.put(f"/api/v1/orgs/{org.id}/users/u1", json={"role": "admin"}, headers=gateway.admin)
    assert r.status_code == 200, r.text
    tid = await sms_template(client, org, "Hello {{ name }}")
    await buy(client, org, 3)
    await auto_recharge(client, org, enabled=False, threshold=2)
    admin_feed = await live_feed(gateway, org.ctx.tokens["u1"])

    async def send(n: int) -> None:
        for _ in range(n):
            assert (await settled(client, org, (await notify(client, org, sms(tid)))["id"]))["status"] in (
                "sent",
                "rejected",
            )

    await send(3)  # 3 → 2 → 1 (crossing) → 0
    first = await admin_feed.signal("credits.low", timeout=10)
    assert first["data"]["balance"] == 1 and first["data"]["threshold"] == 2 and first["contact"] is None
    await send(1)  # refused at 0: still below, not a new crossing
    await buy(client, org, 4)  # 4: back above, re-armed
    await send(3)  # 4 → 3 → 2 → 1 (crossing)
    second = await admin_feed.signal("credits.low", timeout=10)
    assert second["data"]["balance"] == 1 and second["id"] != first["id"]

    async def settled_feed() -> list[dict[str, Any]] | None:
        r = await client.get("/api/v1/me/signals", params={"type": "credits.low"}, headers=org.ctx.user_headers("u1"))
        got: list[dict[str, Any]] = r.json()["signals"]
        return got if len(got) >= 2 else None

    signals = await wait_for(settled_feed, timeout=10)
    await asyncio.sleep(1.0)  # nothing more arrives
    r = await client.get("/api/v1/me/signals", params={"type": "credits.low"}, headers=org.ctx.user_headers("u1"))
    assert len(r.json()["signals"]) == 2 == len(signals)
    assert [s["count"] for s in r.json()["signals"]] == [1, 1]
    r = await client.get("/api/v1/me/signals", params={"type": "credits.low"}, headers=org.ctx.user_headers("u2"))
    assert r.json()["signals"] == []  # the member hears nothing
    await admin_feed.ws.close()


async def test_64_concurrent_sends_across_the_threshold(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    start_send_workers: StartWorkers,
) -> None:
    """Balance 30, threshold 20, +10, at most 3 top-ups a day; 64 concurrent 1-credit sends: exactly
    3 top-ups, 60 sent, 4 insufficient_credits, balance 0, never negative, ledger sum = balance."""
    start_send_workers(n=2)
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await sms_template(client, org, "Hello {{ name }}")
    await buy(client, org, 30)
    await auto_recharge(client, org, enabled=True, threshold=20, amount=10, max_per_day=3)
    created = await asyncio.gather(*(notify(client, org, sms(tid)) for _ in range(64)))
    outcomes = await asyncio.gather(*(settled(client, org, n["id"], timeout=90) for n in created))
    statuses = [o["status"] for o in outcomes]
    assert statuses.count("sent") == 60 and statuses.count("rejected") == 4, statuses
    assert {o["reason"] for o in outcomes if o["status"] == "rejected"} == {"insufficient_credits"}
    assert len(twilio_api.created) == 60
    status = await credits_of(client, org)
    assert status["balance"] == 0 and status["auto_recharge"]["today"] == 3
    entries = await ledger(client, org)
    assert [e["type"] for e in entries].count("auto_recharge") == 3
    assert [e["type"] for e in entries].count("charge") == 60
    assert all(e["balance"] >= 0 for e in entries)
    assert sum(e["amount"] for e in entries) == status["balance"]


async def test_preview_tells_encoding_segments_and_credits_without_sending(
    client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi
) -> None:
    org = await provision_sending_org(client, gateway, twilio_api)
    await buy(client, org, 5)
    url = f"/api/v1/orgs/{org.id}/sms/preview"
    assert len(JAPANESE_71) == 71
    r = await client.post(url, json={"body": JAPANESE_71}, headers=gateway.admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"text": JAPANESE_71, "encoding": "UCS-2", "segments": 2, "credits": 2}
    tid = await sms_template(client, org, LONG)
    r = await client.post(url, json={"template": tid, "data": {"name": "Yamada"}}, headers=gateway.admin)
    assert r.status_code == 200, r.text
    assert (r.json()["encoding"], r.json()["segments"], r.json()["credits"]) == ("GSM-7", 3, 3)
    assert r.json()["text"].startswith("Dear Yamada, ")
    r = await client.post(url, json={"template": tid, "data": {}}, headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (400, "template_error")
    r = await client.post(url, json={"template": "nope"}, headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (404, "template_not_found")
    r = await client.post(url, json={"body": 5}, headers=gateway.admin)
    assert r.status_code == 400
    assert (await credits_of(client, org))["balance"] == 5 and twilio_api.created == []


async def test_switching_auto_recharge_off_keeps_the_threshold_that_warns_the_admins(
    client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi
) -> None:
    """`{"enabled": false}` alone keeps the threshold and amount: the threshold still decides when
    credits.low is sent (a 0 would silence it), and switching back on needs no re-entry."""
    org = await provision_sending_org(client, gateway, twilio_api)
    await auto_recharge(client, org, enabled=True, threshold=7, amount=20, max_per_day=3)
    off = (await auto_recharge(client, org, enabled=False))["auto_recharge"]
    assert (off["enabled"], off["threshold"], off["amount"]) == (False, 7, 20)
    explicit = (await auto_recharge(client, org, enabled=False, threshold=0))["auto_recharge"]
    assert (explicit["threshold"], explicit["amount"]) == (0, 20)
