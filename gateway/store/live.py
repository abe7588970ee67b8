"""Live frames over Redis pub/sub: one channel per user, one subscription connection per node.

The feed scripts PUBLISH each frame as ``"<cursor>\\n<json>"`` (cursor empty for unread counts)
on the user's channel in the same atomic step as the feed write. A subscription counts its
(re)connections: after the first, frames published meanwhile were lost to this node, and the
subscriber must make its clients resume from their cursors.

Revoking tokens publishes ``"revoked\\n<json>"`` on the same user channel (:func:`revocation`): every
node with a connection of that user is subscribed to it already, and the message is ordered with
the user's frames, so a socket is told to close before any frame published after the revocation
(e.g. for a re-created user of the same id) can reach it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from gateway.store import keys

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


class LiveChannels:
    def __init__(self, redis: Redis) -> None:
        self._r = redis

    @staticmethod
    def channel(org: str, user: str) -> str:
        return keys.live_channel(org, user)

    def subscription(self) -> LiveSubscription:
        """A new subscription; subscribe and confirmation messages are delivered too."""
        return LiveSubscription(self._r.connection_pool, ignore_subscribe_messages=False)
