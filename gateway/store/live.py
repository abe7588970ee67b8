"""Live frames over Redis pub/sub: one channel per user, one subscription connection per node.

The feed scripts PUBLISH each frame as ``"<cursor>\\n<json>"`` (cursor empty for unread counts)
on the user's channel in the same atomic step as the feed write. A subscription counts its
(re)connections: after the first, frames published meanwhile were lost to this node, and the
subscriber must make its clients resume from their cursors.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from gateway.store import keys


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
