"""A master of the Redis Cluster restarts (AOF on): every event accepted before is routed, and the
processes (ingest, router, hub) reconnect and go on after it, with no CROSSSLOT on any node."""

from __future__ import annotations

import uuid

import httpx
from redis.crc import key_slot
from websockets.exceptions import ConnectionClosed

from gateway.store import keys
from tests.support.api import YAMADA_PHONE, Gateway, post_twilio, provision_org, sms_params
from tests.support.redis_cluster import RedisCluster
from tests.support.timing import FACTOR, block_until
from tests.support.ws import open_feed


async def test_master_restart_loses_nothing_accepted(
    redis_cluster: RedisCluster, cluster_gateways: tuple[Gateway, Gateway]
) -> None:
    """The master of the org's slot stops and starts again (same AOF and nodes.conf): the SMS
    accepted before and after it all reach the user's feed; ingest answers 503 at most meanwhile."""
    a, b = cluster_gateways
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, a, "rs-" + uuid.uuid4().hex[:10])
        port = redis_cluster.owner(key_slot(keys.org(org.id).encode()))
        accepted = []
        for i in range(5):
            r = await post_twilio(client, org, "sms", sms_params(f"before {i}", sender=YAMADA_PHONE))
            assert r.status_code in (200, 204), r.text
            accepted.append(f"before {i}")
        redis_cluster.stop_node(port)
        redis_cluster.start_node(port)
        assert block_until(redis_cluster.ok, 20 * FACTOR, interval=0.1)
        for i in range(5):  # a 5xx while the cluster settles is retried, as a provider would
            for _ in range(50):
                r = await post_twilio(client, org, "sms", sms_params(f"after {i}", sender=YAMADA_PHONE))
                if r.status_code in (200, 204):
                    break
                assert r.status_code == 503, r.text
            else:
                raise AssertionError("ingest did not recover after the master restart")
            accepted.append(f"after {i}")

        texts: set[str] = set()
        for _ in range(40):  # the hub may close us with 1013 while it resubscribes: resume
            feed, _welcome = await open_feed(b, org.tokens["u1"], after="0-0")
            try:
                while not set(accepted) <= texts:
                    frame = await feed.recv(timeout=5)
                    if frame["type"] == "signal" and frame["signal"]["type"] == "sms.received":
                        texts.add(frame["signal"]["data"]["text"])
            except (ConnectionClosed, TimeoutError):
                continue  # closed or quiet: open again and replay
            finally:
                await feed.ws.close()
            break
        assert set(accepted) <= texts
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)
