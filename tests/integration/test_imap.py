"""IMAP IDLE ingest against a real Dovecot: mail, replies, bounces and dropbox copies become
signals and activity — pushed within a second, nothing lost across outages, nothing repeated."""

from __future__ import annotations

import asyncio
import json
import random
import re
import signal
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aioimaplib
import httpx
import pytest
import redis as redis_sync
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.api import activity as api_activity
from gateway.config import load_config
from gateway.domain.errors import ApiError
from gateway.domain.mailbox import Checkpoint
from gateway.http import error_response
from gateway.ingest.imap.rules import mailbox_id
from gateway.services import open_services
from gateway.store import keys
from gateway.store.activity import Activity
from gateway.store.mailboxes import Checkpoints, Lease, LeaseLost, ValidityChanged
from gateway.store.notifications import Notifications
from gateway.store.scripts import load_scripts
from gateway.store.tenancy import Tenancy
from tests.support.api import Gateway, OrgCtx, provision_org, signals_of
from tests.support.imap import Dovecot, box_id, dsn, imap_env, listening, mail
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import Feed, live_feed

# Dovecot pushes EXISTS ~0.5 s after delivery (its notify delay), so 1 s end to end is asserted
# with headroom (shared/TESTING.md): the measured values are printed.
LIVE_SECONDS = 1.5


@pytest.fixture
def own_dovecot() -> Iterator[Dovecot]:
    """A Dovecot private to one test (restarted, frozen...)."""
    server = Dovecot()
    yield server
    server.thaw()
    server.close()


@pytest.fixture
async def aredis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    await client.aclose()


async def timed_signal(feed: Feed, signal_type: str, started: float) -> tuple[dict[str, Any], float]:
    sig = await feed.signal(signal_type, timeout=10)
    return sig, time.monotonic() - started


async def email_signals(client: httpx.AsyncClient, org: OrgCtx, user: str = "u1") -> list[dict[str, Any]]:
    return [s for s in (await signals_of(client, org, user, limit=500))["signals"] if s["type"].startswith("email.")]


async def report_total(client: httpx.AsyncClient, org: OrgCtx) -> dict[str, Any]:
    r = await client.get(f"/api/v1/orgs/{org.id}/reports/email", headers=org.gateway.admin)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def sent_notification(r: Redis, org: str, nid: str, *, user: str, contact: str = "c-yamada") -> str:
    """A notification as the email worker leaves it after sending: status sent, Message-ID linked."""
    notes = Notifications(r, load_scripts(r))
    await notes.create(org, {"id": nid, "channel": "email", "template": "t1", "user": user, "contact": contact})
    await notes.advance(org, nid, "sending", event_key=f"{nid}:sending")
    await notes.advance(org, nid, "sent", event_key=f"{nid}:sent")
    message_id = f"{nid}.{uuid.uuid4().hex[:8]}@mail.example.test"
    await notes.link_message_id(org, f"<{message_id}>", nid)
    return message_id


def metric(text: str, name: str, mailbox: str) -> float:
    m = re.search(rf'^{name}\{{mailbox="{mailbox}"\}} (\S+)$', text, re.MULTILINE)
    return float(m.group(1)) if m else 0.0


def log_text(procs: Processes) -> str:
    return "\n".join(p.read_text(errors="replace") for p in Path(procs.logdir).glob("*.log"))


# --- inbox mode ------------------------------------------------------------------------------------


