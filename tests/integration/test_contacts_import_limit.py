"""SPEC "Tenancy and auth": `contacts:import` takes up to 10,000 contacts, against the session gateway:
a full 10,000-row CSV (Japanese names, a realistic row) goes through in one request, one more row
is refused as a whole."""

from __future__ import annotations

import httpx

from tests.support.api import Gateway, provision_org


def _csv(rows: int) -> bytes:
    head = "\ufeffid,kind,name,company,email,phone,owner,marketing\r\n"
    body = "".join(
        f"imp-{i:05d},lead,山田 太郎{i},株式会社サンプル{i % 50},yamada{i}@client{i % 97}.example.jp,"
        f"+81902{i:07d},u1,{'true' if i % 2 else 'false'}\r\n"
        for i in range(rows)
    )
    return (head + body).encode()


async def test_ten_thousand_contacts_import_in_one_request(client: httpx.AsyncClient, gateway: Gateway) -> None:
    org = await provision_org(client, gateway, "imp-10k")
    path = f"/api/v1/orgs/{org.id}/contacts:import"
    headers = {**gateway.admin, "content-type": "text/csv"}
    r = await client.post(path, content=_csv(10_000), headers=headers, timeout=120)
    assert r.status_code == 200, r.text[:500]
    body = r.json()
    assert (body["created"], body["updated"], body["errors"]) == (10_000, 0, 0), body["results"][:2]
    r = await client.get(f"/api/v1/orgs/{org.id}/contacts/imp-09999", headers=gateway.admin)
    assert r.status_code == 200 and r.json()["company"] == "株式会社サンプル49"
    r = await client.post(path, content=_csv(10_001), headers=headers, timeout=120)
    assert (r.status_code, r.json()["error"]) == (400, "too_many_contacts")
