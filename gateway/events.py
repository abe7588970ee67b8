"""The raw event log: ingest appends events to partition streams, routers read them.

An event is a stream entry with fields ``org``, ``source``, ``at`` (ms) and ``data`` (JSON).
Sources are the names in :data:`SOURCES`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis

from gateway import keys
from gateway.batching import ScriptBatcher
from gateway.scripts import Scripts

SOURCES = (
    "twilio.sms",
    "twilio.sms_status",
    "twilio.voice_status",
    "webhook",
    "track.open",
    "track.click",
    "send.email_bounced",
    "imap.mail",
)
# Providers retry for hours at most; a day of dedupe memory covers every documented retry.
DEDUPE_TTL_SECONDS = 86400


@dataclass(frozen=True)
class Event:
    id: str
    partition: int
    org: str
    source: str
    at_ms: int
    data: dict[str, Any]

    @classmethod
    def from_entry(cls, partition: int, entry_id: str, fields: dict[str, str]) -> Event:
        return cls(
            id=entry_id,
            partition=partition,
            org=fields["org"],
            source=fields["source"],
            at_ms=int(fields["at"]),
            data=orjson.loads(fields["data"]),
        )

    @property
    def key(self) -> str:
        """Globally unique event id: partition + stream id."""
        return f"p{self.partition}-{self.id}"


@dataclass(frozen=True)
class Appended:
    id: str
    duplicate: bool


class EventLog:
    def __init__(self, redis: Redis, scripts: Scripts) -> None:
        self._r = redis
        self._ingest = ScriptBatcher(redis, scripts.ingest)

    async def append(self, org: str, source: str, data: dict[str, Any], dedupe_id: str | None = None) -> Appended:
        """Durably append one event; a repeated ``dedupe_id`` appends nothing."""
        partition = keys.partition_of(org)
        stream = keys.events_stream(partition)
        event_keys = [stream]
        if dedupe_id is not None:
            event_keys.append(keys.ingest_dedupe(partition, source, dedupe_id))
        fields = ["org", org, "source", source, "at", str(int(time.time() * 1000)), "data", orjson.dumps(data)]
        fresh, entry_id = await self._ingest(event_keys, [DEDUPE_TTL_SECONDS, *fields])
        return Appended(id=entry_id, duplicate=not fresh)
