"""Supervision with real processes: Redis trouble never stops a part for good, /healthz tells the truth,
and every process kind answers /healthz and /metrics."""

from __future__ import annotations

import asyncio
import functools
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
import redis as redis_sync

from gateway.devtools.net import free_port
from gateway.devtools.twilio_api import TwilioApi
from gateway.ingest.imap.rules import mailbox_id
from gateway.store import keys
from tests.support.api import Gateway, OrgCtx, post_event, provision_org, signals_of
from tests.support.imap import Dovecot, imap_env, mail
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.sending import SmtpServer, email_template, notify, provision_sending_org, settled
from tests.support.streams import webhook_stream
from tests.support.timing import FACTOR, wait_for

CONTACT = {"id": "c-yamada"}


def _health(base: str) -> tuple[int, dict[str, Any]]:
    try:
        r = httpx.get(base + "/healthz", timeout=3 * FACTOR)
    except httpx.HTTPError as exc:
        return 0, {"error": str(exc)}
    return r.status_code, r.json()


async def _health_is(base: str, status: int, **parts: str) -> dict[str, Any]:
    """Wait until /healthz answers ``status`` with these part states (a prefix of each); its body."""

    def check() -> dict[str, Any] | None:
        code, body = _health(base)
        got = body.get("parts", {})
        if code == status and all(str(got.get(p, "")).startswith(v) for p, v in parts.items()):
            return body
        return None

    result: dict[str, Any] = await wait_for(lambda: asyncio.to_thread(check), timeout=15, interval=0.2)
    return result


def _partition(org: str) -> int:
    """The partition of ``org``'s events about CONTACT."""
    return int(webhook_stream(org, CONTACT).split("{p:")[1].split("}")[0])


def _orgs_on_every_partition() -> list[str]:
    """One org id per partition (for events about CONTACT), so that a check covers every partition loop."""
    by_partition: dict[int, str] = {}
    while len(by_partition) < keys.PARTITIONS:
        org = "sv-" + uuid.uuid4().hex[:10]
        by_partition.setdefault(_partition(org), org)
    return [by_partition[p] for p in range(keys.PARTITIONS)]


async def _routed(client: httpx.AsyncClient, org: OrgCtx, title: str) -> bool:
    return any(s["title"] == title for s in (await signals_of(client, org, limit=50))["signals"])


async def test_stream_deleted_under_a_blocked_read_does_not_stop_the_router(
    fresh_redis: RedisServer, procs: Processes
) -> None:
    """Deleting the partition streams under blocked XREADGROUPs (UNBLOCKED): the router recreates its
    groups, keeps routing every partition, and its /healthz stays ok."""
    gw, _ = procs.serve(fresh_redis.url)
    health_port = free_port()
    # Long blocking reads: each partition loop is inside XREADGROUP when its stream goes.
    procs.router(fresh_redis.url, SIGNALGATE_ROUTER_BLOCK_MS="5000", SIGNALGATE_GATEWAY_HEALTH_PORT=str(health_port))
    router = f"http://127.0.0.1:{health_port}"
    await _health_is(router, 200, redis="ok", router="ok")
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        orgs = [await provision_org(client, gw, org_id) for org_id in _orgs_on_every_partition()]
        await post_event(client, orgs[0], {"type": "desk.ticket", "contact": CONTACT, "title": "before"})
        await wait_for(lambda: _routed(client, orgs[0], "before"), timeout=10)
        await asyncio.sleep(0.5 * FACTOR)  # every loop is back in its blocking read
        sync = redis_sync.Redis.from_url(fresh_redis.url, decode_responses=True)
        try:
            assert sync.delete(*(keys.events_stream(p) for p in range(keys.PARTITIONS))) == keys.PARTITIONS
        finally:
            sync.close()
        await asyncio.sleep(1.0 * FACTOR)
        for org in orgs:
            r = await post_event(client, org, {"type": "desk.ticket", "contact": CONTACT, "title": "after"})
            assert r.status_code == 202, r.text
        routed = await asyncio.gather(*(wait_for(functools.partial(_routed, client, org, "after"), 10) for org in orgs))
        assert all(routed)
    body = await _health_is(router, 200)
    assert body == {"status": "ok", "parts": {"redis": "ok", "router": "ok", "waker": "ok"}}


def _up_env(twilio: TwilioApi, smtp: SmtpServer) -> dict[str, str]:
    return {
        "SIGNALGATE_TWILIO_API_BASE": twilio.base_url,
        "SIGNALGATE_SMTP_HOST": smtp.host,
        "SIGNALGATE_SMTP_PORT": str(smtp.port),
        "SIGNALGATE_SMTP_FROM_ADDRESS": "sales@signalgate.example.jp",
        "SIGNALGATE_SMTP_TIMEOUT": "5",
        "SIGNALGATE_WORKER_JOB_TIMEOUT": "6",
    }


async def _send_mail(client: httpx.AsyncClient, gw: Gateway, org: Any, template: str) -> dict[str, Any]:
    body = {"channel": "email", "template": template, "to": {"contact": "c-yamada"}, "data": {"name": "山田"}}
    n = await notify(client, org, body)
    done = await settled(client, org, n["id"], timeout=20)
    return done


async def _mail_routed(client: httpx.AsyncClient, org: OrgCtx, subject: str) -> bool:
    signals = (await signals_of(client, org, limit=50))["signals"]
    return any(s["type"] == "email.received" and s["title"] == subject for s in signals)


