"""SMS notification definitions (fixed module, approved template of that module, a phone field) and
their trigger: per-contact results, the mobile number picked, idempotent repeats, a segment's members.
Real gateway, workers and the local Twilio API."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import Gateway, provision_org
from tests.support.sending import (
    SendOrg,
    buy,
    credits_of,
    provision_sending_org,
    settled,
    sms_template,
)
from tests.support.timing import FACTOR, wait_for

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


@pytest.mark.usefixtures("send_workers")
async def test_trigger_texts_the_mobile_number_once_with_per_contact_results(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
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
    assert [x["name"] for x in results] == ["佐藤", "受付", None, "加藤"]  # the contacts' names (c-ghost: none)
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


async def _fanout_results(client: httpx.AsyncClient, org: SendOrg, fanout: str, limit: int) -> list[dict[str, Any]]:
    """Every member result of a segment send, read page by page (each at most ``limit``)."""
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        r = await client.get(
            f"/api/v1/orgs/{org.id}/fanouts/{fanout}/results", params=params, headers=org.ctx.gateway.admin
        )
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["results"]) <= limit
        out += page["results"]
        cursor = page["cursor"]
        if cursor is None:
            return out


async def _finished(client: httpx.AsyncClient, org: SendOrg, fanout: str) -> dict[str, Any]:
    """The segment send once it walked every member and each notification it made has an outcome."""

    async def check() -> dict[str, Any] | None:
        r = await client.get(f"/api/v1/orgs/{org.id}/fanouts/{fanout}", headers=org.ctx.gateway.admin)
        assert r.status_code == 200, r.text
        rec: dict[str, Any] = r.json()
        return rec if rec["status"] == "done" and rec["done"] == rec["enqueued"] else None

    result: dict[str, Any] = await wait_for(check, timeout=30 * FACTOR, interval=0.1)
    return result


@pytest.mark.usefixtures("send_workers")
async def test_trigger_for_a_small_segment_answers_one_result_per_member_and_texts_once(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """A segment of at most 1,000 members is answered like a contacts list (SPEC: one result per
    contact); the same key again, even twice at once, sends nothing twice."""
    org, tid = await _setup(client, gateway, twilio_api)
    await buy(client, org, 10)
    segment = {"name": "関西", "match": {"company": "関西商事"}}
    r = await client.put(f"/api/v1/orgs/{org.id}/segments/kansai", json=segment, headers=gateway.admin)
    assert r.status_code in (200, 201), r.text
    definition = {"name": "商談フォロー", "module": "deals", "phone_field": "mobile", "template": tid}
    assert (await client.put(url(org, "/follow"), json=definition, headers=gateway.admin)).status_code == 201
    trigger = {"segment": "kansai", "data": {"note": "明日"}, "idempotency_key": "k"}
    first, second = await asyncio.gather(
        *(client.post(url(org, "/follow/trigger"), json=trigger, headers=gateway.admin) for _ in range(2))
    )
    assert first.status_code == second.status_code == 202, first.text
    answer = first.json()
    assert set(answer) == {"sms_notification", "results"} and answer["sms_notification"] == "follow"
    results = sorted(answer["results"], key=lambda x: x["contact"])
    assert [(x["contact"], x.get("error")) for x in results] == [("c-desk", "no_phone_in_field"), ("c-sato", None)]
    assert sorted(second.json()["results"], key=lambda x: x["contact"]) == results  # the same notifications
    sato = await settled(client, org, results[1]["notification"])
    assert (sato["status"], sato["recipient"]) == ("sent", SATO_MOBILE)
    assert [m["body"] for m in twilio_api.created_to(SATO_MOBILE)] == ["佐藤様、商談の件でご連絡しました。明日"]
    again = await client.post(url(org, "/follow/trigger"), json=trigger, headers=gateway.admin)
    assert again.status_code == 202 and sorted(again.json()["results"], key=lambda x: x["contact"]) == results
    await asyncio.sleep(1.0 * FACTOR)
    assert len(twilio_api.created) == 1 and (await credits_of(client, org))["balance"] == 9
    r = await client.post(url(org, "/follow/trigger"), json=trigger | {"segment": "other"}, headers=gateway.admin)
    assert r.status_code == 400 and r.json()["error"] == "unknown_segment"


@pytest.mark.usefixtures("send_workers")
async def test_a_segment_of_1500_is_triggered_in_steps_and_done_counts_as_sends_finish(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """Over the 1,000 a request once evaluated: the fan-out walks it a chunk per job step. Most
    members have only a landline (skipped), a few a mobile (texted); ``done`` reaches the sends."""
    org, tid = await _setup(client, gateway, twilio_api)
    await buy(client, org, 20)
    texted = {f"m-{i:04d}" for i in range(0, 1500, 125)}  # 12 members with a mobile
    contacts = [
        {"id": f"m-{i:04d}", "name": f"会員{i}", "fields": {"club": "gold"},
         "phones": [{"number": f"+81 90-{1000 + i:04d}-{i:04d}" if f"m-{i:04d}" in texted
                     else f"+81 3-{1000 + i:04d}-{i:04d}", "type": "mobile" if f"m-{i:04d}" in texted else "work"}]}
        for i in range(1500)
    ]  # fmt: skip
    r = await client.post(f"/api/v1/orgs/{org.id}/contacts:import", json={"contacts": contacts}, headers=gateway.admin)
    assert r.status_code == 200 and r.json()["created"] == 1500, r.text[:300]
    r = await client.put(f"/api/v1/orgs/{org.id}/segments/gold", json={"match": {"fields.club": "gold"}},
                         headers=gateway.admin)  # fmt: skip
    assert r.status_code == 201, r.text
    definition = {"name": "会員", "module": "deals", "phone_field": "mobile", "template": tid}
    assert (await client.put(url(org, "/club"), json=definition, headers=gateway.admin)).status_code == 201
    # Twice at once with one key: one send (a fan-out: over 1,000 members), its record as GET shows it.
    trigger = {"segment": "gold", "data": {"note": ""}, "idempotency_key": "club-k"}
    first, second = await asyncio.gather(
        *(client.post(url(org, "/club/trigger"), json=trigger, headers=gateway.admin) for _ in range(2))
    )
    assert first.status_code == second.status_code == 202, first.text
    assert set(first.json()) == {"sms_notification", "fanout"}
    fanout = first.json()["fanout"]
    assert second.json()["fanout"]["id"] == fanout["id"]
    assert (fanout["kind"], fanout["sms_notification"], fanout["segment"]) == ("sms_notification", "club", "gold")
    r = await client.get(f"/api/v1/orgs/{org.id}/fanouts/{fanout['id']}", headers=gateway.admin)
    assert r.status_code == 200 and set(r.json()) == set(fanout), r.text  # the same object as GET answers
    progress = await _finished(client, org, fanout["id"])
    assert {k: progress[k] for k in ("total", "enqueued", "skipped", "done")} == {
        "total": 1500, "enqueued": 12, "skipped": 1488, "done": 12}  # fmt: skip
    results = await _fanout_results(client, org, progress["id"], 1000)
    assert len(results) == 1500 and [x["contact"] for x in results] == [f"m-{i:04d}" for i in range(1500)]
    assert {x["contact"] for x in results if "notification" in x} == texted
    assert len(twilio_api.created) == 12

    # The same key again: the same send, nothing sent twice; the key of another send → 409.
    again = await client.post(url(org, "/club/trigger"), json=trigger, headers=gateway.admin)
    assert again.status_code == 202 and again.json()["fanout"]["id"] == fanout["id"]
    await asyncio.sleep(1.0 * FACTOR)
    assert len(twilio_api.created) == 12
    r = await client.put(f"/api/v1/orgs/{org.id}/segments/other", json={"match": {"fields.club": "gold"}},
                         headers=gateway.admin)  # fmt: skip
    assert r.status_code == 201, r.text
    r = await client.post(url(org, "/club/trigger"), json=trigger | {"segment": "other"}, headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (409, "idempotency_key_reused")

    # Only the org's admins read a send's results; an unknown send is 404.
    path = f"/api/v1/orgs/{org.id}/fanouts/{fanout['id']}/results"
    assert (await client.get(path, headers=org.ctx.user_headers("u1"))).status_code == 403
    stranger = await provision_org(client, gateway, "fo-" + org.id)
    assert (await client.get(path, headers=stranger.user_headers("u1"))).status_code == 403
    r = await client.get(f"/api/v1/orgs/{org.id}/fanouts/fo_unknown/results", headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (404, "fanout_not_found")
    r = await client.get(path, params={"limit": "0"}, headers=gateway.admin)
    assert r.status_code == 400
