"""A call a flow answered and nobody took, on a real Redis Cluster: the gateway's "taken" marks, the
router's decision script and the ``call.missed`` reach a socket on the other node, and not one
CROSSSLOT error on any node (every key of the decision is under the org's tag)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import httpx
import orjson
import redis as redis_sync

from gateway.store import keys
from tests.integration.test_call_flow_missed import RING_THEN_HANG_UP, ended
from tests.integration.test_call_flows import callback, dial_result, incoming, live_flow
from tests.support.api import OUR_NUMBER, Gateway, provision_org
from tests.support.redis_cluster import RedisCluster
from tests.support.timing import FACTOR
from tests.support.ws import live_feed


async def test_a_flows_missed_call_on_a_cluster_without_crossslot(
    redis_cluster: RedisCluster, cluster_gateways: tuple[Gateway, Gateway]
) -> None:
    a, b = cluster_gateways
    crossslot = redis_cluster.crossslot_errors()
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, a, "cfm-" + uuid.uuid4().hex[:10])
        with redis_sync.RedisCluster.from_url(redis_cluster.url, decode_responses=True) as nodes:
            nodes.hset(keys.numbers(org.id), OUR_NUMBER, orjson.dumps({"phone_number": OUR_NUMBER, "sid": "PN1"}))
        r = await client.put(f"/api/v1/orgs/{org.id}/users/u1", json={"phone": "+819011110001"}, headers=a.admin)
        assert r.status_code == 200, r.text
        await live_flow(client, org, steps=RING_THEN_HANG_UP)
        feed = await live_feed(b, org.tokens["u1"])

        taken, doc = await incoming(client, org)
        await callback(client, org, doc[0].attrib["action"], dial_result(taken, "completed"))
        assert (await ended(client, org, taken, "taken"))["missed"] is False
        missed, doc = await incoming(client, org)
        r = await callback(client, org, doc[0].attrib["action"], dial_result(missed, "busy"))
        assert [v.tag for v in ET.fromstring(r.content)] == ["Hangup"]
        assert (await ended(client, org, missed, "missed", "missed"))["missed"] is True
        sig = await feed.signal("call.missed", timeout=10)
        assert sig["data"]["call_sid"] == missed["CallSid"] and sig["user"] == "u1"
    assert redis_cluster.crossslot_errors() == crossslot
