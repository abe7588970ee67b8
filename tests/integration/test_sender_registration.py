"""India sender registration on PUT /api/v1/orgs/{org} and the DLT copy of an SMS template, over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import Gateway, OrgCtx

SENDER = {
    "sender_id": "SGATE",
    "entity_id": "1201160000000000001",
    "entity_name": "Signal Gate Pvt Ltd",
    "sender_unique_id": "1305161234567890",
    "operator": "Jio",
}
PROFILE = {
    "legal_name": "Signal Gate Private Limited",
    "brand_name": "SignalGate",
    "city": "Bengaluru",
    "state": "Karnataka",
    "postal_code": "560001",
}


async def test_registration_is_validated_echoed_and_lists_what_is_missing(
    client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway
) -> None:
    """sender and profile are validated field by field (400 names the field), echoed, and an IN org
    shows what it still lacks to send SMS."""
    url = f"/api/v1/orgs/{org.id}"
    r = await client.put(url, json={"country": "IN", "timezone": "Asia/Kolkata"}, headers=gateway.admin)
    assert r.status_code == 200, r.text
    assert r.json()["sender_registration"]["missing"][:2] == ["sender.sender_id", "sender.entity_id"]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"sender": {**SENDER, "entity_id": "120116000000000001"}}, "sender.entity_id"),
        ({"sender": {**SENDER, "sender_id": "sg-ate"}}, "sender.sender_id"),
        ({"sender": {**SENDER, "sender_unique_id": "a b"}}, "sender.sender_unique_id"),
        ({"profile": {"postal_code": "5600"}}, "profile.postal_code"),
        ({"profile": {"brand_name": ""}}, "profile.brand_name"),
    ]
    for body, field in bad:
        r = await client.put(url, json=body, headers=gateway.admin)
        assert (r.status_code, r.json()["error"]) == (400, "invalid_field"), (body, r.text)
        assert field in r.json()["detail"]
    r = await client.put(url, json={"sender": SENDER, "profile": PROFILE}, headers=gateway.admin)
    assert r.status_code == 200, r.text
    shown = (await client.get(url, headers=gateway.admin)).json()
    assert (shown["sender"], shown["profile"], shown["sender_registration"]) == (SENDER, PROFILE, {"missing": []})
    r = await client.put(url, json={"profile": {"city": None}}, headers=gateway.admin)
    assert r.json()["sender_registration"] == {"missing": ["profile.city"]}


async def _template(client: httpx.AsyncClient, org: OrgCtx, body: dict[str, Any]) -> str:
    r = await client.post(f"/api/v1/orgs/{org.id}/templates", json=body, headers=org.gateway.admin)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _sms(text: str) -> dict[str, Any]:
    return {"channel": "sms", "name": "OTP", "module": "contacts", "body": text}


async def test_dlt_copy_of_a_template(client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway) -> None:
    """GET .../templates/{id}/dlt: each {{ … }} becomes {#var#}, with the DLT template id once approved;
    control blocks and email templates → 409 not_dlt_compatible; unknown → 404; members → 403."""
    base = f"/api/v1/orgs/{org.id}/templates"
    tid = await _template(client, org, _sms("{{ name }}様、認証コードは{{ code | upper }}です。{# memo #}"))
    r = await client.get(f"{base}/{tid}/dlt", headers=gateway.admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"text": "{#var#}様、認証コードは{#var#}です。", "variables": 2, "version": 1, "status": "draft"}
    assert (await client.post(f"{base}/{tid}/submit", headers=gateway.admin)).status_code == 200
    approval = {"dlt_template_id": "1107161234567890123"}
    assert (await client.post(f"{base}/{tid}/approve", json=approval, headers=gateway.admin)).status_code == 200
    r = await client.get(f"{base}/{tid}/dlt", headers=gateway.admin)
    assert r.json()["dlt_template_id"] == "1107161234567890123"
    looped = await _template(client, org, _sms("{% for i in items %}{{ i }}{% endfor %}"))
    mail = await _template(client, org, {**_sms("Hi {{ name }}"), "channel": "email", "subject": "Hi"})
    for other in (looped, mail):
        r = await client.get(f"{base}/{other}/dlt", headers=gateway.admin)
        assert (r.status_code, r.json()["error"]) == (409, "not_dlt_compatible"), r.text
    assert "{% for %}" in (await client.get(f"{base}/{looped}/dlt", headers=gateway.admin)).json()["detail"]
    r = await client.get(f"{base}/nope/dlt", headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (404, "template_not_found")
    r = await client.get(f"{base}/{tid}/dlt", headers=org.user_headers("u2"))
    assert r.status_code == 403


async def test_dlt_copy_of_a_new_version_before_it_is_registered(
    client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway
) -> None:
    """An edit of an approved template is a new version: its DLT copy is the default (the admin files it
    before approving it), the approved one is still asked for by ?version=; an unknown version is 404."""
    base = f"/api/v1/orgs/{org.id}/templates"
    tid = await _template(client, org, _sms("{{ name }}様、ご予約ありがとうございます。"))
    assert (await client.post(f"{base}/{tid}/submit", headers=gateway.admin)).status_code == 200
    approval = {"dlt_template_id": "1107161234567890123"}
    assert (await client.post(f"{base}/{tid}/approve", json=approval, headers=gateway.admin)).status_code == 200
    r = await client.put(
        f"{base}/{tid}", json={"body": "{{ name }}様、{{ date }}のご予約を承りました。"}, headers=gateway.admin
    )
    assert r.status_code == 200 and r.json()["draft"]["version"] == 2, r.text

    newest = {"text": "{#var#}様、{#var#}のご予約を承りました。", "variables": 2, "version": 2, "status": "draft"}
    r = await client.get(f"{base}/{tid}/dlt", headers=gateway.admin)
    assert (r.status_code, r.json()) == (200, newest), r.text
    assert (await client.get(f"{base}/{tid}/dlt", params={"version": 2}, headers=gateway.admin)).json() == newest
    r = await client.get(f"{base}/{tid}/dlt", params={"version": 1}, headers=gateway.admin)
    assert r.json() == {
        "text": "{#var#}様、ご予約ありがとうございます。",
        "variables": 1,
        "version": 1,
        "status": "approved",
        "dlt_template_id": "1107161234567890123",
    }
    r = await client.get(f"{base}/{tid}/dlt", params={"version": 3}, headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (404, "version_not_found"), r.text
    r = await client.get(f"{base}/{tid}/dlt", params={"version": "v1"}, headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_parameter"), r.text


@pytest.mark.parametrize("entity_id", ["1201160000000000001", "0000000000000000000"])
async def test_entity_id_is_any_19_digits(
    client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway, entity_id: str
) -> None:
    """The PEID is checked for shape only: any 19 ASCII digits."""
    r = await client.put(
        f"/api/v1/orgs/{org.id}", json={"sender": {**SENDER, "entity_id": entity_id}}, headers=gateway.admin
    )
    assert r.status_code == 200 and r.json()["sender"]["entity_id"] == entity_id
