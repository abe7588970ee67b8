"""IMAP listeners on a Redis Cluster: the lease, the checkpoint and the mail's event, each on its
slot, with a second listener waiting for the lease; no CROSSSLOT on any node."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis as redis_sync

from gateway.ingest.imap.rules import mailbox_id
from gateway.store import keys
from tests.support.api import Gateway, provision_org
from tests.support.imap import Dovecot, imap_env, mail
from tests.support.processes import Processes
from tests.support.redis_cluster import RedisCluster
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import live_feed


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    yield server
    server.close()


def _cluster_get(cluster: RedisCluster, key: str, field: str | None = None) -> str | None:
    """``key`` (or one field of the hash) read through a cluster client (follows MOVED)."""
    with redis_sync.RedisCluster.from_url(cluster.url, decode_responses=True) as client:
        value = client.get(key) if field is None else client.hget(key, field)
    return None if value is None else str(value)


async def test_imap_listener_on_a_cluster_checkpoints_and_hands_the_lease_over(
    redis_cluster: RedisCluster,
    cluster_env: dict[str, str],
    cluster_gateways: tuple[Gateway, Gateway],
    dovecot: Dovecot,
    procs: Processes,
) -> None:
    """Two ``imap`` processes on the cluster: one holds the mailbox's lease and turns a mail into
    email.received on a socket of the other ``serve`` node, checkpointing its UID; killed, the other
    takes the lease over and the next mail arrives once."""
    a, b = cluster_gateways
    async with httpx.AsyncClient(base_url=a.base_url, timeout=10 * FACTOR) as client:
        org = await provision_org(client, a, "im-" + uuid.uuid4().hex[:10])
    user = dovecot.add_user()
    env = {**cluster_env, **imap_env(dovecot, user, org.id, "u1")}
    first = procs.imap(redis_cluster.url, **env)
    mid = mailbox_id(org.id, "127.0.0.1", dovecot.port, user.address, "INBOX")
    lease, checkpoint = keys.imap_lease(org.id, mid), keys.imap_checkpoint(org.id, mid)
    await wait_for(lambda: _cluster_get(redis_cluster, checkpoint, "uidvalidity"), timeout=20, interval=0.1)
    holder = _cluster_get(redis_cluster, lease)
    assert holder
    procs.imap(redis_cluster.url, **env)  # waits for the lease

    feed = await live_feed(b, org.tokens["u1"])
    await dovecot.adeliver(user, mail("お見積もりのご依頼"))
    assert (await feed.signal("email.received", timeout=10))["title"] == "お見積もりのご依頼"
    await wait_for(lambda: _cluster_get(redis_cluster, checkpoint, "uid") == "1", timeout=10)

    first.kill()
    await wait_for(lambda: _cluster_get(redis_cluster, lease) not in (None, holder), timeout=20, interval=0.1)
    await dovecot.adeliver(user, mail("二通目"))
    assert (await feed.signal("email.received", timeout=15))["title"] == "二通目"
    await wait_for(lambda: _cluster_get(redis_cluster, checkpoint, "uid") == "2", timeout=10)
    await feed.ws.close()
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)
