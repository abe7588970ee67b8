"""signalgate on a real 3-master Redis Cluster (``[redis] cluster = true``), the arq queue on a plain
Redis: ingest on one ``serve`` node, a router process, the WebSocket on a second ``serve`` node,
sends through a worker — and not one CROSSSLOT error on any node (``INFO errorstats``)."""

from __future__ import annotations

import uuid

import httpx
import pytest
import redis as redis_sync
from redis.crc import key_slot
from websockets.exceptions import ConnectionClosed

from gateway.devtools.twilio_api import TwilioApi
from gateway.store import keys
from tests.support.api import (
    YAMADA_PHONE,
    Gateway,
    call_params,
    post_event,
    post_twilio,
    provision_org,
    sms_params,
    survey,
)
from tests.support.processes import Processes
from tests.support.redis_cluster import RedisCluster
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
from tests.support.timing import FACTOR
from tests.support.ws import live_feed, open_feed


async def test_ingest_route_live_and_send_on_a_cluster_without_crossslot(
    redis_cluster: RedisCluster,
    cluster_env: dict[str, str],
    cluster_gateways: tuple[Gateway, Gateway],
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """Provision, a signed Twilio callback and a webhook on node A reach a WebSocket on node B; an SMS
    and an email go out through a worker whose queue is the plain Redis; CROSSSLOT stays 0."""
    a, b = cluster_gateways
    procs.worker(redis_cluster.url, **worker_env(a, twilio_api, smtp_server, **cluster_env))
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_sending_org(client, a, twilio_api, org_id="cl-" + uuid.uuid4().hex[:10])
        feed = await live_feed(b, org.ctx.tokens["u1"])

        r = await post_twilio(client, org.ctx, "voice-status", call_params("no-answer"))
        assert r.status_code in (200, 204), r.text
        missed = await feed.signal("call.missed", timeout=10)
        assert missed["contact"]["id"] == "c-yamada"

        r = await post_event(client, org.ctx, survey({"email": "yamada@client.example.jp"}))
        assert r.status_code in (200, 202, 204), r.text
        answered = await feed.signal("survey.answered", timeout=10)
        assert answered["contact"]["id"] == "c-yamada"

        await buy(client, org, 5)
        sms_tid = await sms_template(client, org, "{{ name }}様、ご予約ありがとうございます。")
        mail_tid = await email_template(client, org, "{{ name }}様 ご案内", "<p>{{ name }}様</p>")
        sms = await notify(
            client,
            org,
            {"channel": "sms", "template": sms_tid, "to": {"contact": "c-yamada"}, "data": {"name": "山田"}},
        )
        mail = await notify(
            client,
            org,
            {"channel": "email", "template": mail_tid, "to": {"contact": "c-yamada"}, "data": {"name": "山田"}},
        )
        assert (await settled(client, org, sms["id"]))["status"] == "sent"
        assert (await settled(client, org, mail["id"]))["status"] == "sent"
        assert [m["body"] for m in twilio_api.created_to(YAMADA_PHONE)] == ["山田様、ご予約ありがとうございます。"]
        assert len(smtp_server.recorder.to("yamada@client.example.jp")) == 1
        assert (await credits_of(client, org))["balance"] == 4
        await feed.ws.close()
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)


def _noscript(cluster: RedisCluster) -> int:
    return sum(stats.get("NOSCRIPT", 0) for stats in cluster.error_stats().values())


async def test_revoke_and_delete_org_on_a_cluster(
    redis_cluster: RedisCluster, cluster_gateways: tuple[Gateway, Gateway]
) -> None:
    """Revoking a token on node A closes its socket on node B with 4401 (one script on the org's slot,
    no MULTI); deleting the org on A removes its keys from every master (SCAN on each); no CROSSSLOT."""
    a, b = cluster_gateways
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, a, "cd-" + uuid.uuid4().hex[:10])
        for i in range(8):  # dedupe keys in several partitions (spread by contact)
            sender = YAMADA_PHONE if i % 2 else "+14155550134"
            r = await post_twilio(client, org, "sms", sms_params(f"m{i}", sender=sender), idempotency_token=f"i{i}")
            assert r.status_code in (200, 204), r.text
        feed = await live_feed(b, org.tokens["u1"])
        r = await client.get(f"/api/v1/orgs/{org.id}/users/u1/tokens", headers=a.admin)
        [token] = r.json()["tokens"]
        r = await client.delete(f"/api/v1/orgs/{org.id}/users/u1/tokens/{token['id']}", headers=a.admin)
        assert r.status_code == 204, r.text
        with pytest.raises(ConnectionClosed):
            while True:
                await feed.recv(timeout=5)
        assert feed.ws.close_code == 4401
        assert (await client.get("/api/v1/me/signals", headers=org.user_headers("u1"))).status_code == 401
        assert (await client.get("/api/v1/me/signals", headers=org.user_headers("u2"))).status_code == 200

        assert redis_cluster.org_keys(org.id)
        assert (await client.delete(f"/api/v1/orgs/{org.id}", headers=a.admin)).status_code == 204
        assert redis_cluster.org_keys(org.id) == []
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)


