"""Automation rules fire once per signal when an event is routed again (a router that died after
the feed write and before its XACK) or by two routers at once: real Redis, the router's own batch
code in process, the arq queue inspected."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.config import load_config
from gateway.domain.automation import Fired, parse_rule
from gateway.domain.events import Event
from gateway.routing.batch import BatchRouter
from gateway.services import Services, open_services
from gateway.store import keys
from gateway.store.automation import AutomationRules
from gateway.store.due import parse_member
from gateway.store.jobs import QUEUE_NAME
from tests.support.redis import RedisServer


async def _provision(svc: Services, org: str) -> None:
    await svc.tenancy.put_org({"id": org, "name": "x", "plan": "standard", "timezone": "Asia/Tokyo", "country": "JP"})
    await svc.tenancy.put_user(org, {"id": "u1", "name": "u1", "phone": "+819087654321"})
    contact = {"id": "c1", "kind": "contact", "name": "山田", "emails": [], "phones": ["+819012345678"], "owner": "u1"}
    await svc.tenancy.put_contact(org, contact)
    rules = AutomationRules(svc.redis)
    action = {"channel": "sms", "template": "t1", "to": "contact"}
    await rules.put(org, parse_rule("now", {"on": "desk.ticket", "action": action}), None)
    await rules.put(org, parse_rule("later", {"on": "desk.ticket", "unread_for": 60, "action": action}), None)


async def _event(svc: Services, org: str) -> Event:
    appended = await svc.events.append(org, "webhook", {"type": "desk.ticket", "contact": {"id": "c1"}, "title": "T"})
    [(entry_id, fields)] = await svc.redis.xrange(keys.events_stream(appended.partition), appended.id, appended.id)
    return Event.from_entry(appended.partition, entry_id, fields)


async def test_replayed_and_concurrent_routing_fires_each_rule_once(fresh_redis: RedisServer) -> None:
    config = load_config(None, {})
    org = "auto-" + uuid.uuid4().hex[:6]
    async with open_services(config, fresh_redis.url, secrets=False) as svc:
        await _provision(svc, org)
        event = await _event(svc, org)
        orgs = await svc.tenancy.cached_orgs({org})
        # Two routers at once (each with its own BatchRouter), then a replay of the same event.
        await asyncio.gather(BatchRouter(svc).route([event], orgs), BatchRouter(svc).route([event], orgs))
        await BatchRouter(svc).route([event], orgs)
        r = svc.redis
        [signal_id] = [entry_id for entry_id, _ in await r.xrange(keys.feed(org, "u1"))]
        jobs = await r.zrange(QUEUE_NAME, 0, -1)
        due = [m for p in range(keys.PARTITIONS) for m in await r.zrange(keys.due(p), 0, -1)]
        notifications = [k for k in await r.keys(f"sg:{{{org}}}:notification:*") if not k.endswith(":history")]
    assert jobs == [f"send:{org}:rule:now:u1:{signal_id}"]  # one send for the immediate rule
    assert len(notifications) == 1
    [entry] = [parse_member(m) for m in due]  # one timer, for the unread_for rule, due 60 s after the signal
    assert entry is not None and entry.kind == "rule"
    timer = Fired.from_ref(entry.ref)
    assert timer is not None and (timer.rule, timer.signal_id) == ("later", signal_id)
    assert entry.at_ms == int(signal_id.split("-")[0]) + 60_000


async def test_a_router_that_died_before_sending_sends_on_the_replay(
    fresh_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feed write succeeded but the enqueue failed (the router died there): the batch is not
    acknowledged, its replay finds the event applied ("duplicate") and still submits the send."""
    config = load_config(None, {})
    org = "auto-" + uuid.uuid4().hex[:6]
    async with open_services(config, fresh_redis.url, secrets=False) as svc:
        await _provision(svc, org)
        event = await _event(svc, org)
        orgs = await svc.tenancy.cached_orgs({org})
        real_enqueue = svc.jobs.enqueue

        async def dies(*args: Any, **kwargs: Any) -> None:
            raise RedisConnectionError("router killed before the enqueue (test)")

        monkeypatch.setattr(svc.jobs, "enqueue", dies)
        with pytest.raises(RedisConnectionError):
            await BatchRouter(svc).route([event], orgs)
        assert await svc.redis.xlen(keys.feed(org, "u1")) == 1  # the signal was written
        monkeypatch.setattr(svc.jobs, "enqueue", real_enqueue)
        await BatchRouter(svc).route([event], orgs)  # the replay
        [signal_id] = [entry_id for entry_id, _ in await svc.redis.xrange(keys.feed(org, "u1"))]
        jobs = await svc.redis.zrange(QUEUE_NAME, 0, -1)
    assert jobs == [f"send:{org}:rule:now:u1:{signal_id}"]
