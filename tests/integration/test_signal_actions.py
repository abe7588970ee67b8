"""Actions on a signal (``POST /api/v1/me/actions``) and the reply picker (``GET /api/v1/me/templates``)
against the real gateway, router, SMS worker and the local Twilio API: the reply is an ordinary send
(once per idempotency key, charged exactly), and the signal is read and shows it was acted on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import YAMADA_PHONE, Gateway, OrgCtx, post_event, post_twilio, signals_of, sms_params
from tests.support.processes import Processes
from tests.support.sending import (
    buy,
    credits_of,
    notification,
    provision_sending_org,
    settled,
    sms_template,
)
from tests.support.ws import Feed, live_feed

REPLY = "{{ name }}様、お電話ありがとうございました。折り返しご連絡します。"
LANDLINE = "+81 6-1234-5678"  # sorts before the mobile number: phones[0] is not where an SMS goes


async def _act(client: httpx.AsyncClient, org: OrgCtx, user: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/api/v1/me/actions", json=body, headers=org.user_headers(user))


async def _state(feed: Feed, sid: str) -> dict[str, Any]:
    return await feed.until(lambda f: f["type"] == "state" and sid in f.get("ids", []) and "acted" in f)


@pytest.mark.usefixtures("send_workers")
async def test_reply_by_sms_goes_out_once_is_charged_and_marks_the_signal_acted(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """Reply twice with one key: one SMS to the contact's mobile, one credit, read + acted on two sockets."""
    org = await provision_sending_org(client, gateway, twilio_api)
    ctx = org.ctx
    r = await client.put(
        f"/api/v1/orgs/{org.id}/contacts/c-yamada", json={"phones": [LANDLINE, YAMADA_PHONE]}, headers=gateway.admin
    )
    assert r.status_code == 200 and r.json()["phones"][0]["number"] == "+81612345678", r.text
    tid = await sms_template(client, org, REPLY)
    draft_tid = await sms_template(client, org, "未承認 {{ x }}", approve=False)
    await buy(client, org, 10)
    tab, other_tab = await live_feed(gateway, ctx.tokens["u1"]), await live_feed(gateway, ctx.tokens["u1"])
    try:
        assert (await post_twilio(client, ctx, "sms", sms_params("お電話ください"))).status_code == 200
        sid = (await tab.signal("sms.received"))["id"]
        assert (await signals_of(client, ctx))["unread"] == 1
        # Archived first: a reply marks it read where it is (not only in the inbox's unread set).
        r = await client.post("/api/v1/me/signals/archive", json={"ids": [sid]}, headers=ctx.user_headers("u1"))
        assert r.status_code == 200 and r.json()["unread"] == 0, r.text

        picker = await client.get("/api/v1/me/templates?channel=sms", headers=ctx.user_headers("u1"))
        assert picker.status_code == 200, picker.text
        assert picker.json()["templates"] == [{"id": tid, "name": "予約確認", "body": REPLY, "fields": ["name"]}]
        assert draft_tid not in picker.text

        body = {"signal": sid, "action": "sms", "template": tid, "data": {"name": "山田"}, "idempotency_key": "k1"}
        first = await _act(client, ctx, "u1", body)
        assert first.status_code == 202, first.text
        nid = first.json()["notification"]["id"]
        assert first.json()["unread"] == 0
        for feed in (tab, other_tab):
            frame = await _state(feed, sid)
            assert frame["read"] is True
            assert frame["acted"]["action"] == "sms" and frame["acted"]["notification"] == nid
            assert frame["acted"]["at"].endswith("Z")
        again = await _act(client, ctx, "u1", body)
        assert again.status_code == 202 and again.json()["notification"]["id"] == nid

        done = await settled(client, org, nid)
        assert done["status"] == "sent", done
        assert done["kind"] == "individual" and done["to"] == {"contact": "c-yamada"} and done["sender"] == "u1"
        [msg] = twilio_api.created_to(YAMADA_PHONE)  # the mobile number, exactly once
        assert msg["body"] == "山田様、お電話ありがとうございました。折り返しご連絡します。"
        assert twilio_api.created_to("+81612345678") == []
        assert done["charged"] == 1 and (await credits_of(client, org))["balance"] == 9

        [listed] = (await signals_of(client, ctx, view="archived"))["signals"]
        assert listed["id"] == sid and listed["read"] is True and listed["archived"] is True
        assert listed["acted"]["notification"] == nid
        r = await client.post("/api/v1/me/signals/unarchive", json={"ids": [sid]}, headers=ctx.user_headers("u1"))
        assert r.json()["unread"] == 0, r.text  # back in the inbox, still read
        # The status comes back to the user who replied.
        assert await twilio_api.send_status_callback(msg["sid"], "delivered") == 204
        delivered = await tab.signal("sms.delivered")
        assert delivered["title"] == "SMS to 山田 太郎 delivered"
        assert (await notification(client, org, nid))["status"] in ("sent", "delivered")
    finally:
        await tab.ws.close()
        await other_tab.ws.close()


