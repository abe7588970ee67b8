"""Rotating ``[gateway] secret_key``: a gateway restarted with a new key and the old one in
``previous_secret_keys`` still verifies webhooks with the secrets sealed under the old key and
still honours links signed with it; ``signalgate reseal`` (the real CLI) seals every stored secret
under the new key, so the old key can go; a reseal never overwrites a concurrent edit."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest
import redis as redis_sync
import redis.asyncio as aioredis

from gateway.cli import _reseal as run_reseal
from gateway.config import GatewayConfig, load_config
from gateway.devtools.net import child_env
from gateway.domain import tracking, unsubscribe
from gateway.domain.sealing import (
    SMTP_PASSWORD,
    TWILIO_AUTH_TOKEN,
    WEBHOOK_SECRET,
    SealError,
    derive_key,
    mailbox_password,
    open_secret,
    seal_secret,
)
from gateway.store import keys
from gateway.store.reseal import reseal_all
from gateway.store.vault import Vault
from tests.support.api import Gateway, post_event, post_twilio, provision_org, sms_params, survey
from tests.support.processes import ROOT, Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR

K1 = "rotation-test-key-one-0123456789abcdef"
K2 = "rotation-test-key-two-0123456789abcdef"
MAILBOX_PASSWORD = "mailbox-pass-\u00e9-rotation"
CLICK_TARGET = "https://example.com/rotation"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(15 * FACTOR)


def _reseal(procs: Processes, url: str, **env: str) -> tuple[int, str]:
    """``signalgate reseal`` as a subprocess: its exit code and its output."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "--config", str(procs.config), "reseal"],
        cwd=ROOT,
        env=child_env(procs.base_env(url, **env)),
        capture_output=True,
        text=True,
        timeout=60 * FACTOR,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


async def _reseal_here(procs: Processes, url: str, capsys: pytest.CaptureFixture[str], **env: str) -> tuple[int, str]:
    """The command's body run in this process (one subprocess start less; argv and logging set-up
    aside, it is what ``signalgate reseal`` runs)."""
    capsys.readouterr()
    code = await run_reseal(load_config(None, procs.base_env(url, **env)))
    return code, capsys.readouterr().out


def _stored(sync: redis_sync.Redis, org: str, mailbox: str) -> tuple[dict[str, Any], dict[str, Any]]:
    rec = json.loads(cast(str, sync.get(keys.org(org))))
    box = json.loads(cast(str, sync.hget(keys.api_mailboxes(org), mailbox)))
    return rec, box


async def _checks(gw: Gateway, org: Any, click: str, unsub: str) -> dict[str, int]:
    """Status of a Twilio webhook, a Standard Webhooks event, an old click link and unsubscribe page."""
    org.gateway = gw  # Twilio signs the URL it calls: this gateway's
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        sms = await post_twilio(client, org, "sms", sms_params("鍵の交換"))
        event = await post_event(client, org, survey({"email": "yamada@client.example.jp"}))
        link = await client.get(f"/t/c/{click}")
        page = await client.get(f"/u/{unsub}")
    return {"sms": sms.status_code, "event": event.status_code, "click": link.status_code, "unsub": page.status_code}


