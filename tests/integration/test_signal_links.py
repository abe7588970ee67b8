"""Signals that read well and lead somewhere: titles naming the contact, numbers formatted for the
org's country, and ``links.record`` from the org's ``record_url_template``, end to end through the
real gateway and router."""

from __future__ import annotations

import httpx

from tests.support.api import Gateway, OrgCtx, call_params, post_event, post_twilio, signals_of, sms_params, survey
from tests.support.ws import live_feed

TEMPLATE = "https://crm.example.jp/{org}/{kind}s/{contact_id}"


async def test_record_url_template_is_validated_and_stored(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """PUT org: another scheme or placeholder is 400 invalid_field naming the key; a good one is echoed."""
    url = f"/api/v1/orgs/{org.id}"
    for bad in ("ftp://crm.example.jp/{contact_id}", "https://crm.example.jp/{user}", "https://crm/{contact_id"):
        r = await client.put(url, json={"record_url_template": bad}, headers=gateway.admin)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "invalid_field" and "record_url_template" in r.json()["detail"]
    r = await client.put(url, json={"record_url_template": TEMPLATE}, headers=gateway.admin)
    assert r.status_code == 200 and r.json()["record_url_template"] == TEMPLATE
    assert (await client.get(url, headers=gateway.admin)).json()["record_url_template"] == TEMPLATE
    r = await client.put(url, json={"record_url_template": None}, headers=gateway.admin)
    assert r.status_code == 200 and "record_url_template" not in r.json()


async def test_sms_and_missed_call_name_the_contact_and_link_its_record(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """SMS: "SMS from 山田 太郎", the text as body; missed call: the number in JP format; both link the record."""
    r = await client.put(f"/api/v1/orgs/{org.id}", json={"record_url_template": TEMPLATE}, headers=gateway.admin)
    assert r.status_code == 200, r.text
    feed = await live_feed(gateway, org.tokens["u1"])
    try:
        assert (await post_twilio(client, org, "sms", sms_params("明日の件、折り返しください"))).status_code == 200
        sms = await feed.signal("sms.received")
        assert (await post_twilio(client, org, "voice-status", call_params("no-answer"))).status_code == 204
        call = await feed.signal("call.missed")
    finally:
        await feed.ws.close()
    record = f"https://crm.example.jp/{org.id}/leads/c-yamada"
    assert (sms["title"], sms["body"]) == ("SMS from 山田 太郎", "明日の件、折り返しください")
    assert sms["data"]["from"] == "+819012345678" and sms["data"]["from_display"] == "090-1234-5678"
    assert sms["links"] == {"record": record}
    assert (call["title"], call["body"]) == ("Missed call from 山田 太郎", "090-1234-5678")
    assert call["data"]["status"] == "no-answer" and call["data"]["from_display"] == "090-1234-5678"
    assert call["links"] == {"record": record}
    listed = {s["type"]: s for s in (await signals_of(client, org))["signals"]}
    assert listed["sms.received"]["links"] == {"record": record}
    assert listed["call.missed"]["title"] == "Missed call from 山田 太郎"


async def test_foreign_number_is_international_and_no_template_no_links(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """A US caller in a JP org reads +1 415-555-0134; an org without a template gives no links."""
    feed = await live_feed(gateway, org.tokens["u2"])
    try:
        params = call_params("busy", caller="+14155550134")
        assert (await post_twilio(client, org, "voice-status", params)).status_code == 204
        call = await feed.signal("call.missed")
    finally:
        await feed.ws.close()
    assert call["title"] == "Missed call from Jane Smith"
    assert call["body"] == call["data"]["from_display"] == "+1 415-555-0134"
    assert "links" not in call


async def test_signal_names_the_contacts_company(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """The page shows "contact name and company" (SPEC "The browser app"): a signal's contact carries
    the company when the contact has one, and no company key otherwise."""
    r = await client.put(
        f"/api/v1/orgs/{org.id}/contacts/c-yamada", json={"company": "株式会社クライアント"}, headers=gateway.admin
    )
    assert r.status_code == 200, r.text
    feed = await live_feed(gateway, org.tokens["u1"])
    try:
        assert (await post_event(client, org, survey({"id": "c-yamada"}))).status_code == 202
        sig = await feed.signal("survey.answered")
        assert (await post_event(client, org, {**survey({"id": "c-suzuki"}), "type": "desk.ticket"})).status_code == 202
        plain = await feed.signal("desk.ticket")
    finally:
        await feed.ws.close()
    assert sig["contact"] == {"id": "c-yamada", "name": "山田 太郎", "kind": "lead", "company": "株式会社クライアント"}
    assert "company" not in plain["contact"] and plain["contact"]["id"] == "c-suzuki"
    listed = {s["type"]: s for s in (await signals_of(client, org))["signals"]}
    assert listed["survey.answered"]["contact"]["company"] == "株式会社クライアント"
