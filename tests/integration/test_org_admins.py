"""Org admins (SPEC "Tenancy and auth"): an admin user's token works on every management endpoint
of its own org but the operator's; members and other orgs get 403; the operator keeps everything.

The access test walks every ``/api/v1/orgs/...`` operation of the OpenAPI document, so a route
added later is covered without editing this file."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from websockets.exceptions import ConnectionClosed

from gateway.api.openapi import openapi_document
from gateway.app import create_app
from gateway.config import Config
from tests.support.api import Gateway, OrgCtx, provision_org
from tests.support.timing import FACTOR
from tests.support.ws import live_feed

# SPEC: "except the operator's: PUT/DELETE /api/v1/orgs/{org} itself and POST .../credits/purchase".
OPERATOR_ONLY = {
    ("PUT", "/api/v1/orgs/{org}"),
    ("DELETE", "/api/v1/orgs/{org}"),
    ("POST", "/api/v1/orgs/{org}/credits/purchase"),
}
# Valid ids for every path parameter: existing records where one is handy, else unknown ones
# (a 404 proves the request got past auth as well as a 200 does).
PATH_VALUES = {"user": "u2", "contact": "c-yamada", "token": "tk_none"}
DENIED = (401, 403)


def _org_operations() -> list[tuple[str, str]]:
    app: Any = create_app(Config(), "redis://127.0.0.1:1/0")  # no lifespan: nothing connects
    while not isinstance(app, Starlette):
        app = app.app
    doc = openapi_document(app.routes)
    return sorted(
        (method.upper(), path)
        for path, item in doc["paths"].items()
        if path.startswith("/api/v1/orgs/")
        for method in item
    )


def _url(path: str, org: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: org if m[1] == "org" else PATH_VALUES.get(m[1], "x-none"), path)


async def _make_admin(client: httpx.AsyncClient, gw: Gateway, org: str, user: str, role: str = "admin") -> None:
    r = await client.put(f"/api/v1/orgs/{org}/users/{user}", json={"role": role}, headers=gw.admin)
    assert r.status_code == 200 and r.json()["role"] == role, r.text


@pytest.mark.parametrize(("method", "path"), _org_operations())
async def test_every_org_operation_admits_exactly_the_right_tokens(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx, method: str, path: str
) -> None:
    """Other org's admin 403, member 403, org admin allowed but not operator-only, operator allowed."""
    other = await provision_org(client, gateway, org.id + "-other")
    await _make_admin(client, gateway, org.id, "u1")
    await _make_admin(client, gateway, other.id, "u1")
    url = _url(path, org.id)
    body: dict[str, Any] | None = {} if method in ("PUT", "POST") else None
    operator_only = (method, path) in OPERATOR_ONLY
    # Order matters: the destructive calls (DELETE user u2, DELETE org) come last.
    actors = [
        ("another org's admin", other.user_headers("u1"), False),
        ("member", org.user_headers("u2"), False),
        ("org admin", org.user_headers("u1"), not operator_only),
        ("operator", gateway.admin, True),
    ]
    for who, headers, allowed in actors:
        r = await client.request(method, url, headers=headers, json=body)
        if allowed:
            assert r.status_code not in DENIED, (who, method, url, r.status_code, r.text)
        else:
            assert r.status_code == 403, (who, method, url, r.status_code, r.text)
            assert r.json()["error"] == "forbidden" and r.json()["detail"], r.text
    await client.delete(f"/api/v1/orgs/{other.id}", headers=gateway.admin)


async def test_org_admin_reads_its_org_without_secrets_and_manages_users(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """An org admin GETs the org (secrets never echoed), upserts a user and issues them a token."""
    await _make_admin(client, gateway, org.id, "u1")
    admin = org.user_headers("u1")
    r = await client.get(f"/api/v1/orgs/{org.id}", headers=admin)
    assert r.status_code == 200 and r.json()["id"] == org.id
    assert org.auth_token not in r.text and org.webhook_secret[6:] not in r.text
    assert r.json()["twilio"]["auth_token_set"] is True
    r = await client.put(f"/api/v1/orgs/{org.id}/users/u3", json={"name": "新人"}, headers=admin)
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/orgs/{org.id}/users/u3/tokens", headers=admin)
    assert r.status_code == 201, r.text
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert me.status_code == 200 and me.json()["user"] == "u3"
    # An admin cannot promote the org past the operator's say: the org itself stays operator-only.
    r = await client.put(f"/api/v1/orgs/{org.id}", json={"plan": "enterprise"}, headers=admin)
    assert r.status_code == 403 and "operator" in r.json()["detail"]


async def test_demoted_or_deleted_admin_loses_access_at_once(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """Role back to member → the next request is 403; the user deleted → 401 (its tokens are gone)."""
    await _make_admin(client, gateway, org.id, "u1")
    calls = f"/api/v1/orgs/{org.id}/calls"
    assert (await client.get(calls, headers=org.user_headers("u1"))).status_code == 200
    await _make_admin(client, gateway, org.id, "u1", role="member")
    r = await client.get(calls, headers=org.user_headers("u1"))
    assert r.status_code == 403 and "member" in r.json()["detail"]
    await _make_admin(client, gateway, org.id, "u1")
    assert (await client.get(calls, headers=org.user_headers("u1"))).status_code == 200
    assert (await client.delete(f"/api/v1/orgs/{org.id}/users/u1", headers=gateway.admin)).status_code == 204
    assert (await client.get(calls, headers=org.user_headers("u1"))).status_code == 401


async def test_org_admin_revoking_a_members_token_closes_its_socket(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """DELETE …/users/u2/tokens/{id} with an org admin's token: u2 is 401 at once, its socket closes 4401."""
    await _make_admin(client, gateway, org.id, "u1")
    admin = org.user_headers("u1")
    tokens = await client.get(f"/api/v1/orgs/{org.id}/users/u2/tokens", headers=admin)
    assert tokens.status_code == 200, tokens.text
    [member_token] = tokens.json()["tokens"]
    feed = await live_feed(gateway, org.tokens["u2"])
    kept = await live_feed(gateway, org.tokens["u1"])
    try:
        started = time.monotonic()
        r = await client.delete(f"/api/v1/orgs/{org.id}/users/u2/tokens/{member_token['id']}", headers=admin)
        assert r.status_code == 204, r.text
        assert (await client.get("/api/v1/me", headers=org.user_headers("u2"))).status_code == 401
        with pytest.raises(ConnectionClosed):
            while True:
                await feed.recv(timeout=2 * FACTOR)
        assert time.monotonic() - started < 1.0 * FACTOR
        assert feed.ws.close_code == 4401
        await kept.send({"type": "ping"})
        assert (await kept.until(lambda f: f["type"] == "pong"))["type"] == "pong"
    finally:
        await asyncio.gather(feed.ws.close(), kept.ws.close())