async def test_action_refusals(
    client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi, procs: Processes
) -> None:
    """404 unknown or another user's signal, unknown template; 409 draft template, no phone, no contact."""
    org = await provision_sending_org(client, gateway, twilio_api)
    ctx = org.ctx
    tid = await sms_template(client, org, REPLY)
    draft_tid = await sms_template(client, org, "未承認", approve=False)
    r = await client.put(
        f"/api/v1/orgs/{org.id}/contacts/c-mail-only",
        json={"name": "メール 専用", "emails": ["mail-only@client.example.jp"], "owner": "u1"},
        headers=gateway.admin,
    )
    assert r.status_code == 201, r.text
    feed = await live_feed(gateway, ctx.tokens["u1"])
    try:
        assert (await post_twilio(client, ctx, "sms", sms_params("もしもし"))).status_code == 200
        sms = (await feed.signal("sms.received"))["id"]
        event = {"type": "desk.ticket", "contact": {"id": "c-mail-only"}, "title": "問い合わせ"}
        assert (await post_event(client, ctx, event)).status_code == 202
        ticket = (await feed.signal("desk.ticket"))["id"]
    finally:
        await feed.ws.close()

    def body(signal: str, template: str = tid) -> dict[str, Any]:
        return {"signal": signal, "action": "sms", "template": template, "data": {"name": "x"}}

    cases = [
        ("u1", body("1-0"), 404, "signal_not_found"),
        ("u2", body(sms), 404, "signal_not_found"),  # u1's signal is not u2's
        ("u1", body(sms, "t-none"), 404, "template_not_found"),
        ("u1", body(sms, draft_tid), 409, "template_not_approved"),
        ("u1", body(ticket), 409, "no_phone"),
        ("u1", {**body(sms), "action": "call"}, 400, "invalid_field"),
        ("u1", {**body(sms), "signal": "nope"}, 400, "invalid_field"),
        ("u1", {**body(sms), "extra": 1}, 400, "unknown_field"),
    ]
    for user, payload, status, code in cases:
        r = await _act(client, ctx, user, payload)
        assert (r.status_code, r.json()["error"]) == (status, code), (payload, r.text)
        assert r.json()["detail"]
    assert (await client.delete(f"/api/v1/orgs/{org.id}/contacts/c-yamada", headers=gateway.admin)).status_code == 204
    r = await _act(client, ctx, "u1", body(sms))
    assert (r.status_code, r.json()["error"]) == (409, "no_contact"), r.text
    assert (await client.post("/api/v1/me/actions", json=body(sms))).status_code == 401
    # Nothing was sent, nothing marked read.
    assert twilio_api.created_to(YAMADA_PHONE) == []
    assert (await signals_of(client, ctx))["unread"] == 2
    r = await client.get("/api/v1/me/templates?channel=fax", headers=ctx.user_headers("u1"))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_parameter")


async def test_me_names_the_org_its_zone_and_country(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """GET /api/v1/me carries the org's name, time zone and country beside the user's role."""
    r = await client.get("/api/v1/me", headers=org.user_headers("u1"))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "org": org.id,
        "user": "u1",
        "name": "佐藤 花子",
        "role": "member",
        "org_name": "テスト株式会社",
        "timezone": "Asia/Tokyo",
        "country": "JP",
    }
