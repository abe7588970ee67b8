"""credits.low is never lost when a worker dies between the charge that crosses the threshold and
the append of the warning: the crossing is recorded as owed in the same Lua step, and the next
send of the org delivers it, to each admin exactly once, however often it is delivered.

Real Redis, gateway (router), worker process and local Twilio API; the dying worker's step is run
through the store API from the test (exactly what the worker runs first), then nothing is appended."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.config import load_config
from gateway.devtools.twilio_api import TwilioApi
from gateway.domain.quota import local_day
from gateway.services import Services, open_services
from gateway.store.sending import SmsStart
from tests.support.api import Gateway
from tests.support.processes import SECRET_KEY, Processes
from tests.support.redis import RedisServer
from tests.support.sending import (
    SendOrg,
    SmtpServer,
    buy,
    notify,
    provision_sending_org,
    settled,
    sms_template,
    start_workers,
)
from tests.support.timing import wait_for
from workers.sms_credits import deliver_owed_low

ADMINS = ("u1", "u2")


@pytest.fixture
async def services(redis_server: RedisServer) -> AsyncIterator[Services]:
    """In-process services on the session's Redis (what a worker process holds)."""
    environ = {
        "SIGNALGATE_SMTP_FROM_ADDRESS": "sales@signalgate.example.jp",
        "SIGNALGATE_GATEWAY_SECRET_KEY": SECRET_KEY,
    }
    async with open_services(load_config(environ=environ), redis_server.url, secrets=False) as svc:
        yield svc


async def _dying_step(services: Services, org: SendOrg, segments: int) -> tuple[str, SmsStart]:
    """A worker's first step for a new SMS notification (fields, charge, `sending`, attempt claim),
    after which the worker dies: nothing else runs, nothing is appended."""
    nid = "n_dead_" + uuid.uuid4().hex[:10]
    await services.notifications.create(org.id, {"id": nid, "channel": "sms", "to": {"phone": "+819087654321"}})
    day = local_day(datetime.now(tz=UTC), "Asia/Tokyo")
    start = await services.sending.sms_begin(org.id, nid, segments, {"text": "x"}, stale_ms=60_000, token="t", day=day)
    return nid, start


async def _low_signals(client: httpx.AsyncClient, org: SendOrg, user: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/me/signals", params={"type": "credits.low"}, headers=org.ctx.user_headers(user))
    assert r.status_code == 200, r.text
    signals: list[dict[str, Any]] = r.json()["signals"]
    return signals


async def _each_admin_has(client: httpx.AsyncClient, org: SendOrg, n: int) -> list[dict[str, Any]]:
    """Wait until every admin has ``n`` credits.low signals, give stragglers a second, then return
    them all (each admin's, newest first)."""

    async def arrived() -> bool:
        return all([len(await _low_signals(client, org, u)) >= n for u in ADMINS])

    await wait_for(arrived, timeout=10)
    await asyncio.sleep(1.0)  # a duplicate would arrive by now
    return [s for u in ADMINS for s in await _low_signals(client, org, u)]


async def test_credits_low_of_a_worker_that_died_before_telling_is_delivered_once(
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
    services: Services,
) -> None:
    """Auto-recharge off, threshold 2, balance 2. A worker charges 1 (2 → 1: the crossing) and dies
    before appending: the next SMS of the org (a real worker) tells both admins once. A second
    crossing delivered by two workers at once still tells each admin once; delivering again adds
    nothing, and the dead job's rerun finds nothing left owed."""
    start_workers(procs, redis_server, gateway, twilio_api, smtp_server)
    org = await provision_sending_org(client, gateway, twilio_api)
    for admin in ADMINS:
        r = await client.put(f"/api/v1/orgs/{org.id}/users/{admin}", json={"role": "admin"}, headers=gateway.admin)
        assert r.status_code == 200, r.text
    tid = await sms_template(client, org, "Hello {{ name }}")
    await buy(client, org, 2)
    r = await client.put(
        f"/api/v1/orgs/{org.id}/credits/auto-recharge", json={"enabled": False, "threshold": 2}, headers=gateway.admin
    )
    assert r.status_code == 200, r.text

    dead, start = await _dying_step(services, org, 1)
    assert (start.reservation.outcome, start.reservation.balance, start.reservation.low) == ("charged", 1, True)

    # The next send of the org (1 → 0: no new crossing) delivers the dead worker's warning.
    body = {"channel": "sms", "template": tid, "to": {"contact": "c-yamada"}, "data": {"name": "Yamada"}}
    assert (await settled(client, org, (await notify(client, org, body))["id"]))["status"] == "sent"
    signals = await _each_admin_has(client, org, 1)
    assert len(signals) == len(ADMINS), signals
    assert [(s["count"], s["data"]["balance"], s["data"]["threshold"]) for s in signals] == [(1, 1, 2)] * len(ADMINS)
    assert {s["data"]["reason"] for s in signals} == {"auto_recharge_off"}
    # The dead worker's job, run again: already charged, the crossing spent, nothing owed any more.
    day = local_day(datetime.now(tz=UTC), "Asia/Tokyo")
    rerun = await services.sending.sms_begin(org.id, dead, 1, {"text": "x"}, stale_ms=60_000, token="t2", day=day)
    assert (rerun.reservation.outcome, rerun.reservation.low, rerun.reservation.owed) == ("already_charged", False, 0)

    # A purchase back above the threshold re-arms; the next crossing's worker dies too, and two
    # workers deliver its owed warning at the same moment.
    await buy(client, org, 3)  # 0 → 3
    _, second = await _dying_step(services, org, 2)  # 3 → 1: the second crossing
    assert (second.reservation.balance, second.reservation.low, second.reservation.owed) == (1, True, 1)
    delivered = await asyncio.gather(deliver_owed_low(services, org.id), deliver_owed_low(services, org.id))
    assert 1 <= sum(delivered) <= 2
    assert await services.credits.owed_low(org.id) == []
    assert await deliver_owed_low(services, org.id) == 0  # a later attempt finds nothing owed
    signals = await _each_admin_has(client, org, 2)
    assert len(signals) == 2 * len(ADMINS), signals
    assert [s["count"] for s in signals] == [1] * (2 * len(ADMINS))
    for admin in ADMINS:  # two distinct signals each: one per crossing
        assert len({s["id"] for s in await _low_signals(client, org, admin)}) == 2
