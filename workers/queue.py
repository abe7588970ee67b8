"""The job queue contract shared by the gateway (producer) and the workers (consumer).

Any arq client can submit sends straight to Redis: job ``send_sms`` or ``send_email`` on queue
``signalgate:queue``, keyword arguments as the REST body plus ``org``, ``_job_id`` = the
idempotency key, JSON serialization (never pickle: jobs come from other services).
"""

from __future__ import annotations

from typing import Any

import orjson

QUEUE_NAME = "signalgate:queue"
SEND_SMS = "send_sms"
SEND_EMAIL = "send_email"
SEND_REMINDER = "send_reminder"


def serialize(job: dict[str, Any]) -> bytes:
    return orjson.dumps(job)


def deserialize(raw: bytes) -> dict[str, Any]:
    value = orjson.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("job payload must be a JSON object")
    return value