async def test_scripts_flushed_on_every_node_are_loaded_again(
    redis_cluster: RedisCluster, cluster_gateways: tuple[Gateway, Gateway]
) -> None:
    """After SCRIPT FLUSH on every master, the ingest auto-pipeline and the router's rounds get
    NOSCRIPT from the nodes they talk to, load the script again (on every primary) and go on."""
    a, b = cluster_gateways
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, a, "sf-" + uuid.uuid4().hex[:10])
        feed = await live_feed(b, org.tokens["u1"])
        before = _noscript(redis_cluster)
        for port in redis_cluster.ports:
            with redis_sync.Redis(port=port) as node:
                assert node.script_flush()
        for i in range(4):
            r = await post_twilio(client, org, "voice-status", call_params("no-answer"), idempotency_token=f"f{i}")
            assert r.status_code in (200, 204), r.text
        for _ in range(4):
            assert (await feed.signal("call.missed", timeout=10))["contact"]["id"] == "c-yamada"
        await feed.ws.close()
    assert _noscript(redis_cluster) > before  # the reload path ran
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)


async def test_org_and_partition_slots_moved_to_other_masters(
    redis_cluster: RedisCluster, cluster_gateways: tuple[Gateway, Gateway]
) -> None:
    """The org's slot and every partition stream's slot migrate to another master (MIGRATE, ASK,
    then MOVED for every client): ingest batches, the router's blocked reads and rounds, and the
    hub follow, and every event sent after the move reaches the WebSocket."""
    a, b = cluster_gateways
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, a, "mv-" + uuid.uuid4().hex[:10])
        feed = await live_feed(b, org.tokens["u1"])
        r = await post_twilio(client, org, "voice-status", call_params("no-answer"), idempotency_token="before")
        assert r.status_code in (200, 204), r.text
        await feed.signal("call.missed", timeout=10)
        slots = {key_slot(keys.org(org.id).encode())}
        slots |= {key_slot(keys.events_stream(p).encode()) for p in range(keys.PARTITIONS)}
        for slot in sorted(slots):
            owner = redis_cluster.owner(slot)
            redis_cluster.move_slot(slot, redis_cluster.ports[(redis_cluster.ports.index(owner) + 1) % 3])
        for i in range(6):
            sender = YAMADA_PHONE if i % 2 else "+14155550134"  # c-smith is u2's: only Yamada's reach u1
            r = await post_twilio(client, org, "sms", sms_params(f"after {i}", sender=sender))
            assert r.status_code in (200, 204), r.text
        bodies: set[str] = set()
        while len(bodies) < 3:
            sig = await feed.signal("sms.received", timeout=15)
            bodies.add(sig["data"]["text"])
        assert bodies == {"after 1", "after 3", "after 5"}
        await feed.ws.close()
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)


def _subscribed_on(cluster: RedisCluster, channel: str) -> list[int]:
    """The nodes where some client subscribes to ``channel`` (PUBSUB CHANNELS is per node)."""
    found = []
    for port in cluster.ports:
        with redis_sync.Redis(port=port, decode_responses=True) as node:
            if channel in node.pubsub_channels(channel):
                found.append(port)
    return found


async def test_hub_subscription_moves_to_the_next_node_when_its_node_drops_it(
    redis_cluster: RedisCluster, cluster_gateways: tuple[Gateway, Gateway]
) -> None:
    """The hub subscribes on one cluster node (classic pub/sub reaches every node over the bus);
    when that connection drops, its sockets close with 1013, it subscribes on the next node, and
    the client that resumes gets what was published meanwhile and what comes after."""
    a, b = cluster_gateways
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, a, "hb-" + uuid.uuid4().hex[:10])
        channel = keys.live_channel(org.id, "u1")
        feed = await live_feed(b, org.tokens["u1"])
        [first_node] = _subscribed_on(redis_cluster, channel)
        r = await post_twilio(client, org, "voice-status", call_params("no-answer"), idempotency_token="one")
        assert r.status_code in (200, 204), r.text
        seen = await feed.signal("call.missed", timeout=10)
        with redis_sync.Redis(port=first_node) as node:
            assert node.client_kill_filter(_type="pubsub") >= 1
        with pytest.raises(ConnectionClosed):
            while True:
                await feed.recv(timeout=5)
        assert feed.ws.close_code == 1013
        r = await post_twilio(client, org, "sms", sms_params("while away"))
        assert r.status_code in (200, 204), r.text

        resumed, welcome = await open_feed(b, org.tokens["u1"], after=seen["id"])
        assert welcome["type"] == "welcome"
        assert (await resumed.signal("sms.received", timeout=10))["data"]["text"] == "while away"
        [second_node] = _subscribed_on(redis_cluster, channel)
        assert second_node != first_node
        r = await post_twilio(client, org, "sms", sms_params("after"))
        assert r.status_code in (200, 204), r.text
        assert (await resumed.signal("sms.received", timeout=10))["data"]["text"] == "after"
        await resumed.ws.close()
