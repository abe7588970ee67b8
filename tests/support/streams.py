"""Where the gateway puts an event: the partition stream of its org and routing key (issue 10)."""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from gateway.domain.events import routing_key
from gateway.store import keys


def stream_of(org: str, source: str, data: dict[str, Any]) -> str:
    """The partition stream an event of ``org`` from ``source`` with ``data`` is appended to."""
    return keys.events_stream(keys.partition_of(org, routing_key(source, data)))


def webhook_stream(org: str, contact: dict[str, str]) -> str:
    """The partition stream of a signed webhook event about ``contact`` (``{"id": ...}`` etc.)."""
    return stream_of(org, "webhook", {"contact": contact})


async def org_entries(r: aioredis.Redis, org: str) -> list[tuple[str, dict[str, str]]]:
    """Every entry of ``org`` in every partition stream (per stream in order, streams in turn)."""
    out: list[tuple[str, dict[str, str]]] = []
    for p in range(keys.PARTITIONS):
        out += [e for e in await r.xrange(keys.events_stream(p)) if e[1]["org"] == org]
    return out
