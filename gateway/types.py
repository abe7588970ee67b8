"""Type aliases shared across the gateway."""

from __future__ import annotations

from typing import Any, TypeAlias

from redis.asyncio import Redis

JSON: TypeAlias = dict[str, Any]
# decode_responses=True everywhere: keys and values are str.
RedisClient: TypeAlias = "Redis"
