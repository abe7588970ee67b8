"""User tokens: ids, listing, revocation — a revoked token stops working at once on REST, and its
open WebSockets are closed with 4401 within a second on every gateway node."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.api import Gateway, OrgCtx, post_event, provision_org
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR
from tests.support.ws import Feed, live_feed

REVOKE_WITHIN = 1.0  # seconds (SPEC), scaled by FACTOR


@pytest.fixture
async def feeds() -> AsyncIterator[list[Feed]]:
    """Sockets a test opened; closed at its end even when it fails."""
    opened: list[Feed] = []
    yield opened
    for feed in opened:
        await feed.ws.close()


async def _live(opened: list[Feed], gw: Gateway, token: str) -> Feed:
    feed = await live_feed(gw, token)
    opened.append(feed)
    return feed


async def _closed_with(feed: Feed, started: float) -> tuple[int | None, list[dict[str, Any]]]:
    """Read until the server closes; the close code and the frames seen meanwhile (after a deadline)."""
    try:
        while True:
            await feed.recv(timeout=REVOKE_WITHIN + 1)
    except ConnectionClosed:
        closed_after = time.monotonic() - started
    except TimeoutError:
        pytest.fail(f"socket still open {time.monotonic() - started:.1f}s after the revocation")
    assert closed_after < REVOKE_WITHIN * FACTOR, f"closed {closed_after:.2f}s after the revocation"
    return feed.ws.close_code, feed.frames


async def _still_open(feed: Feed) -> None:
    await feed.send({"type": "ping"})
    assert (await feed.until(lambda f: f["type"] == "pong"))["type"] == "pong"


async def _tokens(client: httpx.AsyncClient, gw: Gateway, org: str, user: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/orgs/{org}/users/{user}/tokens", headers=gw.admin)
    assert r.status_code == 200, r.text
    tokens: list[dict[str, Any]] = r.json()["tokens"]
    return tokens


async def _issue(client: httpx.AsyncClient, gw: Gateway, org: str, user: str) -> dict[str, Any]:
    r = await client.post(f"/api/v1/orgs/{org}/users/{user}/tokens", headers=gw.admin)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _me(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code


async def test_issue_list_and_revoke_one_token(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx, feeds: list[Feed]
) -> None:
    """POST answers id+token; GET lists ids and times, never secrets; DELETE one id: 401 at once, its socket 4401."""
    second = await _issue(client, gateway, org.id, "u1")
    assert set(second) >= {"id", "token"} and second["token"].startswith(f"sgu.{org.id}.")
    assert second["org"] == org.id and second["user"] == "u1"  # the fields answered before ids existed
    listed = await _tokens(client, gateway, org.id, "u1")
    assert len(listed) == 2 and second["id"] in {t["id"] for t in listed}
    mine = next(t for t in listed if t["id"] == second["id"])
    assert mine["created_at"].endswith("Z") and mine["last_used_at"] is None
    raw = (await client.get(f"/api/v1/orgs/{org.id}/users/u1/tokens", headers=gateway.admin)).text
    assert org.tokens["u1"].split(".")[2] not in raw and second["token"].split(".")[2] not in raw
    assert await _me(client, second["token"]) == 200
    used = next(t for t in await _tokens(client, gateway, org.id, "u1") if t["id"] == second["id"])
    assert used["last_used_at"] is not None

    revoked = await _live(feeds, gateway, second["token"])
    kept = await _live(feeds, gateway, org.tokens["u1"])
    r = await client.delete(f"/api/v1/orgs/{org.id}/users/u1/tokens/tk_nosuchtoken", headers=gateway.admin)
    assert r.status_code == 404 and r.json()["error"] == "token_not_found"
    # Another user's token id is not this user's.
    other_id = (await _tokens(client, gateway, org.id, "u2"))[0]["id"]
    r = await client.delete(f"/api/v1/orgs/{org.id}/users/u1/tokens/{other_id}", headers=gateway.admin)
    assert r.status_code == 404
    started = time.monotonic()
    closing = asyncio.create_task(_closed_with(revoked, started))
    r = await client.delete(f"/api/v1/orgs/{org.id}/users/u1/tokens/{second['id']}", headers=gateway.admin)
    assert r.status_code == 204
    assert await _me(client, second["token"]) == 401
    code, _ = await closing
    assert code == 4401
    await _still_open(kept)
    assert await _me(client, org.tokens["u1"]) == 200
    assert second["id"] not in {t["id"] for t in await _tokens(client, gateway, org.id, "u1")}
    r = await client.delete(f"/api/v1/orgs/{org.id}/users/u1/tokens/{second['id']}", headers=gateway.admin)
    assert r.status_code == 404


async def test_token_routes_refuse_unknown_users_and_non_admins(
    client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx
) -> None:
    """The token routes answer 404 user_not_found for an unknown user and refuse a user token."""
    for method, path in (("GET", "tokens"), ("DELETE", "tokens"), ("DELETE", "tokens/tk_x"), ("POST", "tokens")):
        r = await client.request(method, f"/api/v1/orgs/{org.id}/users/nobody/{path}", headers=gateway.admin)
        assert r.status_code == 404 and r.json()["error"] == "user_not_found", (method, path, r.text)
        r = await client.request(method, f"/api/v1/orgs/{org.id}/users/u1/{path}", headers=org.user_headers())
        assert r.status_code in (401, 403), (method, path, r.text)


async def test_revoking_all_tokens_closes_sockets_on_every_node(
    redis_server: RedisServer, procs: Processes, feeds: list[Feed]
) -> None:
    """DELETE …/tokens on node A: every token of the user is 401 and its sockets on A and B close 4401."""
    node_a, _ = procs.serve(redis_server.url)
    node_b, _ = procs.serve(redis_server.url)
    async with httpx.AsyncClient(base_url=node_a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, node_a, "revoke-all")
        extra = (await _issue(client, node_a, org.id, "u1"))["token"]
        on_a = await _live(feeds, node_a, org.tokens["u1"])
        on_b = [await _live(feeds, node_b, org.tokens["u1"]), await _live(feeds, node_b, extra)]
        bystander = await _live(feeds, node_b, org.tokens["u2"])
        started = time.monotonic()
        closing = asyncio.gather(*(_closed_with(f, started) for f in (on_a, *on_b)))
        r = await client.delete(f"/api/v1/orgs/{org.id}/users/u1/tokens", headers=node_a.admin)
        assert r.status_code == 204
        assert await _me(client, org.tokens["u1"]) == 401 and await _me(client, extra) == 401
        codes = await closing
        assert [code for code, _ in codes] == [4401, 4401, 4401]
        await _still_open(bystander)
        assert await _tokens(client, node_a, org.id, "u1") == []
        assert len(await _tokens(client, node_a, org.id, "u2")) == 1
        # Revoking nothing is fine; the user can get a new token.
        assert (await client.delete(f"/api/v1/orgs/{org.id}/users/u1/tokens", headers=node_a.admin)).status_code == 204
        fresh = (await _issue(client, node_a, org.id, "u1"))["token"]
        assert await _me(client, fresh) == 200


async def test_deleted_user_socket_is_closed_before_a_recreated_user_gets_signals(
    redis_server: RedisServer, procs: Processes, feeds: list[Feed]
) -> None:
    """Deleting u2 closes its socket on node B with 4401; re-created u2's signals never reach that socket."""
    node_a, _ = procs.serve(redis_server.url, with_router=True)
    node_b, _ = procs.serve(redis_server.url)
    async with httpx.AsyncClient(base_url=node_a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, node_a, "recreated-user")
        old = await _live(feeds, node_b, org.tokens["u2"])
        started = time.monotonic()
        old_closed = asyncio.create_task(_closed_with(old, started))
        assert (await client.delete(f"/api/v1/orgs/{org.id}/users/u2", headers=node_a.admin)).status_code == 204
        r = await client.put(f"/api/v1/orgs/{org.id}/users/u2", json={"name": "新しい 人"}, headers=node_a.admin)
        assert r.status_code == 201
        new_token = (await _issue(client, node_a, org.id, "u2"))["token"]
        new = await _live(feeds, node_b, new_token)
        # c-smith is owned by u2: this signal belongs to the new u2.
        r = await post_event(client, org, {"type": "desk.ticket", "contact": {"id": "c-smith"}, "title": "新しい担当"})
        assert r.status_code == 202
        assert (await new.signal("desk.ticket"))["title"] == "新しい担当"
        code, frames = await old_closed
        assert code == 4401
        assert [f for f in frames if f["type"] == "signal"] == []
        assert await _me(client, org.tokens["u2"]) == 401


async def test_deleting_the_org_closes_its_sockets_on_every_node(
    redis_server: RedisServer, procs: Processes, feeds: list[Feed]
) -> None:
    """DELETE /api/v1/orgs/{org} removes every token: the org's open sockets close with 4401 too."""
    node_a, _ = procs.serve(redis_server.url, with_router=True)
    node_b, _ = procs.serve(redis_server.url)
    async with httpx.AsyncClient(base_url=node_a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, node_a, "deleted-org")
        on_a = await _live(feeds, node_a, org.tokens["u1"])
        on_b = await _live(feeds, node_b, org.tokens["u2"])
        started = time.monotonic()
        closing = [asyncio.create_task(_closed_with(f, started)) for f in (on_a, on_b)]
        assert (await client.delete(f"/api/v1/orgs/{org.id}", headers=node_a.admin)).status_code == 204
        for task in closing:
            code, _ = await task
            assert code == 4401
        assert await _me(client, org.tokens["u1"]) == 401
