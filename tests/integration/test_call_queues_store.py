"""A queue step's member calls in a real Redis, through gateway.store.call_queues (no processes):
the members are called once per call and step, the first to settle a wait wins (also on a retry of
its own request), every leg is handed out for hanging up once and never the winner's, and legs
placed after the wait was settled are handed back at once."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from gateway.store import keys
from gateway.store.call_queues import QUEUE_TTL, CallQueues, Settled
from gateway.store.scripts import load_scripts


@pytest.fixture
def org() -> str:
    return "cq-" + uuid.uuid4().hex[:8]


async def test_members_are_called_once_per_call_and_step(redis_client: Redis, org: str) -> None:
    queues = CallQueues(redis_client, load_scripts(redis_client))
    assert await queues.ring_once(org, "CA1", (2,)) is True
    assert await queues.ring_once(org, "CA1", (2,)) is False  # a retried webhook
    assert await queues.ring_once(org, "CA1", (1, 0)) is True  # another queue step of the call
    assert await queues.ring_once(org, "CA2", (2,)) is True  # another call
    ttl = await redis_client.ttl(keys.queue_rung(org, "CA1", "2"))
    assert 0 < ttl <= QUEUE_TTL and keys.queue_rung(org, "CA1", "1.0").startswith(f"sg:{{{org}}}:")
    await queues.forget_ring(org, "CA1", (2,))  # calling them failed outright: a retry may try again
    assert await queues.ring_once(org, "CA1", (2,)) is True


async def test_the_first_accept_wins_and_gets_the_other_legs_once(redis_client: Redis, org: str) -> None:
    queues = CallQueues(redis_client, load_scripts(redis_client))
    assert await queues.add_legs(org, "q1", ["L1", "L2", "L3"]) == []  # the caller waits: kept
    assert 0 < await redis_client.ttl(keys.queue_legs(org, "q1")) <= QUEUE_TTL
    won = await queues.settle(org, "q1", "L2")
    assert won.winner == "L2" and sorted(won.hang_up) == ["L1", "L3"]
    assert await queues.settle(org, "q1", "L2") == Settled("L2", [])  # Twilio retries the accept
    assert await queues.settle(org, "q1", "L1") == Settled("L2", [])  # too late
    assert await queues.settle(org, "q1", "") == Settled("L2", [])  # the bridge ends: nothing left
    # A leg placed after the wait was settled is handed back at once, never the winner's.
    assert await queues.add_legs(org, "q1", ["L4", "L2"]) == ["L4"]
    assert 0 < await redis_client.ttl(keys.queue_settled(org, "q1")) <= QUEUE_TTL


async def test_the_caller_leaving_settles_it_and_a_declined_leg_is_not_handed_out(
    redis_client: Redis, org: str
) -> None:
    queues = CallQueues(redis_client, load_scripts(redis_client))
    await queues.add_legs(org, "q2", ["L1", "L2"])
    await queues.drop_leg(org, "q2", "L1")  # pressed 2: its own TwiML hung it up
    assert await queues.settle(org, "q2", "") == Settled("", ["L2"])
    assert await queues.settle(org, "q2", "L2") == Settled("", [])  # pressed 1 after the caller left
    assert await queues.add_legs(org, "q2", []) == []
