"""Sending on a Redis Cluster, the arq queue on a plain Redis: credits exact under concurrency with
two workers, the email report counted once; no CROSSSLOT on any node."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import redis as redis_sync

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import Gateway
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.redis_cluster import RedisCluster
from tests.support.sending import (
    SendOrg,
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


async def test_credits_exact_and_report_counted_on_a_cluster(
    redis_cluster: RedisCluster,
    queue_redis: RedisServer,
    cluster_env: dict[str, str],
    cluster_gateways: tuple[Gateway, Gateway],
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """24 concurrent SMS with credits for 5 through two workers: exactly 5 reach the provider, the
    rest are insufficient_credits, balance 0; 3 emails are counted once each in the day's report."""
    a, _ = cluster_gateways
    _two_workers(procs, redis_cluster, a, twilio_api, smtp_server, cluster_env)
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_sending_org(client, a, twilio_api, org_id="cs-" + uuid.uuid4().hex[:10])
        await buy(client, org, 5)
        tid = await sms_template(client, org, "{{ name }}様、ご予約ありがとうございます。")
        body = {"channel": "sms", "template": tid, "to": {"contact": "c-yamada"}, "data": {"name": "山田"}}
        created = await asyncio.gather(*(notify(client, org, body) for _ in range(24)))
        outcomes = await asyncio.gather(*(settled(client, org, n["id"], timeout=60) for n in created))
        statuses = [o["status"] for o in outcomes]
        assert (statuses.count("sent"), statuses.count("rejected")) == (5, 19)
        assert {o["reason"] for o in outcomes if o["status"] == "rejected"} == {"insufficient_credits"}
        assert len(twilio_api.created) == 5
        assert (await credits_of(client, org))["balance"] == 0

        mail_tid = await email_template(client, org, "{{ name }}様 ご案内", "<p>{{ name }}様</p>")
        mail = {"channel": "email", "template": mail_tid, "to": {"contact": "c-yamada"}, "data": {"name": "山田"}}
        mails = [await notify(client, org, mail) for _ in range(3)]
        for n in mails:
            assert (await settled(client, org, n["id"]))["status"] == "sent"
        r = await client.get(f"/api/v1/orgs/{org.id}/reports/email", headers=a.admin)
        assert r.status_code == 200, r.text
        assert r.json()["total"]["sent"] == 3
        await _segment_send_counts_done(client, org, a, mail_tid)
    # The queue is the plain Redis: arq's keys are there, not in the cluster.
    assert _arq_keys(queue_redis.port)
    assert not any(_arq_keys(port) for port in redis_cluster.ports)
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)


async def _segment_send_counts_done(client: httpx.AsyncClient, org: SendOrg, gw: Gateway, mail_tid: str) -> None:
    """A mass mail to a segment (every contact) on the cluster, a fan-out whatever its size: each
    member's outcome (sent, or rejected: no address, no consent) counts in the fan-out's done, in
    the org's slot (fanout_done.lua inside the status change)."""
    base = f"/api/v1/orgs/{org.id}"
    r = await client.put(f"{base}/segments/everyone", json={"match": {}}, headers=gw.admin)
    assert r.status_code == 201, r.text
    send = {"channel": "email", "kind": "mass", "template": mail_tid, "to": {"segment": "everyone"},
            "data": {"name": "皆様"}}  # fmt: skip
    r = await client.post(f"{base}/notifications", json=send, headers=gw.admin)
    assert r.status_code == 202, r.text
    fanout = r.json()["id"]

    async def finished() -> dict[str, Any] | None:
        rec: dict[str, Any] = (await client.get(f"{base}/fanouts/{fanout}", headers=gw.admin)).json()
        return rec if rec["status"] == "done" and rec["done"] == rec["enqueued"] else None

    progress = await wait_for(finished, timeout=30 * FACTOR, interval=0.2)
    assert (progress["total"], progress["enqueued"], progress["done"]) == (3, 3, 3)


def _two_workers(
    procs: Processes,
    cluster: RedisCluster,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
    cluster_env: dict[str, str],
) -> None:
    """Two `worker` processes on the cluster, their queue on the plain Redis (``cluster_env``)."""
    for _ in range(2):
        procs.worker(cluster.url, **worker_env(gateway, twilio_api, smtp_server, **cluster_env))


def _arq_keys(port: int) -> list[str]:
    with redis_sync.Redis(port=port, decode_responses=True) as client:
        return [k for k in client.scan_iter(match="arq:*", count=1000)]


async def test_daily_email_cap_exact_under_concurrency_on_a_cluster(
    redis_cluster: RedisCluster,
    cluster_env: dict[str, str],
    cluster_gateways: tuple[Gateway, Gateway],
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """Free plan, 1 user (individual cap 50): 64 concurrent emails sent through both serve nodes and
    two workers → exactly 50 reach SMTP, 14 are daily_email_limit, usage 50/50; no CROSSSLOT."""
    a, b = cluster_gateways
    _two_workers(procs, redis_cluster, a, twilio_api, smtp_server, cluster_env)
    async with (
        httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as on_a,
        httpx.AsyncClient(base_url=b.base_url, timeout=10 * FACTOR) as on_b,
    ):
        org = await provision_sending_org(
            on_a, a, twilio_api, plan="free", users=1, org_id="cq-" + uuid.uuid4().hex[:10]
        )
        tid = await email_template(on_a, org, "{{ name }}様 ご案内", "<p>{{ name }}様</p>")
        address = f"cap-{org.id}@client.example.jp"
        body = {"channel": "email", "template": tid, "to": {"email": address}, "data": {"name": "山田"}}
        created = await asyncio.gather(*(notify(on_a if i % 2 else on_b, org, body) for i in range(64)))
        outcomes = await asyncio.gather(*(settled(on_a, org, n["id"], timeout=60) for n in created))
        statuses = [o["status"] for o in outcomes]
        assert (statuses.count("sent"), statuses.count("rejected")) == (50, 14)
        assert {o["reason"] for o in outcomes if o["status"] == "rejected"} == {"daily_email_limit"}
        assert len(smtp_server.recorder.to(address)) == 50
        usage = (await on_b.get(f"/api/v1/orgs/{org.id}/usage", headers=b.admin)).json()["email"]
        assert usage["individual"] == {"used": 50, "limit": 50}
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)
