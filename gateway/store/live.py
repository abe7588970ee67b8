"""Live frames over Redis pub/sub: one channel per user, one subscription connection per node.

The feed scripts PUBLISH each frame as ``"<cursor>\\n<json>"`` (cursor empty for unread counts)
on the user's channel in the same atomic step as the feed write. A subscription counts its
(re)connections: after the first, frames published meanwhile were lost to this node, and the
subscriber must make its clients resume from their cursors.

Revoking tokens publishes ``"revoked\\n<json>"`` on the same user channel (:func:`revocation`): every
node with a connection of that user is subscribed to it already, and the message is ordered with
the user's frames, so a socket is told to close before any frame published after the revocation
(e.g. for a re-created user of the same id) can reach it.

On a Redis Cluster (``[redis] cluster``) this stays *classic* pub/sub, not sharded pub/sub
(SPUBLISH/SSUBSCRIBE): a classic PUBLISH — from a feed script on the slot owner, or from the
cluster client — is forwarded over the cluster bus to every node, so one subscription connection
per gateway node, to any one cluster node, hears every user's frames (:class:`NodeSubscription`;
redis-py 5.3's async cluster client has no pub/sub of its own). Its cost is the bus: every frame
reaches every cluster node whether a gateway listens there or not. Sharded pub/sub would keep a
frame on its slot's node, but a gateway with users of many orgs would need a subscription per
node and to follow slot migrations itself (SSUBSCRIBE connections are dropped when a slot moves).
If that node dies, the hub rebuilds its subscription (its clients resume from their cursors) and
:meth:`LiveChannels.subscription` picks the next node.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.client import PubSub

from gateway.store import keys
from gateway.store.connect import as_cluster, is_cluster

# In the cursor slot of a pub/sub message: a revocation, not a frame (cursors are stream ids or "").
REVOKED = "revoked"


# Error replies Redis gives while it cannot serve for a while (failover, loading, a busy script,
# memory full, a stream deleted under a blocked read): retrying later can succeed.
def revocation(token_ids: Iterable[str] | None) -> str:
    """The pub/sub message revoking ``token_ids`` of a user (``None``: every token, the user is gone)."""
    ids = None if token_ids is None else sorted(token_ids)
    return f"{REVOKED}\n{orjson.dumps(ids).decode()}"


def parse_revocation(payload: str) -> frozenset[str] | None:
    """The token ids a revocation names (``None``: all of the user's); the part after ``revoked\\n``."""
    ids = orjson.loads(payload)
    return None if ids is None else frozenset(str(i) for i in ids)


class LiveSubscription(PubSub):  # type: ignore[misc]
    """A pub/sub connection that counts its (re)connections in ``connects``."""

    connects = 0

    async def on_connect(self, connection: Any) -> None:
        self.connects += 1
        await super().on_connect(connection)


class NodeSubscription(LiveSubscription):
    """A subscription on one node of a Redis Cluster: the ``pick``-th of its nodes (by name) when it
    connects — the cluster's nodes are known only then. Its connection pool is its own."""

    def __init__(self, redis: Redis, pick: int) -> None:
        # A pool that is never used: the node's own pool replaces it in connect().
        super().__init__(ConnectionPool(decode_responses=True), ignore_subscribe_messages=False)
        self._cluster = as_cluster(redis)
        self._pick = pick
        self.node = ""

    async def connect(self) -> None:
        if self.connection is None and not self.node:
            await self._cluster.initialize()  # discovers the nodes (nothing to do once done)
            nodes = sorted(self._cluster.get_nodes(), key=lambda n: str(n.name))
            node = nodes[self._pick % len(nodes)]
            self.node = str(node.name)
            self.connection_pool = ConnectionPool(connection_class=node.connection_class, **node.connection_kwargs)
        await super().connect()

    async def aclose(self) -> None:
        await super().aclose()
        await self.connection_pool.disconnect()


class LiveChannels:
    def __init__(self, redis: Redis) -> None:
        self._r = redis
        self._subscriptions = 0  # on a cluster: each new subscription tries the next node

    @staticmethod
    def channel(org: str, user: str) -> str:
        return keys.live_channel(org, user)

    def subscription(self) -> LiveSubscription:
        """A new subscription; subscribe and confirmation messages are delivered too."""
        if is_cluster(self._r):
            self._subscriptions += 1
            return NodeSubscription(self._r, self._subscriptions - 1)
        return LiveSubscription(self._r.connection_pool, ignore_subscribe_messages=False)
