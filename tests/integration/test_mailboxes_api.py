"""GET /api/v1/orgs/{org}/mailboxes against a real gateway (`signalgate up` with [[imap]] mailboxes)
and a real Dovecot: each mailbox's listener state, last error and last UID; never a password;
only the org's own mailboxes; org admins yes, members no."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import Gateway, OrgCtx, provision_org
from tests.support.imap import Dovecot, imap_env, mail
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR, wait_for


@pytest.fixture
def tls_dovecot() -> Iterator[Dovecot]:
    server = Dovecot(tls=True)
    yield server
    server.close()


async def mailboxes(client: httpx.AsyncClient, org: str, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    r = await client.get(f"/api/v1/orgs/{org}/mailboxes", headers=headers)
    assert r.status_code == 200, r.text
    return {box["username"]: box for box in r.json()["mailboxes"]}


async def test_mailboxes_show_listener_state_last_error_and_uid_per_org(
    tls_dovecot: Dovecot, redis_server: RedisServer, procs: Processes
) -> None:
    """A working mailbox is ``idle`` with its last UID (moving as mail is processed); a wrong password
    is ``auth_failed`` and an untrusted certificate ``tls_failed``, each with its error; passwords
    never appear; another org's mailbox is listed only under that org; a member's token gets 403."""
    server = tls_dovecot
    good, wrong, untrusted, other = (server.add_user() for _ in range(4))
    org_a, org_b = "mb-" + uuid.uuid4().hex[:10], "mb-" + uuid.uuid4().hex[:10]
    server.deliver(good, mail("届いていたメール"))  # already there at the first start: the baseline UID
    env = {
        **imap_env(server, good, org_a, "u1", 0),
        **imap_env(server, wrong, org_a, "u2", 1, password="not-the-password"),
        **imap_env(server, untrusted, org_a, "u1", 2, tls="implicit", port=str(server.tls_port)),
        **imap_env(server, other, org_b, "u1", 3),
    }
    gw, _ = procs.serve(redis_server.url, with_router=True, **env)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        ctx_a = await provision_org(client, gw, org_a)
        ctx_b = await provision_org(client, gw, org_b)

        async def settled() -> dict[str, dict[str, Any]] | None:
            boxes = await mailboxes(client, org_a, gw.admin)
            states = {name: box["state"] for name, box in boxes.items()}
            want = {good.address: "idle", wrong.address: "auth_failed", untrusted.address: "tls_failed"}
            return boxes if states == want else None

        boxes = await wait_for(settled, timeout=20, interval=0.2)
        assert boxes[good.address]["last_uid"] == 1
        assert boxes[good.address]["last_error"] is None
        assert boxes[good.address]["user"] == "u1" and boxes[good.address]["mode"] == "inbox"
        assert boxes[good.address]["folder"] == "INBOX" and boxes[good.address]["source"] == "config"
        assert boxes[good.address]["state_since"] is not None
        assert "LOGIN refused" in boxes[wrong.address]["last_error"]
        assert boxes[wrong.address]["last_error_at"] is not None and boxes[wrong.address]["last_uid"] is None
        assert "TLS" in boxes[untrusted.address]["last_error"]
        assert boxes[untrusted.address]["tls"] == "implicit"
        r = await client.get(f"/api/v1/orgs/{org_a}/mailboxes", headers=gw.admin)
        for box in (good, wrong, untrusted, other):
            assert box.password not in r.text
        assert "not-the-password" not in r.text and '"password"' not in r.text

        # New mail is processed and the last UID follows.
        await server.adeliver(good, mail("新しいメール"))

        async def moved() -> bool:
            return bool((await mailboxes(client, org_a, gw.admin))[good.address]["last_uid"] == 2)

        await wait_for(moved, timeout=10, interval=0.2)

        # Each org sees its own mailboxes only.
        assert other.address not in boxes
        await wait_for(lambda: _is_idle(client, org_b, gw, other.address), timeout=20, interval=0.2)
        assert set(await mailboxes(client, org_b, gw.admin)) == {other.address}

        # Members cannot read them; nor can a user of another org.
        member = await client.get(f"/api/v1/orgs/{org_a}/mailboxes", headers=ctx_a.user_headers("u2"))
        assert member.status_code == 403, member.text
        assert member.json()["error"]
        foreign = await client.get(f"/api/v1/orgs/{org_a}/mailboxes", headers=ctx_b.user_headers("u1"))
        assert foreign.status_code == 403, foreign.text
        assert (await client.get(f"/api/v1/orgs/{org_a}/mailboxes")).status_code == 401
        assert (await client.get("/api/v1/orgs/no-such-org/mailboxes", headers=gw.admin)).status_code == 404

        # A config mailbox is changed in the config, not through PATCH (its password fixed there).
        wrong_id = boxes[wrong.address]["id"]
        r = await client.patch(f"/api/v1/orgs/{org_a}/mailboxes/{wrong_id}", json={"password": "x"}, headers=gw.admin)
        assert r.status_code == 409 and r.json()["error"] == "config_mailbox", r.text
        assert boxes[wrong.address]["password_set"] is True


async def _is_idle(client: httpx.AsyncClient, org: str, gw: Gateway, username: str) -> bool:
    box = (await mailboxes(client, org, gw.admin)).get(username)
    return box is not None and box["state"] == "idle"


async def test_org_admin_reads_its_mailboxes_with_its_user_token(
    gateway: Gateway, client: httpx.AsyncClient, org: OrgCtx
) -> None:
    """An org admin's user token reads the org's mailboxes (none configured here: an empty list)."""
    r = await client.put(f"/api/v1/orgs/{org.id}/users/u1", json={"role": "admin"}, headers=gateway.admin)
    assert r.status_code == 200, r.text
    r = await client.get(f"/api/v1/orgs/{org.id}/mailboxes", headers=org.user_headers("u1"))
    assert r.status_code == 200, r.text
    assert r.json() == {"mailboxes": []}
