"""Mailboxes added through the API against a real Dovecot, real `signalgate imap` processes and the
session's gateway and router: listening within seconds without a restart, stopped by DELETE,
exactly one listener across processes (and a takeover when it dies), `sent` mode into contact
activity, and a refused LOGIN told to the owner once while the listener backs off. Passwords never
appear in an answer or a log."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis as redis_sync
from redis.asyncio import Redis

from gateway.config import GatewayConfig
from gateway.domain.hosts import PRIVATE_HOST_ERROR
from gateway.domain.mailbox import Checkpoint, patch_mailbox, validate_mailbox
from gateway.domain.sealing import PREFIX, derive_key, mailbox_password, open_secret
from gateway.store import keys
from gateway.store.mailboxes import Mailboxes
from gateway.store.scripts import load_scripts
from gateway.store.vault import Vault
from tests.support.api import Gateway, OrgCtx, provision_org, signals_of
from tests.support.imap import Dovecot, MailUser, mail, mailbox_env
from tests.support.processes import SECRET_KEY, Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import live_feed

FAILOVER_SECONDS = 5.0  # the default of [gateway] failover_seconds
SLACK_SECONDS = 1.5 * FACTOR
# What "within seconds" means here: the watch interval (1 s) + a login + SELECT, with headroom.
LISTENING_SECONDS = 5.0 * FACTOR
OTHER_SENDER = "jane@acme.example.com"  # c-smith, owned by u2


def start_imap(procs: Processes, redis_url: str, **knobs: str) -> subprocess.Popen[bytes]:
    """A `signalgate imap` process with no [[imap]] entry: API mailboxes only."""
    return procs.imap(redis_url, **mailbox_env(**knobs))


def box_body(server: Dovecot, user: MailUser, owner: str = "u1", **extra: Any) -> dict[str, Any]:
    return {
        "user": owner,
        "host": "127.0.0.1",
        "port": server.port,
        "tls": "none",
        "username": user.address,
        "password": user.password,
        **extra,
    }


async def add_box(client: httpx.AsyncClient, org: OrgCtx, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(f"/api/v1/orgs/{org.id}/mailboxes", json=body, headers=org.gateway.admin)
    assert r.status_code == 201, r.text
    assert body["password"] not in r.text and "password" not in r.json()
    out: dict[str, Any] = r.json()
    return out


async def box_state(client: httpx.AsyncClient, org: OrgCtx, mid: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", headers=org.gateway.admin)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def until_state(client: httpx.AsyncClient, org: OrgCtx, mid: str, state: str, timeout: float) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        box = await box_state(client, org, mid)
        return box if box["state"] == state else None

    found: dict[str, Any] = await wait_for(check, timeout=timeout, interval=0.1)
    return found


async def titles(client: httpx.AsyncClient, org: OrgCtx, prefix: str, user: str = "u1") -> list[tuple[str, int]]:
    signals = (await signals_of(client, org, user, limit=500))["signals"]
    return sorted((s["title"], s["count"]) for s in signals if s["type"].startswith(prefix))


def logs_of(procs: Processes) -> str:
    return "".join(p.read_text(errors="replace") for p in Path(procs.logdir).glob("*.log"))


async def test_api_mailbox_listens_within_seconds_and_delete_stops_it(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
) -> None:
    """POST a mailbox to a running `signalgate imap` (no restart): idle within seconds, mail from a
    known contact → email.received on the owner's WebSocket; GET shows it (source api) without its
    password; members and other orgs get 403; DELETE stops it (new mail makes no signal, the IMAP
    connection closes) and the id is gone; the password is in no log."""
    start_imap(procs, redis_server.url)
    user = dovecot.add_user()
    await asyncio.sleep(1.0)  # the process is up and watching (nothing to restart afterwards)
    added_at = time.monotonic()
    box = await add_box(client, org, box_body(dovecot, user))
    mid = box["id"]
    assert box["source"] == "api" and box["mode"] == "inbox" and box["folder"] == "INBOX"
    assert mid.startswith("mbx-")
    idle = await until_state(client, org, mid, "idle", LISTENING_SECONDS)
    print(f"\nAPI mailbox idle {time.monotonic() - added_at:.2f} s after POST")
    assert idle["last_uid"] == 0 and idle["last_error"] is None

    feed = await live_feed(gateway, org.tokens["u1"])
    await dovecot.adeliver(user, mail("API で追加したメールボックス"))
    sig = await feed.signal("email.received", timeout=10)
    assert sig["title"] == "API で追加したメールボックス" and sig["contact"]["id"] == "c-yamada"
    assert sig["data"]["mailbox"] == mid

    r = await client.get(f"/api/v1/orgs/{org.id}/mailboxes", headers=gateway.admin)
    assert r.status_code == 200, r.text
    listed = {b["id"]: b for b in r.json()["mailboxes"]}
    assert listed[mid]["source"] == "api" and listed[mid]["username"] == user.address
    assert user.password not in r.text and '"password"' not in r.text and listed[mid]["password_set"] is True

    # Only the org's admins: not a member, not another org's user; another org does not see it.
    other = await provision_org(client, gateway, "o-" + org.id[2:])
    for method, path in (
        ("GET", f"/api/v1/orgs/{org.id}/mailboxes"),
        ("GET", f"/api/v1/orgs/{org.id}/mailboxes/{mid}"),
        ("DELETE", f"/api/v1/orgs/{org.id}/mailboxes/{mid}"),
        ("POST", f"/api/v1/orgs/{org.id}/mailboxes"),
    ):
        body = box_body(dovecot, user) if method == "POST" else None
        for headers in (org.user_headers("u2"), other.user_headers("u1")):
            r = await client.request(method, path, json=body, headers=headers)
            assert r.status_code == 403, (method, path, r.text)
    assert (await client.get(f"/api/v1/orgs/{other.id}/mailboxes/{mid}", headers=gateway.admin)).status_code == 404

    r = await client.delete(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", headers=gateway.admin)
    assert r.status_code == 204, r.text
    await wait_for(lambda: dovecot.connections(user) == 0, timeout=LISTENING_SECONDS, interval=0.1)
    await dovecot.adeliver(user, mail("削除した後のメール"))
    await asyncio.sleep(2.0 * FACTOR)
    assert await titles(client, org, "email.") == [("API で追加したメールボックス", 1)]
    gone = await client.get(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", headers=gateway.admin)
    assert gone.status_code == 404 and gone.json()["error"] == "mailbox_not_found"
    assert (await client.delete(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", headers=gateway.admin)).status_code == 404
    r = await client.get(f"/api/v1/orgs/{org.id}/mailboxes", headers=gateway.admin)
    assert mid not in r.text
    assert user.password not in logs_of(procs)
    await feed.ws.close()


async def test_bad_mailboxes_are_400_and_nothing_is_connected_to(
    org: OrgCtx, gateway: Gateway, client: httpx.AsyncClient
) -> None:
    """Shape errors name the key; an unknown owner is 400; a well-formed host that does not exist is
    accepted (201) — nothing is connected to while answering — and its listener backs off."""
    base = {"user": "u1", "host": "imap.invalid", "username": "x@example.jp", "password": "secret-pw"}
    for bad, key in (
        ({**base, "host": "bad host"}, "host"),
        ({**base, "port": 0}, "port"),
        ({**base, "tls": "ssl"}, "tls"),
        ({**base, "mode": "outbox"}, "mode"),
        ({**base, "user": "nobody"}, "nobody"),
        ({k: v for k, v in base.items() if k != "password"}, "password"),
    ):
        r = await client.post(f"/api/v1/orgs/{org.id}/mailboxes", json=bad, headers=gateway.admin)
        assert r.status_code == 400, r.text
        assert key in r.json()["detail"] and "secret-pw" not in r.text
    started = time.monotonic()
    r = await client.post(f"/api/v1/orgs/{org.id}/mailboxes", json={**base, "port": 9}, headers=gateway.admin)
    assert r.status_code == 201, r.text
    assert time.monotonic() - started < 1.0
    mid = r.json()["id"]
    assert (await client.delete(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", headers=gateway.admin)).status_code == 204


async def test_two_imap_processes_listen_once_and_a_peer_takes_over(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """Two `signalgate imap` processes (lease 30 s) see the same API mailbox: one listens (one IMAP
    connection, one signal per mail); SIGKILL it and the other takes over within failover_seconds."""
    first = start_imap(procs, redis_server.url, lease_seconds="30")
    second = start_imap(procs, redis_server.url, lease_seconds="30")
    user = dovecot.add_user()
    mid = (await add_box(client, org, box_body(dovecot, user)))["id"]
    lease = keys.imap_lease(org.id, mid)
    await until_state(client, org, mid, "idle", LISTENING_SECONDS)
    holder = first if f":{first.pid}:" in (sync_redis.get(lease) or "") else second
    standby = second if holder is first else first
    assert f":{holder.pid}:" in (sync_redis.get(lease) or "")
    await asyncio.sleep(1.0 * FACTOR)  # both have synced; still one connection
    assert dovecot.connections(user) == 1

    feed = await live_feed(gateway, org.tokens["u1"])
    await dovecot.adeliver(user, mail("before the crash"))
    assert (await feed.signal("email.received", timeout=10))["title"] == "before the crash"
    holder.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    await asyncio.to_thread(holder.wait)
    await dovecot.adeliver(user, mail("while the holder is dead", sender=OTHER_SENDER, name="Jane Smith"))
    sig = await feed.signal("email.received", timeout=30)
    took = time.monotonic() - killed
    print(f"\nAPI mailbox taken over {took:.2f} s after SIGKILL")
    assert sig["title"] == "while the holder is dead"
    assert took <= FAILOVER_SECONDS + SLACK_SECONDS
    assert f":{standby.pid}:" in (sync_redis.get(lease) or "")
    await asyncio.sleep(1.0 * FACTOR)
    assert await titles(client, org, "email.") == [("before the crash", 1), ("while the holder is dead", 1)]
    assert (await client.delete(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", headers=gateway.admin)).status_code == 204
    await feed.ws.close()


async def test_sent_mode_puts_the_owners_mail_into_contact_activity(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
) -> None:
    """A `sent` mailbox: the owner's mail to a contact lands in that contact's activity (outbound, by
    the owner); mail to an unknown address creates nothing; no signal either way."""
    start_imap(procs, redis_server.url)
    user = dovecot.add_user()
    mid = (await add_box(client, org, box_body(dovecot, user, mode="sent")))["id"]
    await until_state(client, org, mid, "idle", LISTENING_SECONDS)
    sent = mail("お見積りの件", sender="sato@example.test", name="佐藤", to="Yamada@Client.example.jp")
    await dovecot.adeliver(user, sent)
    await dovecot.adeliver(user, mail("知らない宛先", sender="sato@example.test", name="佐藤", to="who@else.example"))

    async def activity() -> list[dict[str, Any]] | None:
        r = await client.get(f"/api/v1/orgs/{org.id}/contacts/c-yamada/activity", headers=gateway.admin)
        assert r.status_code == 200, r.text
        entries: list[dict[str, Any]] = r.json()["activity"]
        return entries or None

    [entry] = await wait_for(activity, timeout=10, interval=0.2)
    assert entry["subject"] == "お見積りの件" and entry["direction"] == "outbound"
    assert entry["user"] == "u1" and entry["mailbox"] == mid
    await asyncio.sleep(1.0 * FACTOR)
    assert await titles(client, org, "email.") == []
    assert (await client.delete(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", headers=gateway.admin)).status_code == 204


class RefusingImap:
    """A minimal IMAP server that refuses every LOGIN at once (Dovecot delays refusals by seconds:
    its own penalty would hide the listener's backoff); it notes when each connection came."""

    def __init__(self) -> None:
        self.logins: list[float] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RefusingImap:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n")
        try:
            while line := await reader.readline():
                tag, _, rest = line.strip().partition(b" ")
                command = rest.split(b" ", 1)[0].upper()
                if command == b"CAPABILITY":
                    writer.write(b"* CAPABILITY IMAP4rev1 IDLE\r\n" + tag + b" OK done\r\n")
                elif command == b"LOGIN":
                    self.logins.append(time.monotonic())
                    writer.write(tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials\r\n")
                elif command == b"LOGOUT":
                    writer.write(b"* BYE\r\n" + tag + b" OK bye\r\n")
                    break
                else:
                    writer.write(tag + b" BAD unexpected\r\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


async def test_refused_login_signals_the_owner_once_and_backs_off(
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
) -> None:
    """A refused LOGIN: state auth_failed with the error, exactly one mailbox.auth_failed signal to
    the mailbox's owner (u2) however often the listener retries, and the retries spaced out
    exponentially from 16x the initial backoff (not one per initial delay)."""
    start_imap(procs, redis_server.url, backoff_initial_seconds="0.05", backoff_max_seconds="5")
    feed = await live_feed(gateway, org.tokens["u2"])
    async with RefusingImap() as server:
        body = {
            "user": "u2",
            "host": "127.0.0.1",
            "port": server.port,
            "tls": "none",
            "username": "sato@example.test",
            "password": "not-the-password",
        }
        mid = (await add_box(client, org, body))["id"]
        failed = await until_state(client, org, mid, "auth_failed", LISTENING_SECONDS)
        assert "LOGIN refused" in failed["last_error"]
        sig = await feed.signal("mailbox.auth_failed", timeout=10)
        assert sig["user"] == "u2" and sig["data"]["mailbox"] == mid and sig["contact"] is None
        assert "sato@example.test" in sig["title"] and "not-the-password" not in str(sig)
        await asyncio.sleep(6.0)
        gaps = [round(b - a, 2) for a, b in zip(server.logins, server.logins[1:], strict=False)]
        print(f"\n{len(server.logins)} refused LOGINs, gaps {gaps}")
        # Delays 0.4-0.8, 0.8-1.6, 1.6-3.2, 2.5-5 s: a few LOGINs, each wait at least as long as the
        # one before (with the initial 0.05 s delay, flat, it would be a hundred).
        assert 3 <= len(server.logins) <= 7
        assert gaps[0] < 1.2 and gaps[2] > gaps[0] and gaps[2] >= 1.4
        signals = (await signals_of(client, org, "u2", limit=500))["signals"]
        alerts = [s for s in signals if s["type"] == "mailbox.auth_failed"]
        assert len(alerts) == 1 and alerts[0]["count"] == 1, alerts
        assert (await box_state(client, org, mid))["state"] == "auth_failed"
        assert "not-the-password" not in logs_of(procs)
        r = await client.delete(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", headers=gateway.admin)
        assert r.status_code == 204
    await feed.ws.close()


class Recorder:
    """A TCP listener that only notes the connections it accepts (and says nothing)."""

    def __init__(self) -> None:
        self.accepted = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Recorder:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        with contextlib.suppress(ConnectionError):
            await reader.read()
        writer.close()


async def test_private_hosts_are_refused_unless_the_operator_allows_them(
    org: OrgCtx, client: httpx.AsyncClient, procs: Processes, redis_server: RedisServer
) -> None:
    """With [mailboxes] allow_private_hosts false (the default): a non-public IP literal is 400 naming
    `host` and the key; a name that resolves to loopback (`localhost`) is accepted, but its listener
    never connects (a listener on that port accepts nothing) and the state says why; a PATCH to such
    an address is 400 as well. An IMAP process with the key true connects to the same mailbox."""
    gw, _ = procs.serve(redis_server.url)  # the shipped default
    refusing = start_imap(procs, redis_server.url, allow_private_hosts="false")
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as api, Recorder() as server:
        base = {"user": "u1", "port": server.port, "tls": "none", "username": "x@example.jp", "password": "secret-pw"}
        path = f"/api/v1/orgs/{org.id}/mailboxes"
        for host in ("127.0.0.1", "::1", "169.254.169.254", "10.0.0.1", "100.64.0.1", "fd00::1", "2130706433"):
            r = await api.post(path, json={**base, "host": host}, headers=gw.admin)
            assert r.status_code == 400, (host, r.text)
            assert r.json()["error"] == "invalid_field", r.text
            assert "'host'" in r.json()["detail"] and "allow_private_hosts" in r.json()["detail"]
        r = await api.post(path, json={**base, "host": "localhost"}, headers=gw.admin)
        assert r.status_code == 201, r.text
        mid = r.json()["id"]
        for host in ("127.0.0.1", "169.254.169.254", "2130706433"):  # PATCH keeps the same guard
            r = await api.patch(f"{path}/{mid}", json={"host": host, "password": "secret-pw"}, headers=gw.admin)
            assert r.status_code == 400 and r.json()["error"] == "invalid_field", (host, r.text)
            assert "'host'" in r.json()["detail"] and "allow_private_hosts" in r.json()["detail"]
        refused = await until_state(client, org, mid, "backoff", LISTENING_SECONDS)
        assert refused["last_error"] == PRIVATE_HOST_ERROR
        await asyncio.sleep(2.0 * FACTOR)  # several retries (backoff 0.1-0.5 s): still nothing
        assert server.accepted == 0
        assert (await box_state(client, org, mid))["last_error"] == PRIVATE_HOST_ERROR

        refusing.terminate()
        await asyncio.to_thread(refusing.wait)
        start_imap(procs, redis_server.url, allow_private_hosts="true", lease_seconds="1")
        await wait_for(lambda: server.accepted > 0, timeout=FAILOVER_SECONDS + LISTENING_SECONDS, interval=0.1)
        assert (await api.delete(f"{path}/{mid}", headers=gw.admin)).status_code == 204


async def test_passwords_are_sealed_in_redis_legacy_plain_ones_still_work_and_a_moved_one_fails_visibly(
    dovecot: Dovecot,
    org: OrgCtx,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """The stored record holds the password ``sg1:``-sealed (nowhere in plain text) and the listener
    logs in with it; a record written before sealing (plain password, straight into Redis) is
    listened to as well; a sealed password copied onto another mailbox does not open there: that
    mailbox is ``auth_failed`` with an error naming the field, nothing is contacted, the process
    and the other mailboxes go on."""
    imap = start_imap(procs, redis_server.url)
    sealed_user, legacy_user, moved_user = dovecot.add_user(), dovecot.add_user(), dovecot.add_user()
    mid = (await add_box(client, org, box_body(dovecot, sealed_user)))["id"]
    raw = sync_redis.hget(keys.api_mailboxes(org.id), mid)
    assert isinstance(raw, str) and sealed_user.password not in raw
    rec = json.loads(raw)
    assert rec["password"].startswith(PREFIX)
    key = derive_key(SECRET_KEY.encode())
    assert open_secret(key, org.id, mailbox_password(mid), rec["password"]) == sealed_user.password

    def write(box_id: str, user: MailUser, password: str) -> None:
        sync_redis.hset(
            keys.api_mailboxes(org.id),
            box_id,
            json.dumps(rec | {"id": box_id, "username": user.address, "password": password}),
        )
        sync_redis.incr(keys.API_MAILBOX_VERSION)

    write("mbx-legacyplain1", legacy_user, legacy_user.password)
    write("mbx-movedsealed1", moved_user, rec["password"])
    await until_state(client, org, mid, "idle", LISTENING_SECONDS)
    await until_state(client, org, "mbx-legacyplain1", "idle", LISTENING_SECONDS)
    failed = await until_state(client, org, "mbx-movedsealed1", "auth_failed", LISTENING_SECONDS)
    assert "mailbox.mbx-movedsealed1.password cannot be opened" in failed["last_error"]
    assert dovecot.connections(moved_user) == 0
    assert (await box_state(client, org, mid))["state"] == "idle" and imap.poll() is None
    logs = logs_of(procs)
    assert "mbx-movedsealed1.password cannot be opened" in logs
    assert sealed_user.password not in logs and legacy_user.password not in logs


# -- PATCH: a mailbox changed in place -----------------------------------------------------------
async def patch_box(client: httpx.AsyncClient, org: OrgCtx, mid: str, body: Any) -> httpx.Response:
    return await client.patch(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", json=body, headers=org.gateway.admin)


async def test_patch_fixes_a_wrong_password_without_a_restart_and_resumes_from_the_checkpoint(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """Added with a wrong password: `auth_failed`. PATCH the right one (same id, sealed in Redis,
    never answered): `idle` within seconds on the running `signalgate imap`, and mail arrives once.
    Then the password is wrong again while mail comes in; corrected, the listener resumes from its
    checkpoint: that mail arrives once (not lost, as a fresh baseline would lose it; not twice)."""
    imap = start_imap(procs, redis_server.url)
    user = dovecot.add_user()
    mid = (await add_box(client, org, box_body(dovecot, user, password="not-the-password")))["id"]
    await until_state(client, org, mid, "auth_failed", LISTENING_SECONDS + 3)

    r = await patch_box(client, org, mid, {"password": user.password})
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["id"] == mid and shown["username"] == user.address and shown["password_set"] is True
    assert "password" not in shown and user.password not in r.text
    raw = sync_redis.hget(keys.api_mailboxes(org.id), mid)
    assert isinstance(raw, str) and user.password not in raw and "not-the-password" not in raw
    sealed = json.loads(raw)["password"]
    assert sealed.startswith(PREFIX)
    assert open_secret(derive_key(SECRET_KEY.encode()), org.id, mailbox_password(mid), sealed) == user.password
    idle = await until_state(client, org, mid, "idle", LISTENING_SECONDS)
    assert idle["last_uid"] == 0

    feed = await live_feed(gateway, org.tokens["u1"])
    await dovecot.adeliver(user, mail("パスワードを直した後のメール"))
    sig = await feed.signal("email.received", timeout=10)
    assert sig["title"] == "パスワードを直した後のメール" and sig["data"]["mailbox"] == mid

    assert (await patch_box(client, org, mid, {"password": "wrong-again"})).status_code == 200
    await until_state(client, org, mid, "auth_failed", LISTENING_SECONDS + 3)
    await dovecot.adeliver(user, mail("認証に失敗している間のメール", sender=OTHER_SENDER, name="Jane Smith"))
    r = await patch_box(client, org, mid, {"password": user.password, "mode": "inbox"})
    assert r.status_code == 200, r.text
    sig = await feed.signal("email.received", timeout=LISTENING_SECONDS + 5)
    assert sig["title"] == "認証に失敗している間のメール"
    resumed = await until_state(client, org, mid, "idle", LISTENING_SECONDS)
    assert resumed["last_uid"] == 2
    await asyncio.sleep(1.0 * FACTOR)
    assert await titles(client, org, "email.") == [
        ("パスワードを直した後のメール", 1),
        ("認証に失敗している間のメール", 1),
    ]
    assert dovecot.connections(user) == 1 and imap.poll() is None
    logs = logs_of(procs)
    assert user.password not in logs and "wrong-again" not in logs
    assert (await client.delete(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", headers=gateway.admin)).status_code == 204
    await feed.ws.close()


async def test_patch_to_another_folder_starts_it_afresh_without_the_old_checkpoint(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """INBOX is checkpointed at UID 2; the folder `Archive` already holds three (newer) messages.
    PATCH the folder: the old checkpoint is not carried over (the folder's own UIDs and UIDVALIDITY,
    its mail already there is history: no signal), and mail stored into it afterwards arrives once."""
    start_imap(procs, redis_server.url)
    user = dovecot.add_user()
    mid = (await add_box(client, org, box_body(dovecot, user)))["id"]
    await until_state(client, org, mid, "idle", LISTENING_SECONDS)
    feed = await live_feed(gateway, org.tokens["u1"])
    for subject in ("受信箱 1", "受信箱 2"):
        await dovecot.adeliver(user, mail(subject))
        assert (await feed.signal("email.received", timeout=10))["title"] == subject
    await asyncio.sleep(1.1)  # newer INTERNALDATEs than INBOX's last: a carried-over checkpoint would replay them
    for n in (1, 2, 3):
        history = mail(f"保管済み {n}", sender="suzuki@partner.example.com", name="鈴木 美咲")
        await dovecot.asave(user, history, "Archive")
    archive = dovecot.folder_status(user, "Archive")
    assert archive["uidnext"] == 4

    r = await patch_box(client, org, mid, {"folder": "Archive"})
    assert r.status_code == 200, r.text
    assert r.json()["folder"] == "Archive" and r.json()["id"] == mid

    async def moved() -> dict[str, Any] | None:
        box = await box_state(client, org, mid)
        return box if box["state"] == "idle" and box["uidvalidity"] == archive["uidvalidity"] else None

    box = await wait_for(moved, timeout=LISTENING_SECONDS, interval=0.1)
    assert box["last_uid"] == 3 and box["folder"] == "Archive"
    assert sync_redis.hget(keys.imap_checkpoint(org.id, mid), "epoch") == "1"
    await dovecot.asave(user, mail("保管フォルダーの新着", sender=OTHER_SENDER, name="Jane Smith"), "Archive")
    assert (await feed.signal("email.received", timeout=10))["title"] == "保管フォルダーの新着"
    await asyncio.sleep(1.0 * FACTOR)
    # Yamada's two INBOX mails are one group; Suzuki's mail that was in Archive before made nothing.
    assert await titles(client, org, "email.") == [("保管フォルダーの新着", 1), ("受信箱 2", 2)]
    assert (await client.delete(f"/api/v1/orgs/{org.id}/mailboxes/{mid}", headers=gateway.admin)).status_code == 204
    await feed.ws.close()


async def test_bad_patches_are_400_others_403_unknown_404(
    org: OrgCtx, gateway: Gateway, client: httpx.AsyncClient
) -> None:
    """PATCH checks its body as POST does (the key named, the password never echoed), a new owner
    must be a user of the org; only the org's admins (an org-admin user too) may; another org and an
    unknown id are 404; nothing changed by a refused PATCH."""
    base = {"user": "u1", "host": "imap.invalid", "port": 9, "username": "x@example.jp", "password": "secret-pw"}
    r = await client.post(f"/api/v1/orgs/{org.id}/mailboxes", json=base, headers=gateway.admin)
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    before = await box_state(client, org, mid)
    for bad, code, key in (
        ({"port": 0}, "invalid_field", "port"),
        ({"port": "993"}, "invalid_field", "port"),
        ({"host": "bad host"}, "invalid_field", "host"),
        ({"tls": "ssl"}, "invalid_field", "tls"),
        ({"folder": 'IN"BOX'}, "invalid_field", "folder"),
        ({"password": ""}, "invalid_field", "password"),
        ({"username": None}, "invalid_field", "username"),
        ({"mode": "outbox", "password": "other-secret"}, "invalid_field", "mode"),
        ({"user": "nobody"}, "unknown_user", "nobody"),
        ({"bogus": 1, "password": "other-secret"}, "unknown_field", "bogus"),
        ({"id": "mbx-other"}, "unknown_field", "id"),
        (["password"], "invalid_body", "object"),
    ):
        r = await patch_box(client, org, mid, bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"] == code and key in r.json()["detail"], r.text
        assert "secret-pw" not in r.text and "other-secret" not in r.text
    r = await client.patch(
        f"/api/v1/orgs/{org.id}/mailboxes/{mid}",
        content=b"{",
        headers={**gateway.admin, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_json"
    assert await box_state(client, org, mid) == before

    other = await provision_org(client, gateway, "p-" + org.id[2:])
    path = f"/api/v1/orgs/{org.id}/mailboxes/{mid}"
    for headers in (org.user_headers("u2"), other.user_headers("u1")):
        r = await client.patch(path, json={"password": "new-secret"}, headers=headers)
        assert r.status_code == 403, r.text
    for path_org, box in ((other.id, mid), (org.id, "mbx-0000000000000000")):
        r = await client.patch(f"/api/v1/orgs/{path_org}/mailboxes/{box}", json={"mode": "sent"}, headers=gateway.admin)
        assert r.status_code == 404 and r.json()["error"] == "mailbox_not_found", r.text
    r = await client.put(f"/api/v1/orgs/{org.id}/users/u2", json={"role": "admin"}, headers=gateway.admin)
    assert r.status_code == 200, r.text
    r = await client.patch(path, json={"mode": "sent", "user": "u2", "tls": "none"}, headers=org.user_headers("u2"))
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("mode", "user", "tls", "port", "host")} == {
        "mode": "sent", "user": "u2", "tls": "none", "port": 9, "host": "imap.invalid",
    }  # fmt: skip
    got = await box_state(client, org, mid)
    assert got["mode"] == "sent" and got["user"] == "u2" and got["id"] == mid and got["password_set"] is True
    assert (await client.delete(path, headers=gateway.admin)).status_code == 204
    assert (await patch_box(client, org, mid, {"mode": "inbox"})).status_code == 404


async def test_patch_store_writes_only_what_it_read_and_fences_old_checkpoints(redis_server: RedisServer) -> None:
    """The store side of PATCH on a real Redis: a change lands only on the record it was computed
    from (a concurrent one is re-applied, none lost), a deleted mailbox is never brought back, the
    password is sealed, a moved mailbox loses checkpoint and state, and a checkpoint of the old epoch
    (an old listener writing late) is not the new epoch's."""
    r = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        store = Mailboxes(r, load_scripts(r), Vault(r, GatewayConfig(secret_key=SECRET_KEY), None))
        org = "pt-" + uuid.uuid4().hex[:8]
        rec = validate_mailbox(org, "mbx-0000000000000001", box_body_for("pw-1"), 1, allow_private=True)
        assert await store.add_api(rec, 20)
        mid = rec["id"]
        await r.hset(keys.imap_checkpoint(org, mid), mapping={"uidvalidity": "7", "uid": "5"})
        await r.hset(keys.imap_state(org, mid), mapping={"state": "auth_failed"})
        version = await store.api_version()

        async def patch(body: dict[str, Any]) -> dict[str, Any] | None:
            return await store.update_api(org, mid, lambda old: patch_mailbox(old, body, allow_private=True))

        done = await asyncio.gather(*(patch({"mode": m}) for m in ("sent", "dropbox")), patch({"password": "pw-2"}))
        assert all(done)
        final = await store.get_api(org, mid)
        assert final is not None and final["mode"] in ("sent", "dropbox")
        assert final["password"].startswith(PREFIX) and "pw-2" not in json.dumps(final)
        assert [b["password"] for b in await store.all_api_records() if b["id"] == mid] == ["pw-2"]
        assert await store.api_version() == version + 3
        assert await r.hget(keys.imap_checkpoint(org, mid), "uid") == "5"  # same folder: kept
        assert await r.hget(keys.imap_state(org, mid), "state") == "auth_failed"

        moved = await patch({"folder": "Archive"})
        assert moved is not None and moved["epoch"] == 1 and moved["password"] == final["password"]
        assert not await r.exists(keys.imap_checkpoint(org, mid), keys.imap_state(org, mid))

        old_lease, new_lease = store.lease(org, mid, 5000), store.lease(org, mid, 5000)
        assert await old_lease.acquire()
        await store.checkpoints(org, mid, old_lease, 0).reset(7, 9, None)  # the old folder's listener, late
        await old_lease.release()
        assert await new_lease.acquire()
        assert await store.checkpoints(org, mid, new_lease, 1).get() is None
        await store.checkpoints(org, mid, new_lease, 1).reset(3, 4, None)
        assert await store.checkpoints(org, mid, new_lease, 1).get() == Checkpoint(3, 4, None)

        assert await store.remove_api(org, mid)
        assert await patch({"password": "pw-3"}) is None
        assert await store.get_api(org, mid) is None
    finally:
        await r.aclose()


def box_body_for(password: str) -> dict[str, Any]:
    return {
        "user": "u1",
        "host": "127.0.0.1",
        "port": 1143,
        "tls": "none",
        "username": "x@example.jp",
        "password": password,
    }
