"""Automation rules and template versions on a real 3-master Redis Cluster: the rules read with the
org, an unread_for timer in a partition's due set, a template edit with its version history — and
not one CROSSSLOT error on any node."""

from __future__ import annotations

import uuid

import httpx

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import YAMADA_PHONE, Gateway, call_params, post_twilio
from tests.support.processes import Processes
from tests.support.redis_cluster import RedisCluster
from tests.support.sending import SmtpServer, buy, provision_sending_org, sms_template, worker_env
from tests.support.timing import FACTOR, wait_for

BODY = "{{ contact_name }}様、折り返しご連絡いたします。"


async def test_rules_and_template_versions_on_a_cluster(
    redis_cluster: RedisCluster,
    cluster_env: dict[str, str],
    cluster_gateways: tuple[Gateway, Gateway],
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    a, _ = cluster_gateways
    procs.worker(redis_cluster.url, **worker_env(a, twilio_api, smtp_server, **cluster_env))
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_sending_org(client, a, twilio_api, org_id="cl-" + uuid.uuid4().hex[:10])
        await buy(client, org, 10)
        tid = await sms_template(client, org, BODY)
        base = f"/api/v1/orgs/{org.id}"
        action = {"channel": "sms", "template": tid}
        for rid, extra in (("now", {"to": "contact"}), ("later", {"to": "owner"})):
            body = {"on": "call.missed", "action": action | extra} | ({"unread_for": 1} if rid == "later" else {})
            r = await client.put(f"{base}/rules/{rid}", json=body, headers=a.admin)
            assert r.status_code == 201, r.text
        r = await client.put(f"{base}/templates/{tid}", json={"body": "新しい文面", "submit": True}, headers=a.admin)
        assert r.status_code == 200 and r.json()["pending"]["version"] == 2, r.text
        r = await post_twilio(client, org.ctx, "voice-status", call_params("no-answer"))
        assert r.status_code in (200, 204), r.text
        await wait_for(lambda: len(twilio_api.created) == 2, timeout=20)
        assert sorted(m["to"] for m in twilio_api.created) == sorted([YAMADA_PHONE, "+819087654321"])
        assert {m["body"] for m in twilio_api.created} == {"山田 太郎様、折り返しご連絡いたします。"}
        versions = (await client.get(f"{base}/templates/{tid}/versions", headers=a.admin)).json()["versions"]
        assert [(v["version"], v["status"]) for v in versions] == [(1, "approved"), (2, "pending")]
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)
