"""Templates API: approval lifecycle, immutable module, merge-field syntax, validation."""

from __future__ import annotations

import uuid

import httpx

from tests.support.api import Gateway, OrgCtx


async def test_sms_template_lifecycle(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """draft → pending → approved; editing the approved text → a new draft version while the approved
    one stays live; reject needs pending; a rejected new version leaves the approved one; module is fixed."""
    base = f"/api/v1/orgs/{org.id}/templates"
    body = {"channel": "sms", "name": "確認", "module": "deals", "body": "{{ name }}様 ご確認ください"}
    r = await client.post(base, json=body, headers=gateway.admin)
    assert r.status_code == 201 and r.json()["status"] == "draft"
    tid = r.json()["id"]
    assert (await client.post(f"{base}/{tid}/approve", headers=gateway.admin)).status_code == 409
    assert (await client.post(f"{base}/{tid}/submit", headers=gateway.admin)).json()["status"] == "pending"
    assert (await client.post(f"{base}/{tid}/approve", headers=gateway.admin)).json()["status"] == "approved"
    r = await client.put(f"{base}/{tid}", json={"name": "確認（新）"}, headers=gateway.admin)
    assert r.json()["status"] == "approved"  # a rename is not a text change
    r = await client.put(f"{base}/{tid}", json={"body": "{{ name }}様 再確認"}, headers=gateway.admin)
    assert r.json()["status"] == "approved" and r.json()["version"] == 1
    assert r.json()["body"] == body["body"]
    assert r.json()["draft"] == {"version": 2, "body": "{{ name }}様 再確認", "status": "draft"}
    r = await client.put(f"{base}/{tid}", json={"module": "leads"}, headers=gateway.admin)
    assert r.status_code == 400 and r.json()["error"] == "module_immutable"
    await client.post(f"{base}/{tid}/submit", headers=gateway.admin)
    r = await client.post(f"{base}/{tid}/reject", json={"reason": "DLT: 文言不一致"}, headers=gateway.admin)
    assert r.json()["status"] == "approved" and r.json()["version"] == 1
    assert r.json()["draft"]["status"] == "rejected" and r.json()["draft"]["reject_reason"] == "DLT: 文言不一致"
    listed = (await client.get(base, headers=gateway.admin)).json()["templates"]
    assert [t["id"] for t in listed] == [tid]


async def test_template_validation(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """Bad syntax, missing fields, SMS with a subject, duplicate ids → 400/409 JSON errors."""
    base = f"/api/v1/orgs/{org.id}/templates"
    tid = "t-" + uuid.uuid4().hex[:6]
    cases = [
        ({"channel": "sms", "name": "x", "module": "m", "body": "{{ name"}, 400, "invalid_template"),
        ({"channel": "email", "name": "x", "module": "m", "body": "<p>hi</p>"}, 400, "invalid_field"),
        ({"channel": "sms", "name": "x", "module": "m", "body": "hi", "subject": "s"}, 400, "invalid_field"),
        ({"channel": "fax", "name": "x", "module": "m", "body": "hi"}, 400, "invalid_field"),
        ({"id": tid, "channel": "sms", "name": "x", "module": "m", "body": "hi"}, 201, None),
        ({"id": tid, "channel": "sms", "name": "x", "module": "m", "body": "hi"}, 409, "template_exists"),
    ]
    for body, status, code in cases:
        r = await client.post(base, json=body, headers=gateway.admin)
        assert r.status_code == status, (body, r.text)
        if code:
            assert r.json()["error"] == code
    assert (await client.post(f"{base}/{tid}/approve", headers=gateway.admin)).json()["error"] == "invalid_transition"
    email = {"channel": "email", "name": "案内", "module": "leads", "subject": "{{ name }}様", "body": "<p>本文</p>"}
    r = await client.post(base, json=email, headers=gateway.admin)
    assert r.status_code == 201 and r.json()["status"] == "approved"
    assert (await client.post(f"{base}/{r.json()['id']}/submit", headers=gateway.admin)).status_code == 409


async def test_india_approval_needs_dlt_template_id(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """An org in IN cannot approve an SMS template without its DLT template id."""
    await client.put(f"/api/v1/orgs/{org.id}", json={"country": "IN"}, headers=gateway.admin)
    base = f"/api/v1/orgs/{org.id}/templates"
    r = await client.post(
        base, json={"channel": "sms", "name": "OTP", "module": "m", "body": "OTP {{ code }}"}, headers=gateway.admin
    )
    tid = r.json()["id"]
    await client.post(f"{base}/{tid}/submit", headers=gateway.admin)
    r = await client.post(f"{base}/{tid}/approve", headers=gateway.admin)
    assert r.status_code == 400 and r.json()["error"] == "dlt_template_required"
    r = await client.post(
        f"{base}/{tid}/approve", json={"dlt_template_id": "1107161234567890123"}, headers=gateway.admin
    )
    assert r.json()["status"] == "approved" and r.json()["dlt_template_id"] == "1107161234567890123"


async def test_an_edit_that_submits_nothing_is_a_documented_409(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """PUT with ``"submit": true`` when there is nothing to submit (an approved SMS template with no
    new version; an email template, which needs no approval) → 409 ``invalid_transition``, the status
    and code the served OpenAPI document names for the operation."""
    base = f"/api/v1/orgs/{org.id}/templates"
    r = await client.post(base, json={"channel": "sms", "name": "n", "module": "deals", "body": "b"},
                          headers=gateway.admin)  # fmt: skip
    sms = r.json()["id"]
    await client.post(f"{base}/{sms}/submit", headers=gateway.admin)
    assert (await client.post(f"{base}/{sms}/approve", headers=gateway.admin)).json()["status"] == "approved"
    email = {"channel": "email", "name": "n", "module": "leads", "subject": "s", "body": "<p>b</p>"}
    mail = (await client.post(base, json=email, headers=gateway.admin)).json()["id"]
    for tid in (sms, mail):
        r = await client.put(f"{base}/{tid}", json={"submit": True}, headers=gateway.admin)
        assert (r.status_code, r.json()["error"]) == (409, "invalid_transition"), r.text
    doc = (await client.get("/openapi.json")).json()
    put = doc["paths"]["/api/v1/orgs/{org}/templates/{template}"]["put"]["responses"]
    assert "409" in put and "invalid_transition" in put["409"]["description"]
    assert "module_immutable" in put["400"]["description"]