async def test_redis_restart_degrades_healthz_then_everything_resumes(
    procs: Processes, twilio_api: TwilioApi, smtp_server: SmtpServer
) -> None:
    """Redis stopped: /healthz 503 naming redis. Started again (same port, same AOF): 200 within seconds,
    and the in-process router, arq worker and IMAP listener work again (an event is routed, an email
    is sent, a mail becomes a signal)."""
    redis = RedisServer(data_dir=tempfile.mkdtemp(prefix="sg-test-redis-"))
    dovecot = Dovecot()
    try:
        org_id = "s-" + uuid.uuid4().hex[:12]
        user = dovecot.add_user()
        env = {**_up_env(twilio_api, smtp_server), **imap_env(dovecot, user, org_id, "u1")}
        gw, _ = procs.serve(redis.url, with_router=True, **env)
        body = await _health_is(gw.base_url, 200)
        assert body["parts"] == {
            "redis": "ok",
            "http": "ok",
            "hub": "ok",
            "router": "ok",
            "waker": "ok",
            "worker": "ok",
            "imap": "ok",
        }
        async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
            org = await provision_sending_org(client, gw, twilio_api, org_id=org_id)
            template = await email_template(client, org, "{{ name }}様", "<p>{{ name }}様 ご案内です</p>")
            assert (await _send_mail(client, gw, org, template))["status"] == "sent"
            await dovecot.adeliver(user, mail("before the outage"))
            await wait_for(lambda: _mail_routed(client, org.ctx, "before the outage"), timeout=15)

            redis.stop()
            down = await _health_is(gw.base_url, 503, redis="down")
            assert down["status"] == "degraded"
            await asyncio.sleep(3 * FACTOR)  # long enough for every part to hit the outage

            redis.start()
            loop = asyncio.get_running_loop()
            restarted = loop.time()
            body = await _health_is(gw.base_url, 200)
            assert loop.time() - restarted < 8 * FACTOR
            assert set(body["parts"].values()) == {"ok"}

            r = await post_event(client, org.ctx, {"type": "desk.ticket", "contact": CONTACT, "title": "after restart"})
            assert r.status_code == 202, r.text
            await wait_for(lambda: _routed(client, org.ctx, "after restart"), timeout=10)
            sent = await _send_mail(client, gw, org, template)
            assert sent["status"] == "sent", sent
            assert len(smtp_server.recorder.to("yamada@client.example.jp")) == 2
            await dovecot.adeliver(user, mail("after the outage"))
            await wait_for(lambda: _mail_routed(client, org.ctx, "after the outage"), timeout=15)
        # An outage is logged once per part, without tracebacks (they are for bugs).
        log = (Path(procs.logdir) / "serve-0.log").read_text()
        assert "Traceback" not in log
        for part in ("router", "worker"):
            assert len(re.findall(rf"supervisor: {part}\b.*retrying with backoff", log)) == 1, log
        assert len(re.findall(r"mailbox \S+: redis unavailable", log)) == 1, log
    finally:
        procs.close()
        redis.stop()
        dovecot.close()


async def test_router_and_worker_processes_serve_healthz_and_metrics(
    fresh_redis: RedisServer, procs: Processes
) -> None:
    """`signalgate router` and `signalgate worker` answer /healthz and /metrics on their health port."""
    gw, _ = procs.serve(fresh_redis.url)
    router_port, worker_port = free_port(), free_port()
    procs.router(fresh_redis.url, SIGNALGATE_GATEWAY_HEALTH_PORT=str(router_port))
    procs.worker(fresh_redis.url, SIGNALGATE_GATEWAY_HEALTH_PORT=str(worker_port))
    router, worker = f"http://127.0.0.1:{router_port}", f"http://127.0.0.1:{worker_port}"
    assert await _health_is(router, 200) == {"status": "ok", "parts": {"redis": "ok", "router": "ok", "waker": "ok"}}
    assert await _health_is(worker, 200) == {"status": "ok", "parts": {"redis": "ok", "worker": "ok"}}
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, gw, "sv-" + uuid.uuid4().hex[:10])
        await post_event(client, org, {"type": "desk.ticket", "contact": CONTACT, "title": "counted"})
        await wait_for(lambda: _routed(client, org, "counted"), timeout=10)
    async with httpx.AsyncClient(timeout=5 * FACTOR) as http:
        metrics = (await http.get(router + "/metrics")).text
        partition = _partition(org.id)
        assert f'signalgate_router_events_total{{partition="{partition}"}} 1.0' in metrics
        assert 'signalgate_part_up{part="router"} 1.0' in metrics
        metrics = (await http.get(worker + "/metrics")).text
        assert 'signalgate_worker_jobs_total{outcome="complete"} 0.0' in metrics
        assert 'signalgate_part_up{part="worker"} 1.0' in metrics
        r = await http.post(router + "/healthz")
        assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
        assert (await http.get(router + "/elsewhere")).status_code == 404


async def test_imap_process_serves_healthz_and_metrics(fresh_redis: RedisServer, procs: Processes) -> None:
    """`signalgate imap` answers /healthz (parts redis and imap) and /metrics (its mailboxes) on its port."""
    dovecot = Dovecot()
    try:
        user = dovecot.add_user()
        port = free_port()
        env = {**imap_env(dovecot, user, "sv-imap", "u1"), "SIGNALGATE_GATEWAY_HEALTH_PORT": str(port)}
        procs.imap(fresh_redis.url, **env)
        base = f"http://127.0.0.1:{port}"
        assert await _health_is(base, 200) == {"status": "ok", "parts": {"redis": "ok", "imap": "ok"}}
        mailbox = mailbox_id("sv-imap", "127.0.0.1", dovecot.port, user.address, "INBOX")
        expected = f'signalgate_imap_mailboxes_connected{{mailbox="{mailbox}"}} 1.0'

        async def connected() -> bool:
            async with httpx.AsyncClient(timeout=5 * FACTOR) as http:
                return expected in (await http.get(base + "/metrics")).text

        await wait_for(connected, timeout=15)
    finally:
        procs.close()
        dovecot.close()
