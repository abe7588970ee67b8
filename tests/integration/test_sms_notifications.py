"""SMS notification definitions (fixed module, approved template of that module, a phone field) and
their trigger: per-contact results, the mobile number picked, idempotent repeats, a segment's members.
Real gateway, workers and the local Twilio API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import Gateway
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.sending import (
    SendOrg,
    SmtpServer,
    buy,
    credits_of,
    provision_sending_org,
    settled,
    sms_template,
    start_workers,
)
from tests.support.timing import FACTOR

SATO_MOBILE = "+819011112222"
CONTACTS = {
    # The work number sorts first: a pick by "first phone" would text the landline.
    "c-sato": {"name": "佐藤", "company": "関西商事", "phones": [
        {"number": "+81 3-1234-5678", "type": "work"}, {"number": "+81 90-1111-2222", "type": "mobile"}]},
    "c-desk": {"name": "受付", "company": "関西商事", "phones": [{"number": "+81 6-1234-5678", "type": "work"}]},
    "c-kato": {"name": "加藤", "company": "東京物産", "phones": ["+81 80-3333-4444"]},
}  # fmt: skip


async def _setup(client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi) -> tuple[SendOrg, str]:
    org = await provision_sending_org(client, gateway, twilio_api)
    for cid, body in CONTACTS.items():
        r = await client.put(f"/api/v1/orgs/{org.id}/contacts/{cid}", json=body, headers=gateway.admin)
        assert r.status_code in (200, 201), r.text
    tid = await sms_template(client, org, "{{ contact.name }}様、商談の件でご連絡しました。{{ note }}")
    return org, tid


def url(org: SendOrg, path: str = "") -> str:
    return f"/api/v1/orgs/{org.id}/sms-notifications{path}"


async def test_definitions_fix_the_module_and_need_an_approved_template_of_it(
    client: httpx.AsyncClient, gateway: Gateway, twilio_api: TwilioApi
) -> None:
    org, tid = await _setup(client, gateway, twilio_api)
    definition = {"name": "商談フォロー", "module": "deals", "phone_field": "mobile", "template": tid}
    r = await client.put(url(org, "/deal-follow"), json=definition, headers=gateway.admin)
    assert r.status_code == 201 and r.json() == {"id": "deal-follow", **definition}, r.text
    r = await client.put(
        url(org, "/deal-follow"), json={"name": "商談フォロー2", "module": "deals"}, headers=gateway.admin
    )
    assert r.status_code == 200 and r.json()["name"] == "商談フォロー2"
    r = await client.put(url(org, "/deal-follow"), json={"module": "leads"}, headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (409, "module_fixed")
    draft = await sms_template(client, org, "下書き", approve=False)
    r = await client.put(url(org, "/x"), json=dict(definition, template=draft), headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (409, "template_not_approved")
    r = await client.put(url(org, "/x"), json=dict(definition, module="leads"), headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (409, "template_not_approved")  # approved, but of deals
    r = await client.put(url(org, "/x"), json=dict(definition, phone_field="fax"), headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_field")
    r = await client.get(url(org), headers=gateway.admin)
    assert [d["id"] for d in r.json()["sms_notifications"]] == ["deal-follow"]
    assert (await client.delete(url(org, "/deal-follow"), headers=gateway.admin)).status_code == 204
    assert (await client.get(url(org, "/deal-follow"), headers=gateway.admin)).status_code == 404


async def test_trigger_texts_the_mobile_number_once_with_per_contact_results(
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    start_workers(procs, redis_server, gateway, twilio_api, smtp_server)
    org, tid = await _setup(client, gateway, twilio_api)
    await buy(client, org, 10)
    definition = {"name": "商談フォロー", "module": "deals", "phone_field": "mobile", "template": tid}
    assert (await client.put(url(org, "/follow"), json=definition, headers=gateway.admin)).status_code == 201
    body: dict[str, Any] = {"contacts": ["c-sato", "c-desk", "c-ghost", "c-kato"], "data": {"note": "明日"},
                            "idempotency_key": "deal-42"}  # fmt: skip
    r = await client.post(url(org, "/follow/trigger"), json=body, headers=gateway.admin)
    assert r.status_code == 202, r.text
    results = r.json()["results"]
    assert [(x["contact"], x.get("error")) for x in results] == [
        ("c-sato", None),
        ("c-desk", "no_phone_in_field"),
        ("c-ghost", "unknown_contact"),
        ("c-kato", None),  # a bare mobile number is typed mobile by its numbering plan
    ]
    sent = [x["notification"] for x in results if "notification" in x]
    outcomes = await asyncio.gather(*(settled(client, org, nid) for nid in sent))
    assert [o["status"] for o in outcomes] == ["sent", "sent"], outcomes
    assert [m["to"] for m in twilio_api.created_to(SATO_MOBILE)] == [SATO_MOBILE]
    assert twilio_api.created_to(SATO_MOBILE)[0]["body"] == "佐藤様、商談の件でご連絡しました。明日"
    # The same key again: the same notifications, nothing sent twice, nothing charged twice.
    again = await client.post(url(org, "/follow/trigger"), json=body, headers=gateway.admin)
    assert again.status_code == 202 and again.json()["results"] == results
    await asyncio.sleep(1.5 * FACTOR)
    assert len(twilio_api.created) == 2
    assert (await credits_of(client, org))["balance"] == 8
    # "any" takes the mobile number before the landline; "work" takes the work number.
    for field, expected in (("any", SATO_MOBILE), ("work", "+81312345678")):
        d = dict(definition, phone_field=field)
        assert (await client.put(url(org, f"/{field}"), json=d, headers=gateway.admin)).status_code == 201
        r = await client.post(url(org, f"/{field}/trigger"), json={"contacts": ["c-sato"], "data": {"note": ""}},
                              headers=gateway.admin)  # fmt: skip
        done = await settled(client, org, r.json()["results"][0]["notification"])
        assert done["recipient"] == expected, done
    # Bad requests.
    bads: list[dict[str, Any]] = [
        {"contacts": []},
        {"contacts": ["x"] * 1001},
        {"contacts": ["c-sato"], "segment": "s"},
        {},
    ]
    for bad in bads:
        r = await client.post(url(org, "/follow/trigger"), json=bad, headers=gateway.admin)
        assert r.status_code == 400, (bad, r.text)
    r = await client.post(url(org, "/nope/trigger"), json={"contacts": ["c-sato"]}, headers=gateway.admin)
    assert r.status_code == 404


async def test_trigger_for_a_segment_texts_its_members(
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    start_workers(procs, redis_server, gateway, twilio_api, smtp_server)
    org, tid = await _setup(client, gateway, twilio_api)
    await buy(client, org, 10)
    segment = {"name": "関西", "match": {"company": "関西商事"}}
    r = await client.put(f"/api/v1/orgs/{org.id}/segments/kansai", json=segment, headers=gateway.admin)
    assert r.status_code in (200, 201), r.text
    definition = {"name": "商談フォロー", "module": "deals", "phone_field": "any", "template": tid}
    assert (await client.put(url(org, "/follow"), json=definition, headers=gateway.admin)).status_code == 201
    trigger = {"segment": "kansai", "data": {"note": ""}, "idempotency_key": "k"}
    r = await client.post(url(org, "/follow/trigger"), json=trigger, headers=gateway.admin)
    assert r.status_code == 202, r.text
    results = sorted(r.json()["results"], key=lambda x: x["contact"])
    assert [x["contact"] for x in results] == ["c-desk", "c-sato"]
    # "any": c-desk has only a work number, which it takes; c-sato its mobile.
    outcomes = await asyncio.gather(*(settled(client, org, x["notification"]) for x in results))
    assert [o["recipient"] for o in outcomes] == ["+81612345678", SATO_MOBILE]
    r = await client.post(url(org, "/follow/trigger"), json={"segment": "nope"}, headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (400, "unknown_segment")