async def test_rotated_key_keeps_webhooks_and_old_links_working_and_reseal_moves_secrets(
    fresh_redis: RedisServer, procs: Processes, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_redis.url
    gw1, p1 = procs.serve(url, SIGNALGATE_GATEWAY_SECRET_KEY=K1, SIGNALGATE_MAILBOXES_ALLOW_PRIVATE_HOSTS="true")
    async with httpx.AsyncClient(base_url=gw1.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, gw1, "rotation-org")
        box = {"user": "u1", "host": "127.0.0.1", "port": 9, "tls": "none", "username": "x@example.jp"}
        r = await client.post(
            f"/api/v1/orgs/{org.id}/mailboxes", json=box | {"password": MAILBOX_PASSWORD}, headers=gw1.admin
        )
        assert r.status_code == 201, r.text
        mailbox = r.json()["id"]
    # Links in mail sent while K1 was the key.
    click = tracking.sign(K1.encode(), tracking.TrackingClaim(org.id, "n-rotation", "c-yamada", CLICK_TARGET))
    unsub = unsubscribe.sign(K1.encode(), unsubscribe.UnsubscribeClaim(org.id, "c-yamada", "yamada@client.example.jp"))
    ok = {"sms": 200, "event": 202, "click": 302, "unsub": 200}
    assert await _checks(gw1, org, click, unsub) == ok
    _stop(p1)

    rotated = {"SIGNALGATE_GATEWAY_SECRET_KEY": K2, "SIGNALGATE_GATEWAY_PREVIOUS_SECRET_KEYS": K1}
    gw2, p2 = procs.serve(url, SIGNALGATE_GATEWAY_SECRET_KEY=K2, SIGNALGATE_GATEWAY_PREVIOUS_SECRET_KEYS=K1)
    assert await _checks(gw2, org, click, unsub) == ok  # secrets sealed and links signed under K1

    code, out = _reseal(procs, url, **rotated)
    assert (code, out.strip()) == (0, "resealed 3 values in 1 orgs; 0 values open under no key"), out
    sync = redis_sync.Redis.from_url(url, decode_responses=True)
    rec, stored_box = _stored(sync, org.id, mailbox)
    new, old = derive_key(K2.encode()), derive_key(K1.encode())
    assert open_secret(new, org.id, TWILIO_AUTH_TOKEN, rec["twilio"]["auth_token"]) == org.auth_token
    assert open_secret(new, org.id, WEBHOOK_SECRET, rec["webhook_secret"]) == org.webhook_secret
    assert open_secret(new, org.id, mailbox_password(mailbox), stored_box["password"]) == MAILBOX_PASSWORD
    with pytest.raises(SealError):
        open_secret(old, org.id, TWILIO_AUTH_TOKEN, rec["twilio"]["auth_token"])
    code, out = await _reseal_here(procs, url, capsys, **rotated)  # idempotent: nothing left to move
    assert (code, out.strip()) == (0, "resealed 0 values in 0 orgs; 0 values open under no key"), out
    assert _stored(sync, org.id, mailbox) == (rec, stored_box)
    _stop(p2)

    gw3, p3 = procs.serve(url, SIGNALGATE_GATEWAY_SECRET_KEY=K2)  # the old key dropped
    assert await _checks(gw3, org, click, unsub) == ok | {"click": 404, "unsub": 404}
    _stop(p3)

    # A value sealed under a key the gateway never had: named (org/field, never the value), exit 1.
    stranger = seal_secret(derive_key(b"a key nobody has"), org.id, WEBHOOK_SECRET, org.webhook_secret)
    sync.set(keys.org(org.id), json.dumps(rec | {"webhook_secret": stranger}))
    code, out = await _reseal_here(procs, url, capsys, **rotated)
    assert (code, out.strip()) == (
        1,
        f"resealed 0 values in 0 orgs; 1 values open under no key: {org.id}/webhook_secret",
    )
    assert org.webhook_secret not in out and org.auth_token not in out
    sync.close()


class _EditedBetweenReadAndWrite:
    """A Redis client on which an admin edits a record right after reseal read it (once per key)."""

    def __init__(self, redis: aioredis.Redis, edits: dict[Any, Callable[[], Any]]) -> None:
        self._r = redis
        self._edits = edits

    def __getattr__(self, name: str) -> Any:
        return getattr(self._r, name)

    async def get(self, key: str) -> Any:
        raw = await self._r.get(key)
        if key in self._edits:
            await self._edits.pop(key)()
        return raw

    async def hget(self, key: str, field: str) -> Any:
        raw = await self._r.hget(key, field)
        if (key, field) in self._edits:
            await self._edits.pop((key, field))()
        return raw


async def test_reseal_never_overwrites_a_concurrent_edit(fresh_redis: RedisServer) -> None:
    """An org record and a mailbox edited between reseal's read and its write: the write is refused
    (compare-and-set), the record read again, and both the edit and the resealed secret stay."""
    redis = aioredis.Redis.from_url(fresh_redis.url, decode_responses=True)
    old = derive_key(K1.encode())
    org, mailbox = "race-org", "mbx-race"
    rec = {
        "id": org,
        "name": "before",
        "twilio": {"account_sid": "AC1", "auth_token": seal_secret(old, org, TWILIO_AUTH_TOKEN, "tok")},
        "smtp": {"host": "smtp.example.jp", "password": seal_secret(old, org, SMTP_PASSWORD, "smtp-pw")},
    }
    box = {"id": mailbox, "org": org, "user": "u1", "password": seal_secret(old, org, mailbox_password(mailbox), "pw")}
    await redis.set(keys.org(org), json.dumps(rec))
    await redis.sadd(keys.ORGS, org)
    await redis.hset(keys.api_mailboxes(org), mailbox, json.dumps(box))
    await redis.sadd(keys.API_MAILBOX_ORGS, org)

    async def edit_org() -> None:  # an admin PUT: a new name, the stored (old-key) secrets kept
        await redis.set(keys.org(org), json.dumps(rec | {"name": "after"}))

    async def edit_box() -> None:
        await redis.hset(keys.api_mailboxes(org), mailbox, json.dumps(box | {"user": "u2"}))

    edits: dict[Any, Callable[[], Any]] = {keys.org(org): edit_org, (keys.api_mailboxes(org), mailbox): edit_box}
    client = cast(aioredis.Redis, _EditedBetweenReadAndWrite(redis, edits))
    vault = Vault(redis, GatewayConfig(secret_key=K2, previous_secret_keys=(K1,)), None)
    summary = await reseal_all(client, vault)
    assert not edits, "both edits happened"
    assert summary.line() == "resealed 3 values in 1 orgs; 0 values open under no key"
    new = derive_key(K2.encode())
    stored = json.loads(cast(str, await redis.get(keys.org(org))))
    assert stored["name"] == "after"
    assert open_secret(new, org, TWILIO_AUTH_TOKEN, stored["twilio"]["auth_token"]) == "tok"
    assert open_secret(new, org, SMTP_PASSWORD, stored["smtp"]["password"]) == "smtp-pw"
    stored_box = json.loads(cast(str, await redis.hget(keys.api_mailboxes(org), mailbox)))
    assert stored_box["user"] == "u2"
    assert open_secret(new, org, mailbox_password(mailbox), stored_box["password"]) == "pw"
    await redis.aclose()