async def test_known_contact_mail_is_live_and_unknown_sender_is_counted(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """Mail from a known contact reaches the mailbox owner's WebSocket within ~1 s; an unknown sender
    makes no signal but is counted; mail is fetched with BODY.PEEK (never marked \\Seen)."""
    user = dovecot.add_user()
    procs.imap(redis_server.url, **imap_env(dovecot, user, org.id, "u1"))
    await listening(sync_redis, dovecot, user, org.id)
    feed = await live_feed(gateway, org.tokens["u1"])
    latencies = []
    for i in range(3):
        started = time.monotonic()
        await dovecot.adeliver(user, mail(f"お見積もりのご依頼 {i}", body=f"新製品の見積もりをお願いします。{i}"))
        sig, took = await timed_signal(feed, "email.received", started)
        latencies.append(took)
        assert sig["title"] == f"お見積もりのご依頼 {i}"
        assert sig["body"] == f"新製品の見積もりをお願いします。{i}"
        assert sig["user"] == "u1"
        assert sig["contact"] == {"id": "c-yamada", "name": "山田 太郎", "kind": "lead"}
        assert sig["data"]["from"] == "yamada@client.example.jp" and sig["data"]["subject"] == sig["title"]
        assert sig["data"]["message_id"].endswith("@client.example.jp")
    print(f"\nIMAP delivery → WebSocket signal: {', '.join(f'{t * 1000:.0f} ms' for t in latencies)}")
    assert max(latencies) <= LIVE_SECONDS * FACTOR

    await dovecot.adeliver(user, mail("who am I", sender="stranger@unknown.example", name="Stranger"))
    await wait_for(lambda: sync_redis.hget(keys.stats(org.id), "unmatched:imap.mail") == "1", timeout=10)
    # Repeats from one contact within the group window update one signal.
    [grouped] = await email_signals(client, org)
    assert (grouped["title"], grouped["count"]) == ("お見積もりのご依頼 2", 3)
    assert (await report_total(client, org))["total"]["received"] == 3
    # BODY.PEEK: nothing was marked \Seen by the listener.
    imap = aioimaplib.IMAP4("127.0.0.1", dovecot.port, timeout=5)
    await imap.wait_hello_from_server()
    assert (await imap.login(user.address, user.password)).result == "OK"
    await imap.select("INBOX")
    flags = await imap.fetch("1:*", "(FLAGS)")
    assert flags.result == "OK" and not any(b"\\Seen" in line for line in flags.lines if isinstance(line, bytes))
    await imap.logout()
    await feed.ws.close()


async def test_reply_is_replied_once_and_out_of_office_is_not(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
    aredis: Redis,
) -> None:
    """A reply to a sent mail → email.replied to the sender of the notification (not the mailbox owner),
    counted once per notification; an out-of-office answer to it is not a reply and makes no signal."""
    user = dovecot.add_user()
    procs.imap(redis_server.url, **imap_env(dovecot, user, org.id, "u1"))
    message_id = await sent_notification(aredis, org.id, "n_reply1", user="u2")
    await listening(sync_redis, dovecot, user, org.id)
    feed = await live_feed(gateway, org.tokens["u2"])
    ooo = {"In-Reply-To": f"<{message_id}>", "Auto-Submitted": "auto-replied"}
    await dovecot.adeliver(user, mail("自動返信: ご提案の件", headers=ooo, body="1月20日まで不在にしております。"))
    await dovecot.adeliver(user, mail("【自動返信】不在のお知らせ", headers={"In-Reply-To": f"<{message_id}>"}))
    started = time.monotonic()
    reply_headers = {"In-Reply-To": f"<{message_id}>", "References": f"<root@x.example> <{message_id}>"}
    body = "承知しました。金曜日で大丈夫です。\r\n\r\n> ご提案の件、ご確認ください。"
    await dovecot.adeliver(user, mail("Re: ご提案の件", headers=reply_headers, body=body))
    sig, took = await timed_signal(feed, "email.replied", started)
    assert sig["user"] == "u2" and sig["contact"]["id"] == "c-yamada"
    assert sig["title"] == "Re: ご提案の件" and sig["body"] == "承知しました。金曜日で大丈夫です。"
    assert sig["data"]["notification"] == "n_reply1"
    assert took <= LIVE_SECONDS * FACTOR
    # The two auto-replies came first and made nothing; a second real reply is a signal but not a new count.
    await dovecot.adeliver(user, mail("Re: ご提案の件 (2)", headers=reply_headers))
    await feed.signal("email.replied", timeout=10)
    await wait_for(lambda: sync_redis.hget(keys.stats(org.id), "auto_reply:imap.mail") == "2", timeout=10)
    assert await email_signals(client, org, "u1") == []
    report = await report_total(client, org)
    assert report["total"]["replied"] == 1
    assert (
        report["templates"] == [{"template": "t1", **report["templates"][0]}] and report["templates"][0]["replied"] == 1
    )
    await feed.ws.close()


async def test_dsn_hard_and_soft_bounce_the_notification(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
    aredis: Redis,
) -> None:
    """DSNs about sent mail: 5.x.x → email.bounced hard, 4.x.x failed → soft, both status bounced and
    counted; a 4.x.x 'delayed' warning signals soft but leaves the status; a DSN about unknown mail is counted."""
    user = dovecot.add_user()
    procs.imap(redis_server.url, **imap_env(dovecot, user, org.id, "u1"))
    hard = await sent_notification(aredis, org.id, "n_hard", user="u1")
    soft = await sent_notification(aredis, org.id, "n_soft", user="u1")
    delayed = await sent_notification(aredis, org.id, "n_delay", user="u1")
    await listening(sync_redis, dovecot, user, org.id)
    feed = await live_feed(gateway, org.tokens["u1"])
    notes = Notifications(aredis, load_scripts(aredis))
    cases = [(hard, "5.1.1", "failed", "hard", "n_hard"), (soft, "4.2.2", "failed", "soft", "n_soft")]
    for message_id, status, action, bounce, nid in cases:
        started = time.monotonic()
        await dovecot.adeliver(user, dsn(message_id, status=status, action=action), sender="")
        sig, took = await timed_signal(feed, "email.bounced", started)
        assert sig["data"]["bounce"] == bounce and sig["data"]["status"] == status and sig["data"]["final"] is True
        assert sig["data"]["notification"] == nid and sig["title"] == "Email to 山田 太郎 bounced"
        assert sig["data"]["recipient"] == "yamada@client.example.jp"
        assert took <= LIVE_SECONDS * FACTOR
        rec = await notes.get(org.id, nid)
        assert rec is not None and rec["status"] == "bounced" and rec["bounce"] == bounce
        assert (await notes.history(org.id, nid))[-1]["reason"].startswith(f"{bounce} {status}")
    await dovecot.adeliver(user, dsn(delayed, status="4.4.1", action="delayed"), sender="")
    sig = await feed.signal("email.bounced", timeout=10)
    assert sig["data"]["bounce"] == "soft" and sig["data"]["final"] is False
    assert (await notes.get(org.id, "n_delay") or {})["status"] == "sent"
    await dovecot.adeliver(user, dsn("never-sent@elsewhere.example", status="5.1.1", action="failed"), sender="")
    await wait_for(lambda: sync_redis.hget(keys.stats(org.id), "unmatched:imap.mail") == "1", timeout=10)
    assert (await report_total(client, org))["total"]["bounced"] == 2
    await feed.ws.close()


async def test_dsn_hard_bounce_suppresses_the_address(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
    aredis: Redis,
) -> None:
    """A final 5.x.x DSN puts the address the mail went to on the org's suppression list; a 4.x.x does not."""
    user = dovecot.add_user()
    procs.imap(redis_server.url, **imap_env(dovecot, user, org.id, "u1"))
    notes = Notifications(aredis, load_scripts(aredis))
    ids = {}
    for nid, address in (("n_sup_hard", "gone@client.example.jp"), ("n_sup_soft", "full@client.example.jp")):
        ids[nid] = await sent_notification(aredis, org.id, nid, user="u1")
        await aredis.hset(keys.notification(org.id, nid), "recipient", address)  # as the email worker records it
    await listening(sync_redis, dovecot, user, org.id)
    await dovecot.adeliver(user, dsn(ids["n_sup_soft"], status="4.2.2", action="failed"), sender="")
    await dovecot.adeliver(user, dsn(ids["n_sup_hard"], status="5.1.1", action="failed"), sender="")

    async def suppressed() -> list[dict[str, str]] | None:
        r = await client.get(f"/api/v1/orgs/{org.id}/suppressions", headers=gateway.admin)
        entries: list[dict[str, str]] = r.json()["suppressions"]
        return entries or None

    [entry] = await wait_for(suppressed, timeout=15)
    assert (entry["address"], entry["reason"]) == ("gone@client.example.jp", "dsn_5.1.1")
    await wait_for(lambda: sync_redis.hget(keys.notification(org.id, "n_sup_soft"), "status") == "bounced", timeout=10)
    assert [e["address"] for e in await suppressed() or []] == ["gone@client.example.jp"]
    assert (await notes.get(org.id, "n_sup_hard") or {})["status"] == "bounced"


async def test_malformed_mail_never_stops_the_listener(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """Garbage without headers, broken MIME and charsets, a 3 MiB message: each is handled or skipped,
    and later mail is still processed."""
    user = dovecot.add_user()
    procs.imap(redis_server.url, **imap_env(dovecot, user, org.id, "u1"))
    await listening(sync_redis, dovecot, user, org.id)
    feed = await live_feed(gateway, org.tokens["u1"])
    imap = aioimaplib.IMAP4("127.0.0.1", dovecot.port, timeout=5)  # APPEND stores bytes as they are
    await imap.wait_hello_from_server()
    assert (await imap.login(user.address, user.password)).result == "OK"
    assert (await imap.append(b"\x00\x01\x02 not a mail at all \xff\xfe", mailbox="INBOX")).result == "OK"
    broken = (
        b"From: =?utf-8?B?!!!?= <Yamada@Client.example.jp>\r\nSubject: =?x-unknown?Q?=FF?= \xff\xfe\r\n"
        b'Content-Type: multipart/mixed; boundary="never"\r\n\r\n--never\r\nContent-Type: text/plain; '
        b"charset=x-bogus\r\n\r\n\x82\xa0\x82\xa2 broken"
    )
    assert (await imap.append(broken, mailbox="INBOX")).result == "OK"
    await imap.logout()
    await feed.signal("email.received", timeout=10)  # the broken-but-readable one
    huge = mail("大きな添付", body="先頭の本文。" + "x" * (3 * 1024 * 1024))
    await dovecot.adeliver(user, huge)
    sig = await feed.signal("email.received", timeout=15)
    assert sig["title"] == "大きな添付" and sig["body"].startswith("先頭の本文。")
    await dovecot.adeliver(user, mail("まだ届きます"))
    assert (await feed.signal("email.received", timeout=10))["title"] == "まだ届きます"
    mid = box_id(dovecot, user, org.id)
    assert sync_redis.hget(keys.imap_checkpoint(org.id, mid), "uid") == str(dovecot.status(user)["uidnext"] - 1)
    assert "skipped unparseable message UID 1 (no headers)" in log_text(procs)
    await feed.ws.close()


# --- outages and restarts --------------------------------------------------------------------------


async def test_gateway_down_while_mail_arrives_then_exactly_once(
    dovecot: Dovecot, fresh_redis: RedisServer, procs: Processes
) -> None:
    """`signalgate up` stopped, 5 mails arrive, started → exactly 5 signals; restarted again → none repeated."""
    user = dovecot.add_user()
    org_id = "imap-" + uuid.uuid4().hex[:8]
    env = {**imap_env(dovecot, user, org_id, "u1"), "SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS": "0"}
    gw, proc = procs.serve(fresh_redis.url, with_router=True, **env)
    r = redis_sync.Redis.from_url(fresh_redis.url, decode_responses=True)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, gw, org_id)
        await listening(r, dovecot, user, org_id)
        await dovecot.adeliver(user, mail("before"))
        await wait_for(lambda: _titles(client, org, 1), timeout=10)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    for i in range(5):
        await dovecot.adeliver(user, mail(f"while down {i}"))
    gw, proc = procs.serve(fresh_redis.url, with_router=True, **env)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        await wait_for(lambda: _titles(client, org, 6), timeout=20)
        await asyncio.sleep(1.5 * FACTOR)  # a repeat would show up by now
        expected = ["before", *(f"while down {i}" for i in range(5))]
        assert sorted(await _all_titles(client, org)) == sorted(expected)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    gw, proc = procs.serve(fresh_redis.url, with_router=True, **env)
    await listening(r, dovecot, user, org_id)
    await asyncio.sleep(2 * FACTOR)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        assert sorted(await _all_titles(client, org)) == sorted(expected)
    r.close()


async def _all_titles(client: httpx.AsyncClient, org: OrgCtx) -> list[str]:
    return [s["title"] for s in await email_signals(client, org)]


async def _titles(client: httpx.AsyncClient, org: OrgCtx, n: int) -> bool:
    return len(await _all_titles(client, org)) >= n


async def test_dovecot_restarted_mid_idle_reconnects_and_catches_up(
    own_dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """Every Dovecot process killed while the listener idles; mail arrives meanwhile (straight into the
    Maildir, as an MTA does); after the restart the listener reconnects and delivers it, then live mail."""
    server = own_dovecot
    user = server.add_user()
    procs.imap(redis_server.url, **imap_env(server, user, org.id, "u1"))
    await listening(sync_redis, server, user, org.id)
    feed = await live_feed(gateway, org.tokens["u1"])
    await server.adeliver(user, mail("before restart"))
    assert (await feed.signal("email.received"))["title"] == "before restart"
    server.stop()
    server.drop_into_maildir(user, mail("while dovecot was down"))
    await asyncio.sleep(1.0)
    server.start()
    assert (await feed.signal("email.received", timeout=15))["title"] == "while dovecot was down"
    await server.adeliver(user, mail("after restart"))
    assert (await feed.signal("email.received", timeout=10))["title"] == "after restart"
    assert "ImapConnectionLost" in log_text(procs)
    await feed.ws.close()


async def test_frozen_dovecot_is_detected_by_the_heartbeat(
    own_dovecot: Dovecot, redis_server: RedisServer, procs: Processes, sync_redis: redis_sync.Redis
) -> None:
    """Dovecot SIGSTOPped (the connection stays open, nothing answers): the NOOP heartbeat times out,
    the listener reconnects once Dovecot runs again, and mail flows; metrics show it."""
    server = own_dovecot
    user = server.add_user()
    org_id = "imap-" + uuid.uuid4().hex[:8]
    gw, _ = procs.serve(redis_server.url, with_router=True, **imap_env(server, user, org_id, "u1"))
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, gw, org_id)
        await listening(sync_redis, server, user, org_id)
        mid = box_id(server, user, org_id)
        feed = await live_feed(gw, org.tokens["u1"])
        await server.adeliver(user, mail("before freeze"))
        assert (await feed.signal("email.received"))["title"] == "before freeze"

        async def scrape(name: str) -> float:
            return metric((await client.get("/metrics")).text, name, mid)

        await wait_for(lambda: _positive(scrape("signalgate_imap_idle_restarts_total")), timeout=10)
        assert await scrape("signalgate_imap_mailboxes_connected") == 1
        reconnects = await scrape("signalgate_imap_reconnects_total")
        frozen_at = time.monotonic()
        server.freeze()
        await wait_for(lambda: _above(scrape("signalgate_imap_reconnects_total"), reconnects), timeout=15)
        detected = time.monotonic() - frozen_at
        print(f"\nfrozen Dovecot detected after {detected:.1f} s (heartbeat 1 s + timeout {2 * FACTOR:.0f} s)")
        assert await scrape("signalgate_imap_mailboxes_connected") == 0
        server.thaw()
        await server.adeliver(user, mail("after thaw"))
        assert (await feed.signal("email.received", timeout=20))["title"] == "after thaw"
        assert await scrape("signalgate_imap_mailboxes_connected") == 1
        assert await scrape("signalgate_imap_messages_processed_total") == 2
        await feed.ws.close()


async def _positive(value: Any) -> bool:
    return bool(await value > 0)


async def _above(value: Any, floor: float) -> bool:
    return bool(await value > floor)


async def test_uidvalidity_change_does_not_flood(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """Old mail at first start and after UIDVALIDITY changes makes no signals; mail that arrived
    while nothing listened, newer than the checkpoint, is still delivered once."""
    user = dovecot.add_user()
    for i in range(3):
        dovecot.deliver(user, mail(f"old {i}"))
    env = imap_env(dovecot, user, org.id, "u1")
    listener = procs.imap(redis_server.url, **env)
    await listening(sync_redis, dovecot, user, org.id)
    feed = await live_feed(gateway, org.tokens["u1"])
    await dovecot.adeliver(user, mail("A"))
    assert (await feed.signal("email.received"))["title"] == "A"
    await asyncio.sleep(1.1)  # INTERNALDATE has one-second resolution
    dovecot.set_uidvalidity(user, 1000 + int(time.time()) % 100000)  # while connected: Dovecot drops us
    await wait_for(lambda: "re-baselined" in log_text(procs), timeout=15)
    await dovecot.adeliver(user, mail("B", sender="suzuki@partner.example.com", name="鈴木 美咲"))
    assert (await feed.signal("email.received", timeout=10))["title"] == "B"
    listener.send_signal(signal.SIGTERM)
    assert listener.wait(15) == 0
    await asyncio.sleep(1.1)
    await dovecot.adeliver(user, mail("C while down", sender="jane@acme.example.com", name="Jane Smith"))
    dovecot.set_uidvalidity(user, 2000 + int(time.time()) % 100000)
    procs.imap(redis_server.url, **env)
    assert (await feed.signal("email.received", timeout=15))["title"] == "C while down"
    await asyncio.sleep(1.5 * FACTOR)
    # One contact per mail, so a replayed old mail would show up as a count above 1.
    signals = await email_signals(client, org)
    assert sorted((s["title"], s["count"]) for s in signals) == [("A", 1), ("B", 1), ("C while down", 1)]
    await feed.ws.close()


async def test_two_listener_processes_one_listens_the_other_takes_over(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
) -> None:
    """Two `signalgate imap` processes: one holds the lease and the only IMAP connection; SIGKILL it and
    the standby takes over within the lease time. Passwords never reach the logs, even at debug level."""
    password = f's3cr"et\\pw-{uuid.uuid4().hex[:6]}'
    user = dovecot.add_user(password)
    env = {**imap_env(dovecot, user, org.id, "u1"), "SIGNALGATE_GATEWAY_LOG_LEVEL": "debug"}
    lease_key = keys.imap_lease(org.id, box_id(dovecot, user, org.id))
    first = procs.imap(redis_server.url, **env)
    await listening(sync_redis, dovecot, user, org.id)
    second = procs.imap(redis_server.url, **env)
    assert f":{first.pid}:" in (sync_redis.get(lease_key) or "")
    await asyncio.sleep(2.5 * FACTOR)  # more than a lease length: the standby never connects
    assert f":{first.pid}:" in (sync_redis.get(lease_key) or "")
    assert dovecot.connections(user) == 1
    feed = await live_feed(gateway, org.tokens["u1"])
    await dovecot.adeliver(user, mail("one listener"))
    assert (await feed.signal("email.received"))["title"] == "one listener"
    first.send_signal(signal.SIGKILL)
    first.wait()
    killed = time.monotonic()
    await wait_for(lambda: f":{second.pid}:" in (sync_redis.get(lease_key) or ""), timeout=10)
    print(f"\nstandby took the mailbox over {time.monotonic() - killed:.1f} s after SIGKILL (lease 2 s)")
    await dovecot.adeliver(user, mail("after takeover", sender="jane@acme.example.com", name="Jane Smith"))
    assert (await feed.signal("email.received", timeout=10))["title"] == "after takeover"
    await wait_for(lambda: dovecot.connections(user) == 1, timeout=10)
    signals = await email_signals(client, org)
    assert sorted((s["title"], s["count"]) for s in signals) == [("after takeover", 1), ("one listener", 1)]
    logs = log_text(procs)
    assert "DEBUG" in logs and password not in logs and password.replace('"', '\\"') not in logs
    await feed.ws.close()


async def test_implicit_tls_and_starttls_with_verified_certificates(
    org: OrgCtx, gateway: Gateway, procs: Processes, redis_server: RedisServer, sync_redis: redis_sync.Redis
) -> None:
    """One process, three mailboxes: implicit TLS and STARTTLS with the server's CA listen and deliver;
    the same server without its CA is refused (certificates are always verified), and the others go on."""
    server = Dovecot(tls=True)
    try:
        implicit, starttls, untrusted = server.add_user(), server.add_user(), server.add_user()
        env = {
            **imap_env(
                server, implicit, org.id, "u1", 0, tls="implicit", port=str(server.tls_port), ca_file=server.ca_file
            ),
            **imap_env(server, starttls, org.id, "u1", 1, tls="starttls", ca_file=server.ca_file),
            **imap_env(server, untrusted, org.id, "u1", 2, tls="implicit", port=str(server.tls_port)),
        }
        procs.imap(redis_server.url, **env)
        feed = await live_feed(gateway, org.tokens["u1"])
        for user, sender, name in (
            (implicit, "Yamada@Client.example.jp", "山田"),
            (starttls, "jane@acme.example.com", "J"),
        ):
            mid = mailbox_id(
                org.id, "127.0.0.1", server.tls_port if user is implicit else server.port, user.address, "INBOX"
            )
            await wait_for(lambda: sync_redis.exists(keys.imap_checkpoint(org.id, mid)), timeout=20)  # noqa: B023
            await server.adeliver(user, mail(f"over {user.address}", sender=sender, name=name))
            assert (await feed.signal("email.received", timeout=10))["title"] == f"over {user.address}"
        assert server.connections(untrusted) == 0
        assert "CERTIFICATE_VERIFY_FAILED" in log_text(procs)
        await feed.ws.close()
    finally:
        server.close()


# --- dropbox mode ----------------------------------------------------------------------------------


async def test_dropbox_attaches_activity_and_creates_leads(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
    aredis: Redis,
) -> None:
    """A BCC copy from a rep: each To/Cc contact gets the mail as activity, an unknown recipient becomes a
    lead owned by the sender (when the org allows it), colleagues are skipped, nobody gets a signal; mail
    from outside the org is refused."""
    admin = gateway.admin
    for uid, email in (("u1", "sato@example.test"), ("u2", "tanaka@example.test")):
        r = await client.put(f"/api/v1/orgs/{org.id}/users/{uid}", json={"email": email}, headers=admin)
        assert r.status_code == 200, r.text
    r = await client.put(f"/api/v1/orgs/{org.id}", json={"allow_lead_creation": True}, headers=admin)
    assert r.status_code == 200, r.text
    user = dovecot.add_user()
    procs.imap(redis_server.url, **imap_env(dovecot, user, org.id, "u1", mode="dropbox"))
    await listening(sync_redis, dovecot, user, org.id)
    copy = mail(
        "ご提案資料の送付",
        sender="Sato@Example.test",
        name="佐藤 花子",
        to="山田様 <yamada@client.example.jp>",
        body="資料をお送りします。",
        headers={
            "Cc": "jane@acme.example.com, =?utf-8?B?5paw6KaP?= <New.Lead@Prospect.example.org>, tanaka@example.test"
        },
    )
    await dovecot.adeliver(user, copy, sender="sato@example.test")
    activity = Activity(aredis)
    store = Tenancy(aredis, load_scripts(aredis))
    await wait_for(lambda: store.contact_by_email(org.id, "new.lead@prospect.example.org"), timeout=10)
    lead = await store.contact_by_email(org.id, "new.lead@prospect.example.org")
    assert lead is not None and lead["kind"] == "lead" and lead["owner"] == "u1" and lead["name"] == "新規"
    for cid in ("c-yamada", "c-smith", lead["id"]):
        await wait_for(lambda: sync_redis.zcard(keys.activity(org.id, cid)), timeout=10)  # noqa: B023
        [entry] = await activity.newest(org.id, cid, 10)
        assert entry["subject"] == "ご提案資料の送付" and entry["direction"] == "outbound" and entry["user"] == "u1"
        assert entry["from"] == "sato@example.test" and entry["snippet"] == "資料をお送りします。"
    assert await store.contact_by_email(org.id, "tanaka@example.test") is None  # a colleague, not a lead
    outsider = mail("spam", sender="someone@spam.example", to="victim@prospect.example.org")
    await dovecot.adeliver(user, outsider)
    await wait_for(lambda: sync_redis.hget(keys.stats(org.id), "dropbox_refused:imap.mail") == "1", timeout=10)
    r = await client.put(f"/api/v1/orgs/{org.id}", json={"allow_lead_creation": False}, headers=admin)
    assert r.status_code == 200
    await dovecot.adeliver(user, mail("no leads now", sender="sato@example.test", to="nobody@prospect.example.org"))
    await wait_for(lambda: sync_redis.hget(keys.stats(org.id), "dropbox_unknown:imap.mail") == "1", timeout=10)
    assert await store.contact_by_email(org.id, "nobody@prospect.example.org") is None
    assert await store.contact_by_email(org.id, "victim@prospect.example.org") is None
    assert await email_signals(client, org, "u1") == [] and await email_signals(client, org, "u2") == []


async def test_dropbox_takes_extra_senders_and_creates_contacts_per_org(
    dovecot: Dovecot,
    org: OrgCtx,
    gateway: Gateway,
    client: httpx.AsyncClient,
    procs: Processes,
    redis_server: RedisServer,
    sync_redis: redis_sync.Redis,
    aredis: Redis,
) -> None:
    """A rep's alias (one of at most 5 extra_senders, stored lower-case) is the rep: the copy is attached
    to the contact as theirs; with dropbox_create "contact" an unknown recipient becomes a contact; an
    address that is nobody's alias is refused; a sixth alias is refused by the API."""
    admin = gateway.admin
    aliases = ["Sato.Hanako@Alias.example", "s.h@home.example"]
    r = await client.put(
        f"/api/v1/orgs/{org.id}/users/u1", json={"email": "sato@example.test", "extra_senders": aliases}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["extra_senders"] == ["sato.hanako@alias.example", "s.h@home.example"]
    six = [f"a{i}@alias.example" for i in range(6)]
    r = await client.put(f"/api/v1/orgs/{org.id}/users/u1", json={"extra_senders": six}, headers=admin)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_field")
    r = await client.put(
        f"/api/v1/orgs/{org.id}", json={"allow_lead_creation": True, "dropbox_create": "contact"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["dropbox_create"] == "contact", r.text
    user = dovecot.add_user()
    procs.imap(redis_server.url, **imap_env(dovecot, user, org.id, "u1", mode="dropbox"))
    await listening(sync_redis, dovecot, user, org.id)
    copy = mail(
        "お見積りの件",
        sender="sato.hanako@alias.example",
        name="佐藤 花子",
        to="山田様 <yamada@client.example.jp>, 新井 <arai@prospect.example.org>",
    )
    await dovecot.adeliver(user, copy, sender="sato.hanako@alias.example")
    store = Tenancy(aredis, load_scripts(aredis))
    await wait_for(lambda: store.contact_by_email(org.id, "arai@prospect.example.org"), timeout=10)
    created = await store.contact_by_email(org.id, "arai@prospect.example.org")
    assert created is not None and (created["kind"], created["owner"], created["name"]) == ("contact", "u1", "新井")
    activity = Activity(aredis)
    for cid in ("c-yamada", created["id"]):
        await wait_for(lambda: sync_redis.zcard(keys.activity(org.id, cid)), timeout=10)  # noqa: B023
        [entry] = await activity.newest(org.id, cid, 10)
        assert (entry["subject"], entry["user"], entry["from"]) == ("お見積りの件", "u1", "sato.hanako@alias.example")
    await dovecot.adeliver(user, mail("alias?", sender="sato.other@alias.example", to="kato@prospect.example.org"))
    await wait_for(lambda: sync_redis.hget(keys.stats(org.id), "dropbox_refused:imap.mail") == "1", timeout=10)
    assert await store.contact_by_email(org.id, "kato@prospect.example.org") is None
    assert await email_signals(client, org, "u1") == []


# --- latency -----------------------------------------------------------------------------------------


async def test_latency_over_200_mails(dovecot: Dovecot, fresh_redis: RedisServer, procs: Processes) -> None:
    """Delivery (dovecot-lda) → WebSocket signal latency over 200 mails arriving ~20/s: p50 and p99."""
    user = dovecot.add_user()
    org_id = "imap-" + uuid.uuid4().hex[:8]
    env = {
        **imap_env(dovecot, user, org_id, "u1", heartbeat_seconds="30"),
        "SIGNALGATE_SIGNALS_GROUP_WINDOW_SECONDS": "0",
    }
    gw, _ = procs.serve(fresh_redis.url, with_router=True, **env)
    r = redis_sync.Redis.from_url(fresh_redis.url, decode_responses=True)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, gw, org_id)
    await listening(r, dovecot, user, org_id)
    r.close()
    feed = await live_feed(gw, org.tokens["u1"])
    n = 200
    sent: dict[str, float] = {}
    received: dict[str, float] = {}

    async def collect() -> None:
        while len(received) < n:
            sig = await feed.signal("email.received", timeout=30)
            received.setdefault(sig["title"], time.monotonic())

    collector = asyncio.create_task(collect())
    for i in range(n):
        title = f"latency {i}"
        sent[title] = time.monotonic()
        await dovecot.adeliver(user, mail(title))
        await asyncio.sleep(0.02)
    await asyncio.wait_for(collector, 60 * FACTOR)
    latencies = sorted(received[t] - sent[t] for t in sent)
    p50 = statistics.median(latencies)
    p99 = latencies[int(0.99 * n) - 1]
    result = {
        "mails": n,
        "p50_ms": round(p50 * 1000),
        "p99_ms": round(p99 * 1000),
        "max_ms": round(latencies[-1] * 1000),
    }
    print("\nIMAP delivery → signal latency:", json.dumps(result))
    assert p50 <= LIVE_SECONDS * FACTOR
    assert p99 <= 3.0 * FACTOR
    await feed.ws.close()


# --- the activity endpoint ---------------------------------------------------------------------------


async def test_activity_endpoint(redis_server: RedisServer) -> None:
    """GET /api/v1/orgs/{org}/contacts/{id}/activity: admin only, newest first, limit, 404 for unknown."""

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    config = load_config(None, {"SIGNALGATE_GATEWAY_ADMIN_TOKEN": "adm"})
    async with open_services(config, redis_url=redis_server.url) as services:
        starlette = Starlette(routes=api_activity.routes, exception_handlers={ApiError: api_error})

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await starlette({**scope, "state": {"services": services}}, receive, send)

        await _activity_endpoint(app, services.tenancy, services.activity)


async def _activity_endpoint(app: ASGIApp, store: Tenancy, activity: Activity) -> None:
    org_id = "act-" + uuid.uuid4().hex[:8]
    await store.put_org({"id": org_id, "name": "x", "timezone": "Asia/Tokyo"})
    await store.put_contact(
        org_id, {"id": "c1", "kind": "lead", "name": "n", "emails": [], "phones": [], "owner": None}
    )
    for i in range(3):
        await activity.add(org_id, "c1", {"id": f"e{i}", "subject": f"s{i}"}, 1_700_000_000_000 + i)
    await activity.add(org_id, "c1", {"id": "e2", "subject": "s2"}, 1_700_000_000_002)  # a replay: no duplicate
    admin = {"Authorization": "Bearer adm"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get(f"/api/v1/orgs/{org_id}/contacts/c1/activity", headers=admin)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "contact": "c1",
            "total": 3,
            "activity": [{"id": f"e{i}", "subject": f"s{i}"} for i in (2, 1, 0)],
        }
        r = await c.get(f"/api/v1/orgs/{org_id}/contacts/c1/activity?limit=1", headers=admin)
        assert [e["id"] for e in r.json()["activity"]] == ["e2"]
        assert (await c.get(f"/api/v1/orgs/{org_id}/contacts/c1/activity?limit=0", headers=admin)).status_code == 400
        assert (await c.get(f"/api/v1/orgs/{org_id}/contacts/nope/activity", headers=admin)).status_code == 404
        assert (await c.get(f"/api/v1/orgs/{org_id}/contacts/c1/activity")).status_code == 401
        assert (
            await c.get(f"/api/v1/orgs/{org_id}/contacts/c1/activity", headers={"Authorization": "Bearer x"})
        ).status_code == 401


# --- the lease and checkpoint scripts ----------------------------------------------------------------


async def test_lease_and_checkpoint_scripts_under_concurrency(aredis: Redis) -> None:
    """20 processes race for a mailbox: one lease; only its holder moves the checkpoint, only forward."""
    org, box = "lease-" + uuid.uuid4().hex[:8], "mb-test"
    scripts = load_scripts(aredis)
    leases = [Lease(aredis, scripts, org, box, 5000) for _ in range(20)]
    won = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert won.count(True) == 1
    holder = leases[won.index(True)]
    other = leases[(won.index(True) + 1) % 20]
    assert await holder.holder() == holder.token
    assert not await other.renew()
    await other.release()  # not the holder: changes nothing
    assert await holder.holder() == holder.token and await holder.acquire()

    mine = Checkpoints(aredis, scripts, org, box, holder)
    stale = Checkpoints(aredis, scripts, org, box, other)
    await mine.reset(7, 0, None)
    uids = list(range(1, 101))
    random.Random(1).shuffle(uids)
    moved = await asyncio.gather(*(mine.advance(7, uid, 1_000 * uid) for uid in uids))
    assert await mine.get() == Checkpoint(7, 100, 100_000)
    assert moved.count(True) >= 1 and not await mine.advance(7, 50, 1)  # never back
    with pytest.raises(LeaseLost):
        await stale.advance(7, 101, None)
    with pytest.raises(ValidityChanged):
        await mine.advance(8, 101, None)
    await holder.release()
    assert await holder.holder() is None and await other.acquire()
    with pytest.raises(LeaseLost):
        await mine.advance(7, 101, None)  # the old holder cannot write after losing the lease
