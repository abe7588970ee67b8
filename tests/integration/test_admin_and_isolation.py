"""Management API: auth, idempotent upserts, secrets never echoed, validation; org isolation."""

from __future__ import annotations

import json
import uuid

import httpx

from tests.support.api import Gateway, OrgCtx, post_event, provision_org, signals_of, survey
from tests.support.timing import wait_for
from tests.support.ws import live_feed, open_feed


async def test_admin_api_requires_the_admin_token(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """No token → 401, wrong token → 401, a user token → 403; all JSON errors."""
    path = f"/api/v1/orgs/{org.id}"
    for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 401), (org.user_headers(), 403)):
        for method in ("GET", "PUT", "DELETE"):
            r = await client.request(method, path, headers=headers, json={"name": "x"})
            assert r.status_code == status, (method, headers, r.text)
            assert set(r.json()) == {"error", "detail"}
    r = await client.get(f"/api/v1/orgs/{org.id}/calls", headers=org.user_headers())
    assert r.status_code == 403


async def test_operator_only_endpoints_answer_401_to_an_unknown_or_revoked_user_token(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """A wrong token is 401 on every endpoint, the operator-only ones included (a valid user token: 403)."""
    r = await client.post(f"/api/v1/orgs/{org.id}/users/u1/tokens", headers=gateway.admin)
    assert r.status_code == 201
    issued = r.json()
    r = await client.delete(f"/api/v1/orgs/{org.id}/users/u1/tokens/{issued['id']}", headers=gateway.admin)
    assert r.status_code == 204
    revoked = {"Authorization": f"Bearer {issued['token']}"}
    forged = {"Authorization": f"Bearer sgu.{org.id}.forged"}
    for method in ("PUT", "DELETE"):
        for headers in (revoked, forged):
            r = await client.request(method, f"/api/v1/orgs/{org.id}", headers=headers, json={"name": "x"})
            assert (r.status_code, r.json()["error"]) == (401, "unauthorized"), (method, headers, r.text)
        r = await client.request(method, f"/api/v1/orgs/{org.id}", headers=org.user_headers(), json={"name": "x"})
        assert (r.status_code, r.json()["error"]) == (403, "forbidden"), (method, r.text)
    r = await client.post(f"/api/v1/orgs/{org.id}/credits/purchase", headers=revoked, json={"amount": 100})
    assert r.status_code == 401, r.text
    assert (await client.get(f"/api/v1/orgs/{org.id}", headers=gateway.admin)).json()["name"] != "x"


async def test_upsert_is_idempotent_and_hides_secrets(client: httpx.AsyncClient, gateway: Gateway) -> None:
    """PUT twice gives 201 then 200 with the same record; auth token and webhook secret are never echoed."""
    org_id = "idem-" + uuid.uuid4().hex[:8]
    body = {
        "name": "株式会社サンプル",
        "plan": "professional",
        "timezone": "Asia/Tokyo",
        "country": "JP",
        "active_users": 7,
        "twilio": {"account_sid": "AC" + "a" * 32, "auth_token": "supersecret-token-value"},
        "webhook_secret": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
    }
    first = await client.put(f"/api/v1/orgs/{org_id}", json=body, headers=gateway.admin)
    second = await client.put(f"/api/v1/orgs/{org_id}", json=body, headers=gateway.admin)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    for text in (first.text, second.text, (await client.get(f"/api/v1/orgs/{org_id}", headers=gateway.admin)).text):
        assert "supersecret-token-value" not in text and "c2VjcmV0" not in text
    assert second.json()["twilio"]["auth_token_set"] is True and second.json()["webhook_secret_set"] is True
    # A replay without secrets keeps them (merge upsert).
    r = await client.put(f"/api/v1/orgs/{org_id}", json={"plan": "enterprise"}, headers=gateway.admin)
    assert r.json()["plan"] == "enterprise" and r.json()["twilio"]["auth_token_set"] is True
    assert (await client.delete(f"/api/v1/orgs/{org_id}", headers=gateway.admin)).status_code == 204
    assert (await client.get(f"/api/v1/orgs/{org_id}", headers=gateway.admin)).status_code == 404


async def test_bad_input_is_400_json(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """Bad JSON, bad phone, bad email, unknown owner, bad ids → 400 with a code; nothing changes."""
    admin = gateway.admin
    base = f"/api/v1/orgs/{org.id}"
    cases = [
        (await client.put(base + "/contacts/c-x", content=b"{oops", headers=admin), "invalid_json"),
        (await client.put(base + "/contacts/c-x", json={"phones": ["12"]}, headers=admin), "invalid_phone"),
        (await client.put(base + "/users/u9", json={"phone": "+81 0000"}, headers=admin), "invalid_phone"),
        (await client.put(base + "/contacts/c-x", json={"emails": ["not-an-email"]}, headers=admin), "invalid_email"),
        (await client.put(base + "/contacts/c-x", json={"owner": "ghost"}, headers=admin), "unknown_owner"),
        (await client.put(base + "/contacts/bad%20id", json={}, headers=admin), "invalid_id"),
        (await client.put("/api/v1/orgs/Bad_Org", json={}, headers=admin), "invalid_id"),
        (await client.put(base, json={"timezone": "Mars/Olympus"}, headers=admin), "invalid_field"),
        (await client.put(base, json={"colour": "red"}, headers=admin), "unknown_field"),
    ]
    for r, code in cases:
        assert r.status_code == 400, r.text
        assert r.json()["error"] == code, r.text
    assert (await client.get(base + "/contacts/c-x", headers=admin)).status_code == 404


async def test_contact_indexes_follow_updates(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """Changing a contact's email moves the lookup: the old address no longer finds it."""
    r = await client.put(
        f"/api/v1/orgs/{org.id}/contacts/c-yamada", json={"emails": ["new@client.example.jp"]}, headers=gateway.admin
    )
    assert r.status_code == 200 and r.json()["emails"] == ["new@client.example.jp"]
    feed = await live_feed(gateway, org.tokens["u1"])
    await post_event(client, org, survey({"email": "yamada@client.example.jp"}, "old"))
    await post_event(client, org, survey({"email": "NEW@client.example.jp"}, "new"))
    assert (await feed.signal("survey.answered"))["title"] == "new"
    assert [f["signal"]["title"] for f in feed.frames if f["type"] == "signal"] == ["new"]
    await feed.ws.close()


async def test_orgs_are_isolated(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """Another org's user sees nothing of this org on REST or WebSocket."""
    other = await provision_org(client, gateway, "iso-" + uuid.uuid4().hex[:8])
    spy = await live_feed(gateway, other.tokens["u1"])
    await post_event(client, org, survey({"id": "c-yamada"}, "secret deal"))
    await wait_for(lambda: _titles(client, org))
    # The other org's feed and REST view stay empty; its token cannot read this org's data.
    assert (await signals_of(client, other))["signals"] == []
    await post_event(client, other, survey({"id": "c-yamada"}, "theirs"))
    assert (await spy.signal("survey.answered"))["title"] == "theirs"
    assert all(f["signal"]["org"] == other.id for f in spy.frames if f["type"] == "signal")
    # An org's webhook cannot be signed with another org's secret.
    body = json.dumps(survey({"id": "c-yamada"})).encode()
    from tests.support.api import signed_event_headers

    r = await client.post(
        f"/webhooks/events/{org.id}", content=body, headers=signed_event_headers(other.webhook_secret, body)
    )
    assert r.status_code == 403
    # Resuming with another org's signal id as `after` reveals nothing either.
    theirs = (await signals_of(client, org))["signals"][0]["id"]
    resumed, welcome = await open_feed(gateway, other.tokens["u1"], after=theirs)
    assert welcome["org"] == other.id
    await spy.ws.close()
    await resumed.ws.close()


async def _titles(client: httpx.AsyncClient, org: OrgCtx) -> list[str]:
    return [s["title"] for s in (await signals_of(client, org))["signals"]]


async def test_deleted_user_token_is_revoked(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """Deleting a user revokes their tokens for REST."""
    assert (await client.get("/api/v1/me", headers=org.user_headers("u2"))).json()["user"] == "u2"
    assert (await client.delete(f"/api/v1/orgs/{org.id}/users/u2", headers=gateway.admin)).status_code == 204
    assert (await client.get("/api/v1/me", headers=org.user_headers("u2"))).status_code == 401


async def test_health_metrics_openapi(client: httpx.AsyncClient) -> None:
    """/healthz ok, /metrics Prometheus text, /openapi.json describes the contract's paths."""
    assert (await client.get("/healthz")).json() == {
        "status": "ok",
        "parts": {"redis": "ok", "hub": "ok", "http": "ok"},
    }
    metrics = await client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "signalgate_ws_connections" in metrics.text
    doc = (await client.get("/openapi.json")).json()
    for path in ("/api/v1/orgs/{org}", "/api/v1/me/signals", "/webhooks/events/{org}", "/t/c/{token}"):
        assert path in doc["paths"]
    r = await client.get("/no/such/path")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


async def test_contact_activity_endpoint_is_served(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """GET …/contacts/{id}/activity answers for a known contact, 404 for an unknown one, admin only."""
    path = f"/api/v1/orgs/{org.id}/contacts/c-yamada/activity"
    r = await client.get(path, headers=gateway.admin)
    assert r.status_code == 200, r.text
    assert (await client.get(path, headers=org.user_headers())).status_code == 403
    missing = await client.get(f"/api/v1/orgs/{org.id}/contacts/nobody/activity", headers=gateway.admin)
    assert missing.status_code == 404
