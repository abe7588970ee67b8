"""The key audit on a real Redis Cluster: one full scenario — provision, signed ingest (Twilio, a
webhook, open and click tracking), routing to a socket on the other node, SMS and email sent by a
worker (queue on the plain Redis), an IMAP mail, a reminder, reports, reads, org deletion — with
every node's ``INFO errorstats`` watched: no CROSSSLOT, and no other error counter rising except
the ones explained below."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis as redis_sync

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import YAMADA_PHONE, Gateway, call_params, post_event, post_twilio, sms_params, survey
from tests.support.imap import Dovecot, imap_env, listening, mail
from tests.support.processes import Processes
from tests.support.redis_cluster import RedisCluster, error_deltas
from tests.support.sending import (
    SmtpServer,
    buy,
    credits_of,
    email_template,
    notify,
    provision_sending_org,
    settled,
    sms_template,
    worker_env,
)
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import live_feed

# Error replies a healthy scenario may cause, and why:
# - ERR: redis-py 5.3 sends CLIENT SETINFO on every new connection; Redis 7.0 answers "ERR unknown
#   subcommand" (7.2+ knows it): exactly two per connection the node accepted, checked below.
# - NOSCRIPT: scripts run by EVALSHA first and are loaded on the node that answers NOSCRIPT (a
#   process's first call of a script on a node that never saw it).
# - BUSYGROUP: a router (re)starting creates its consumer group on every partition stream
#   (XGROUP CREATE ... MKSTREAM), which exists already.
EXPLAINED = {"ERR", "NOSCRIPT", "BUSYGROUP"}


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    yield server
    server.close()


def _connections(cluster: RedisCluster) -> dict[int, int]:
    """Per node: connections accepted since it started (``INFO stats``)."""
    out = {}
    for port in cluster.ports:
        with redis_sync.Redis(port=port, decode_responses=True) as node:
            out[port] = int(node.info("stats")["total_connections_received"])
    return out


def _html(msg: Any) -> str:
    return str(msg.get_body(preferencelist=("html",)).get_content())


async def test_full_scenario_on_a_cluster_raises_no_crossslot_and_no_unexplained_error(
    redis_cluster: RedisCluster,
    cluster_env: dict[str, str],
    cluster_gateways: tuple[Gateway, Gateway],
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
    dovecot: Dovecot,
) -> None:
    a, b = cluster_gateways
    before, connections_before = redis_cluster.error_stats(), _connections(redis_cluster)
    procs.worker(redis_cluster.url, **worker_env(a, twilio_api, smtp_server, **cluster_env))
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        # provision: org, users, tokens, contacts, Twilio account, templates, credits
        org = await provision_sending_org(client, a, twilio_api, org_id="au-" + uuid.uuid4().hex[:10])
        ctx = org.ctx
        user = dovecot.add_user()
        procs.imap(redis_cluster.url, **cluster_env, **imap_env(dovecot, user, org.id, "u1"))
        await buy(client, org, 5)
        sms_tid = await sms_template(client, org, "{{ name }}様、ご予約ありがとうございます。")
        mail_tid = await email_template(
            client, org, "{{ name }}様 ご案内", '<p><a href="https://example.jp/p?id=1">製品</a></p>'
        )
        feed = await live_feed(b, ctx.tokens["u1"])

        # ingest on A, routed, live on B: Twilio voice + SMS, a signed webhook
        r = await post_twilio(client, ctx, "voice-status", call_params("no-answer"))
        assert r.status_code in (200, 204), r.text
        assert (await feed.signal("call.missed", timeout=10))["contact"]["id"] == "c-yamada"
        r = await post_twilio(client, ctx, "sms", sms_params("明日伺います", sender=YAMADA_PHONE))
        assert r.status_code in (200, 204), r.text
        assert (await feed.signal("sms.received", timeout=10))["data"]["text"] == "明日伺います"
        r = await post_event(client, ctx, survey({"email": "yamada@client.example.jp"}))
        assert r.status_code in (200, 202, 204), r.text
        assert (await feed.signal("survey.answered", timeout=10))["contact"]["id"] == "c-yamada"

        # sends through the worker (queue on the plain Redis), then tracking hits on B
        to = {"contact": "c-yamada"}
        sms = await notify(client, org, {"channel": "sms", "template": sms_tid, "to": to, "data": {"name": "山田"}})
        sent_mail = await notify(
            client, org, {"channel": "email", "template": mail_tid, "to": to, "data": {"name": "山田"}}
        )
        assert (await settled(client, org, sms["id"]))["status"] == "sent"
        assert (await settled(client, org, sent_mail["id"]))["status"] == "sent"
        [msg] = smtp_server.recorder.to("yamada@client.example.jp")
        html = _html(msg)
        [pixel] = re.findall(r'<img src="([^"]+)"', html)
        [link] = re.findall(r'href="([^"]+/t/c/[^"]+)"', html)
        async with httpx.AsyncClient(timeout=10 * FACTOR) as anyone:
            assert (await anyone.get(pixel.replace(a.base_url, b.base_url))).status_code == 200
            assert (await anyone.get(link.replace(a.base_url, b.base_url))).status_code == 302
        assert (await feed.signal("email.opened", timeout=10))["data"]["notification"] == sent_mail["id"]
        assert (await feed.signal("email.clicked", timeout=10))["contact"]["id"] == "c-yamada"

        # IMAP: a mail from a known contact becomes email.received (once the listener has its
        # baseline: on first start it skips mail already in the box)
        with redis_sync.RedisCluster.from_url(redis_cluster.url, decode_responses=True) as nodes:
            await listening(nodes, dovecot, user, org.id)
        await dovecot.adeliver(user, mail("お見積もりのご依頼"))
        assert (await feed.signal("email.received", timeout=20))["title"] == "お見積もりのご依頼"

        # a reminder (enqueued deferred on the queue Redis, sent by the worker)
        at = datetime.now(tz=UTC) + timedelta(seconds=1)
        body = {"user": "u1", "activity": "call", "title": "山田様に折り返し", "remind_at": at.isoformat()}
        r = await client.post(f"/api/v1/orgs/{org.id}/reminders", json=body, headers=a.admin)
        assert r.status_code == 202, r.text
        rid = r.json()["id"]

        async def reminded() -> str | None:
            rec = (await client.get(f"/api/v1/orgs/{org.id}/reminders/{rid}", headers=a.admin)).json()
            # `sending`: claimed by the worker, on its way; wait for where it ends.
            return None if rec["status"] in ("scheduled", "sending") else str(rec["status"])

        assert await wait_for(reminded, timeout=20) == "sent"

        # reports and reads
        async def report() -> dict[str, Any] | None:
            r = await client.get(f"/api/v1/orgs/{org.id}/reports/email", headers=a.admin)
            assert r.status_code == 200, r.text
            total: dict[str, Any] = r.json()["total"]
            return total if total["opened"] == 1 and total["clicked"] == 1 and total["received"] == 1 else None

        total = await wait_for(report, timeout=10)
        assert total["sent"] == 1
        assert (await credits_of(client, org))["balance"] == 3  # the SMS and the reminder
        for path in ("usage", "credits/ledger", "contacts/c-yamada/activity", "users", "templates"):
            r = await client.get(f"/api/v1/orgs/{org.id}/{path}", headers=a.admin)
            assert r.status_code == 200, (path, r.text)
        headers = ctx.user_headers("u1")
        r = await client.get("/api/v1/me/signals", headers=headers)
        assert r.status_code == 200 and len(r.json()["signals"]) >= 6, r.text
        r = await client.post("/api/v1/me/signals/read", json={"up_to": r.json()["signals"][-1]["id"]}, headers=headers)
        assert r.status_code == 200 and r.json()["unread"] == 0, r.text
        await feed.ws.close()

        # deletion: every key of the org, on every master
        assert (await client.delete(f"/api/v1/orgs/{org.id}", headers=a.admin)).status_code == 204
        assert (await client.get("/api/v1/me/signals", headers=headers)).status_code == 401

    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)
    rose = error_deltas(before, redis_cluster.error_stats())
    connections = _connections(redis_cluster)
    unexplained = {port: {k: n for k, n in r.items() if k not in EXPLAINED} for port, r in rose.items()}
    assert {p: u for p, u in unexplained.items() if u} == {}, rose
    # Every ERR is one of the two CLIENT SETINFO of a new redis-py connection (the audit's own too).
    for port in redis_cluster.ports:
        new = connections[port] - connections_before[port]
        assert rose.get(port, {}).get("ERR", 0) == 2 * new, (port, new, rose)
