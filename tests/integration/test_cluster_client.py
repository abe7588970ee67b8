"""The product's cluster client (``gateway.store.connect.open_client(cluster=True)``) on a real Redis
Cluster, after a slot moved under commands in flight: every master stays a primary in its map, so
what goes to "every primary" (SCRIPT LOAD, SCAN) still reaches the slot's new owner; and a pipeline
finishing after the client was reset still returns its replies."""

from __future__ import annotations

import asyncio
import uuid

from redis.crc import key_slot
from redis.exceptions import NoScriptError

from gateway.store.connect import as_cluster, open_client
from tests.support.redis_cluster import RedisCluster, next_master


async def test_moved_replies_for_one_slot_keep_its_new_owner_a_primary(redis_cluster: RedisCluster) -> None:
    """40 reads in flight on a slot that just moved all come back MOVED: the new owner stays a
    primary (redis-py 5.3 alone marks it a replica on the second MOVED), a script never loaded
    before runs there (SCRIPT LOAD reached it), and SCAN finds the key."""
    client = open_client(redis_cluster.url, cluster=True)
    cluster = as_cluster(client)
    try:
        key = f"sg:{{mv-{uuid.uuid4().hex[:10]}}}:probe"
        assert await client.set(key, "v")
        slot = key_slot(key.encode())
        target = next_master(redis_cluster, slot)
        redis_cluster.move_slot(slot, target)
        assert await asyncio.gather(*(client.get(key) for _ in range(40))) == ["v"] * 40

        primaries = {n.port for n in cluster.nodes_manager.get_nodes_by_server_type("primary")}
        assert primaries == set(redis_cluster.ports)
        script = client.register_script(f"-- {uuid.uuid4().hex}\nreturn redis.call('GET', KEYS[1])")
        assert await script(keys=[key]) == "v"
        assert [k async for k in client.scan_iter(match=key)] == [key]
    finally:
        await client.aclose()


async def test_a_pipeline_finishing_after_a_reset_of_the_client_returns_its_replies(
    redis_cluster: RedisCluster,
) -> None:
    """A connection error elsewhere resets the client (its default node becomes None) while a
    pipeline is in flight: the pipeline's replies still come back (redis-py 5.3 alone raised
    AttributeError: 'NoneType' object has no attribute 'name' and the router part restarted)."""
    client = open_client(redis_cluster.url, cluster=True)
    cluster = as_cluster(client)
    try:
        key = f"sg:{{rs-{uuid.uuid4().hex[:10]}}}:probe"
        assert await client.set(key, "v")
        cluster.nodes_manager.default_node = None  # what a concurrent reset leaves behind
        async with client.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.execute_command("EVALSHA", "0" * 40, 1, key)  # NOSCRIPT: an error reply in place
            replies = await pipe.execute(raise_on_error=False)
        assert replies[0] == "v"
        assert isinstance(replies[1], NoScriptError)
    finally:
        await client.aclose()
