"""The one place a Redis client of the product is built: plain Redis or a Redis Cluster.

With ``[redis] cluster = true`` the client is redis-py's :class:`~redis.asyncio.cluster.RedisCluster`
on ``[redis] url`` (one node; the others are discovered, and MOVED/ASK are followed). It serves the
same command methods the store calls, so the repositories keep their ``Redis`` annotation; the few
places where the two clients differ ask :func:`is_cluster`:

- pipelines are never transactions (the async cluster pipeline has none): what must be atomic is
  one Lua script on one slot;
- raw connection access (the ingest auto-pipeline of :mod:`gateway.store.batching`, the pub/sub
  connection of :mod:`gateway.store.live`) goes to the node that owns the slot, or to one node.

arq does not speak Cluster: the send queue lives on ``[queue] url`` (:func:`queue_url`), a plain Redis.
"""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, NodesManager, RedisCluster
from redis.cluster import PRIMARY, get_node_name
from redis.exceptions import MovedError

from gateway.config import Config


class _Nodes(NodesManager):  # type: ignore[misc]
    """redis-py 5.3's slot map, but a repeated MOVED is not taken for a failover.

    Commands in flight on a slot that just moved all come back MOVED. The first reply patches
    the map (the slot's owner becomes the new node); the stock code takes every later one, which
    names the node that already owns the slot, for a failover to a replica of it and marks that
    node a *replica*. Commands for "every primary" then skip it: ``SCRIPT LOAD`` (after a node
    lost its scripts, every EVALSHA there fails with NOSCRIPT again and again) and ``SCAN`` (an
    org's deletion leaves its keys on that node). Here such a repeat only keeps the owner a primary.
    """

    __slots__ = ()  # NodesManager has slots: the same layout lets an instance switch to this class

    def _update_moved_slots(self) -> None:
        moved: MovedError = self._moved_exception  # type: ignore[has-type]  # (untyped in redis-py)
        owners = self.slots_cache.get(moved.slot_id)
        if owners and owners[0].name == get_node_name(moved.host, moved.port):
            owners[0].server_type = PRIMARY
            self._moved_exception = None  # type: ignore[misc]  # a slot of NodesManager
            return
        super()._update_moved_slots()


# Compares unequal to every real node (ClusterNode equality is by "host:port").
_NO_NODE = ClusterNode("no-default-node.invalid", 0)


class _Cluster(RedisCluster):  # type: ignore[misc]
    """redis-py 5.3's cluster client, but it never forgets where the cluster is.

    On a connection error the stock client drops that node from its startup nodes and closes every
    connection of every node, which fails the other commands in flight (a router's 16 blocked
    reads) with connection errors too, each dropping its node: the startup nodes run empty and the
    client can never reconnect ("Redis Cluster cannot be connected ... None"). Here every node it
    ever discovered (and the configured one) goes back into the startup nodes before a rediscovery.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.nodes_manager.__class__ = _Nodes  # same state, one method fixed (see _Nodes)
        self._known: dict[str, tuple[str, int]] = {
            n.name: (n.host, n.port) for n in self.nodes_manager.startup_nodes.values()
        }

    def get_default_node(self) -> ClusterNode:
        """The default node, or a node of no cluster while a reset (a connection error elsewhere)
        has cleared it: redis-py 5.3's pipeline only compares it after its replies are in, and
        read ``None.name`` (AttributeError, the replies lost); the next command rediscovers."""
        node: ClusterNode | None = self.nodes_manager.default_node
        return node if node is not None else _NO_NODE

    async def initialize(self) -> RedisCluster:
        if self._initialize:
            startup = self.nodes_manager.startup_nodes
            for name, (host, port) in self._known.items():
                if name not in startup:
                    startup[name] = ClusterNode(host, port, **self.nodes_manager.connection_kwargs)
        cluster = await super().initialize()
        self._known.update({n.name: (n.host, n.port) for n in self.nodes_manager.nodes_cache.values()})
        return cluster


def open_client(
    url: str,
    *,
    cluster: bool = False,
    max_connections: int = 64,
    health_check_interval: int = 0,
    **options: Any,
) -> Redis:
    """A client on ``url`` (the resolved URL: an embedded Redis is running), decoding replies;
    ``cluster``: a Redis Cluster client discovering the nodes from that one (``[redis] cluster``).

    ``max_connections`` bounds the pool of each node. Typed as :class:`Redis`: a cluster client
    answers the same commands (see the module docstring for where they differ)."""
    if cluster:
        cluster = _Cluster.from_url(
            url,
            decode_responses=True,
            max_connections=max_connections,
            health_check_interval=health_check_interval,
            # One try, like the plain client: a send that failed on the wire is not sent again
            # (MOVED/ASK redirections are followed regardless).
            cluster_error_retry_attempts=1,
            # A MOVED reply patches the slot map (it names the new owner); the stock client also
            # rediscovers the whole cluster every 5th MOVED, closing every connection in flight.
            reinitialize_steps=0,
            **options,
        )
        return cast(Redis, cluster)
    return Redis.from_url(
        url,
        decode_responses=True,
        max_connections=max_connections,
        health_check_interval=health_check_interval,
        **options,
    )


def is_cluster(client: Redis) -> bool:
    return isinstance(client, RedisCluster)


def as_cluster(client: Redis) -> RedisCluster:
    """The cluster client behind a ``Redis``-typed one (only where :func:`is_cluster`)."""
    if not isinstance(client, RedisCluster):
        raise TypeError("not a Redis Cluster client")
    return client


def queue_url(config: Config, redis_url: str) -> str:
    """The arq queue's Redis: ``[queue] url``, else the same server as ``redis_url`` (resolved)."""
    return config.queue.url or redis_url
