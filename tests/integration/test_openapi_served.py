"""The served /openapi.json, 405s with `Allow`, and the paged user list, on a real gateway."""

from __future__ import annotations

import httpx
import pytest
from openapi_spec_validator import validate

from tests.support.api import Gateway, OrgCtx


async def test_served_document_is_valid_and_names_every_management_path(client: httpx.AsyncClient) -> None:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    validate(doc)
    assert set(doc["paths"]["/api/v1/orgs/{org}"]) == {"get", "put", "delete"}
    assert "get" in doc["paths"]["/api/v1/orgs/{org}/users"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/api/v1/orgs/acme", "DELETE, GET, HEAD, PUT"),  # three routes share the path
        ("PATCH", "/api/v1/me/settings", "GET, HEAD, PUT"),
        ("DELETE", "/api/v1/orgs/acme/users", "GET, HEAD"),
        ("GET", "/webhooks/events/acme", "POST"),
        ("PUT", "/web/app.js", "GET, HEAD"),  # the static files mount
    ],
)
async def test_405_names_every_allowed_method_in_json(
    client: httpx.AsyncClient, gateway: Gateway, method: str, path: str, allow: str
) -> None:
    r = await client.request(method, path, headers=gateway.admin)
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"] == "method_not_allowed"


async def test_users_are_listed_in_pages_without_secrets(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    base = f"/api/v1/orgs/{org.id}/users"
    for uid in ("u3", "u4", "u5"):
        r = await client.put(f"{base}/{uid}", json={"name": uid, "email": f"{uid}@example.com"}, headers=gateway.admin)
        assert r.status_code == 201
    seen: list[str] = []
    after: str | None = None
    while True:
        r = await client.get(base, params={"limit": 2, **({"after": after} if after else {})}, headers=gateway.admin)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["users"]) <= 2
        seen += [u["id"] for u in page["users"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == ["u1", "u2", "u3", "u4", "u5"]
    text = (await client.get(base, headers=gateway.admin)).text
    assert not any(token in text for token in org.tokens.values())
    assert (await client.get(base, params={"limit": 0}, headers=gateway.admin)).status_code == 400
    assert (await client.get(base, headers=org.user_headers())).status_code == 403


async def test_a_send_at_long_past_means_now_not_a_server_error(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """Found by schemathesis: arq gave a send_at over a day old a negative expiry (500)."""
    body = {"channel": "sms", "template": "t1", "to": {"contact": "c-yamada"}, "send_at": "2020-03-02T08:40:18Z"}
    r = await client.post(f"/api/v1/orgs/{org.id}/notifications", json=body, headers=gateway.admin)
    assert r.status_code == 202, r.text
