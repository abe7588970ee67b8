"""Contacts in bulk (import, paged listing with q) and segment sends, against real processes (issue 14)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from gateway.devtools.twilio_api import TwilioApi
from gateway.domain.notifications import notification_id
from gateway.store import keys
from gateway.store.jobs import SEGMENT_FANOUT, JobQueue
from tests.support.api import Gateway, OrgCtx, provision_org
from tests.support.redis import RedisServer
from tests.support.sending import SmtpServer, email_template, provision_sending_org, settled
from tests.support.timing import wait_for

CSV = (
    "\ufeffid,kind,name,company,email,phone,owner,marketing\r\n"
    "c-kimura,lead,木村 拓也,大阪商事,kimura@osaka.example.jp,06-1234-5678;090-2222-3333,u1,true\r\n"
    "c-suzuki,,鈴木 改名,,,12,,\r\n"  # a bad phone: the whole row changes nothing
    "c-smith,,,Acme Inc,,,u2,yes\r\n"
)


async def _import(client: httpx.AsyncClient, org: OrgCtx, content: bytes, media: str) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/orgs/{org.id}/contacts:import",
        content=content,
        headers={**org.gateway.admin, "content-type": media},
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def _all_pages(client: httpx.AsyncClient, org: OrgCtx, path: str, limit: int, **params: str) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": str(limit), **params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"/api/v1/orgs/{org.id}/{path}", params=query, headers=org.gateway.admin)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["contacts"]) <= limit
        ids += [c["id"] for c in page["contacts"]]
        cursor = page["cursor"]
        if cursor is None:
            return ids


async def test_csv_import_with_bom_japanese_and_a_bad_row_then_paged_listing(
    client: httpx.AsyncClient, gateway: Gateway
) -> None:
    org = await provision_org(client, gateway, "imp-csv")
    suzuki_before = (await client.get(f"/api/v1/orgs/{org.id}/contacts/c-suzuki", headers=gateway.admin)).json()
    out = await _import(client, org, CSV.encode(), "text/csv; charset=utf-8")
    assert (out["created"], out["updated"], out["errors"]) == (1, 1, 1)
    rows = {r["row"]: r for r in out["results"]}
    assert rows[1] == {"row": 1, "id": "c-kimura", "status": "created"}
    assert rows[2]["status"] == "error" and rows[2]["reason"] == "invalid_phone" and rows[2]["id"] == "c-suzuki"
    assert rows[3] == {"row": 3, "id": "c-smith", "status": "updated"}
    kimura = (await client.get(f"/api/v1/orgs/{org.id}/contacts/c-kimura", headers=gateway.admin)).json()
    assert kimura["name"] == "木村 拓也" and kimura["company"] == "大阪商事" and kimura["marketing"] is True
    assert kimura["phones"] == [
        {"number": "+81612345678", "type": "other"},
        {"number": "+819022223333", "type": "mobile"},
    ]
    after = (await client.get(f"/api/v1/orgs/{org.id}/contacts/c-suzuki", headers=gateway.admin)).json()
    assert after == suzuki_before  # the bad row changed nothing
    smith = (await client.get(f"/api/v1/orgs/{org.id}/contacts/c-smith", headers=gateway.admin)).json()
    assert (smith["company"], smith["owner"], smith["marketing"], smith["name"]) == (
        "Acme Inc",
        "u2",
        True,
        "Jane Smith",
    )

    # A typed phone finds its contact: the index holds numbers, not the stored objects.
    r = await client.get(f"/api/v1/orgs/{org.id}/contacts", params={"q": "+81902222"}, headers=gateway.admin)
    assert [c["id"] for c in r.json()["contacts"]] == ["c-kimura"]

    out = await _import(
        client,
        org,
        orjson.dumps(
            {"contacts": [{"id": f"j-{i:02d}", "name": f"顧客{i}", "fields": {"region": "関西"}} for i in range(7)]}
        ),
        "application/json",
    )
    assert (out["created"], out["errors"]) == (7, 0)
    everyone = await _all_pages(client, org, "contacts", 3)
    assert len(everyone) == len(set(everyone)) == 11 and everyone == sorted(everyone)
    assert await _all_pages(client, org, "contacts", 2, q="顧客") == [f"j-{i:02d}" for i in range(7)]
    assert await _all_pages(client, org, "contacts", 2, q="OSAKA") == ["c-kimura"]  # email, case-insensitive
    assert await _all_pages(client, org, "contacts", 2, q="acme") == ["c-smith"]  # company and email
    r = await client.get(f"/api/v1/orgs/{org.id}/contacts", params={"cursor": ""}, headers=gateway.admin)
    assert r.status_code == 400


async def test_import_route_and_refusals(client: httpx.AsyncClient, gateway: Gateway) -> None:
    """``contacts:import`` is its own route (not a contact id), and a bad file is 400 as a whole."""
    org = await provision_org(client, gateway, "imp-bad")
    path = f"/api/v1/orgs/{org.id}/contacts:import"
    r = await client.get(path, headers=gateway.admin)
    assert r.status_code == 405
    r = await client.post(path, content=b"name\nx\n", headers={**gateway.admin, "content-type": "text/csv"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_csv"
    r = await client.post(path, content=b"<x/>", headers={**gateway.admin, "content-type": "application/xml"})
    assert r.status_code == 400
    r = await client.post(path, json={"contacts": [{"id": "x1", "owner": "nobody"}]}, headers=gateway.admin)
    assert r.json()["results"][0]["reason"] == "unknown_owner"
    assert (await client.get(f"/api/v1/orgs/{org.id}/contacts/x1", headers=gateway.admin)).status_code == 404


@pytest.mark.usefixtures("send_workers")
async def test_segment_mail_reaches_its_members_once_even_when_repeated_and_retried(
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    org = await provision_sending_org(client, gateway, twilio_api)
    admin = gateway.admin
    tid = await email_template(client, org, "関西のお客様へ", "<p>{{ name }}様</p>")
    members = [f"k-{i:02d}" for i in range(6)]
    contacts = [
        {"id": cid, "name": f"関西{i}", "emails": [f"{cid}@kansai.example.jp"], "marketing": True,
         "fields": {"region": "関西"}}
        for i, cid in enumerate(members)
    ] + [
        {"id": "k-optout", "name": "配信停止", "emails": ["optout@kansai.example.jp"], "marketing": False,
         "fields": {"region": "関西"}},
        {"id": "t-00", "name": "関東", "emails": ["t@kanto.example.jp"], "marketing": True,
         "fields": {"region": "関東"}},
    ]  # fmt: skip
    r = await client.post(f"/api/v1/orgs/{org.id}/contacts:import", json={"contacts": contacts}, headers=admin)
    assert r.json()["created"] == 8, r.text
    r = await client.put(f"/api/v1/orgs/{org.id}/segments/kansai", json={"name": "関西", "match": {"region": "x"}},
                         headers=admin)  # fmt: skip
    assert r.status_code == 400 and "'region'" in r.json()["detail"]
    r = await client.put(
        f"/api/v1/orgs/{org.id}/segments/kansai",
        json={"name": "関西", "match": {"fields.region": "関西"}},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    listed = await _all_pages(client, org.ctx, "segments/kansai/contacts", 2)
    assert listed == [*members, "k-optout"]

    body = {"channel": "email", "template": tid, "to": {"segment": "kansai"}, "kind": "mass",
            "data": {"name": "お客"}, "idempotency_key": "campaign-1"}  # fmt: skip
    bad = await client.post(f"/api/v1/orgs/{org.id}/notifications", json=body | {"kind": "individual"}, headers=admin)
    assert bad.status_code == 400
    first, second = await asyncio.gather(
        *(client.post(f"/api/v1/orgs/{org.id}/notifications", json=body, headers=admin) for _ in range(2))
    )
    assert first.status_code == second.status_code == 202, first.text
    fanout = first.json()["id"]
    assert second.json()["id"] == fanout and first.json()["segment"] == "kansai"

    async def finished() -> dict[str, Any] | None:
        r = await client.get(f"/api/v1/orgs/{org.id}/fanouts/{fanout}", headers=admin)
        rec: dict[str, Any] = r.json()
        return rec if rec["status"] == "done" and rec["done"] == rec["total"] else None

    progress = await wait_for(finished, timeout=30, interval=0.2)
    assert (progress["total"], progress["enqueued"], progress["done"]) == (7, 7, 7)
    sent_to = sorted(str(env.rcpt_tos[0]) for env, _ in smtp_server.recorder.messages)
    assert sent_to == sorted(f"{cid}@kansai.example.jp" for cid in members)
    usage = (await client.get(f"/api/v1/orgs/{org.id}/usage", headers=admin)).json()["email"]
    assert usage["mass"]["used"] == 6  # the opted-out member counted nothing

    # A repeat of the request and a re-run of the fan-out from the start (a worker that died
    # before recording its step) make no second mail.
    again = await client.post(f"/api/v1/orgs/{org.id}/notifications", json=body, headers=admin)
    assert again.json()["id"] == fanout
    redis = aioredis.from_url(redis_server.url, decode_responses=True)
    await redis.hset(keys.fanout(org.id, fanout), mapping={"cursor": "null", "step": "0", "status": '"running"',
                                                          "total": "0", "enqueued": "0"})  # fmt: skip
    await redis.aclose()
    jobs = JobQueue(redis_server.url)
    await jobs.enqueue(SEGMENT_FANOUT, "retried-step-0", None, org=org.id, batch=fanout, step=0)
    await jobs.aclose()
    progress = await wait_for(finished, timeout=30, interval=0.2)
    assert progress["total"] == 7
    await asyncio.sleep(1.0)  # time for any second mail to arrive
    assert len(smtp_server.recorder.messages) == 6
    members_made = await _member_notifications(client, org.ctx, fanout)
    assert members_made == sorted(notification_id(org.id, f"campaign-1:{cid}") for cid in [*members, "k-optout"])
    refused = await settled(client, org, notification_id(org.id, "campaign-1:k-optout"))
    assert (refused["status"], refused["reason"]) == ("rejected", "not_marketing")


async def _member_notifications(client: httpx.AsyncClient, org: OrgCtx, fanout: str) -> list[str]:
    """Every member's notification, from the send's results (read in pages of 3)."""
    nids: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        r = await client.get(
            f"/api/v1/orgs/{org.id}/fanouts/{fanout}/results", params=params, headers=org.gateway.admin
        )
        assert r.status_code == 200, r.text
        nids += [x["notification"] for x in r.json()["results"]]
        cursor = r.json()["cursor"]
        if cursor is None:
            return sorted(nids)
