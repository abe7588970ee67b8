"""Whether a flow's call was missed, decided in a real Redis through gateway.store.messages (no
processes): the decision is taken once, at the final status's event, kept on the log row, and the
same event gets the same answer again (a router replaying it), another event never a second one."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from gateway.store import keys
from gateway.store.messages import ANSWERED_TTL, Messages
from gateway.store.pipeline import Round
from gateway.store.scripts import load_scripts


@pytest.fixture
def org() -> str:
    return "fm-" + uuid.uuid4().hex[:8]


async def _missed(messages: Messages, redis: Redis, org: str, sid: str, event: str) -> str | None:
    batch = Round(redis)
    slot = messages.queue_flow_missed(batch, org, sid, event_key=event)
    await batch.run()
    return slot.value


async def test_a_flows_call_nobody_took_is_missed_once(redis_client: Redis, org: str) -> None:
    messages = Messages(redis_client, load_scripts(redis_client))
    await messages.set_call_fields(org, "CA1", flow="main")
    assert await _missed(messages, redis_client, org, "CA1", "p1-1-0") == "main"
    assert await _missed(messages, redis_client, org, "CA1", "p1-1-0") == "main"  # the router replays it
    assert await _missed(messages, redis_client, org, "CA1", "p1-2-0") is None  # another status event
    # A mark arriving after the decision changes nothing.
    await messages.mark_call_answered(org, "CA1", "voicemail")
    assert await _missed(messages, redis_client, org, "CA1", "p1-1-0") == "main"
    assert await redis_client.hget(keys.call(org, "CA1"), "missed") == "1"


async def test_a_call_someone_took_or_no_flow_answered_is_not_missed(redis_client: Redis, org: str) -> None:
    messages = Messages(redis_client, load_scripts(redis_client))
    await messages.set_call_fields(org, "CA2", flow="main")
    await messages.mark_call_answered(org, "CA2", "dial")
    ttl = await redis_client.ttl(keys.call_answered(org, "CA2"))
    assert 0 < ttl <= ANSWERED_TTL and keys.call_answered(org, "CA2").startswith(f"sg:{{{org}}}:")
    assert await _missed(messages, redis_client, org, "CA2", "p1-3-0") is None
    # Decided: the mark expiring (a day on) does not make a replay of the event a missed call.
    await redis_client.delete(keys.call_answered(org, "CA2"))
    assert await _missed(messages, redis_client, org, "CA2", "p1-3-0") is None
    assert await redis_client.hget(keys.call(org, "CA2"), "missed") == "0"
    # No flow answered the call (the status alone says whether it was missed): nothing decided here.
    assert await _missed(messages, redis_client, org, "CA3", "p1-4-0") is None
    assert await redis_client.exists(keys.call(org, "CA3")) == 0
