"""Reminders (versioned: a reschedule fires once, at the new time; a cancelled one never; past-due at
once; the user's own opt-out) and cancelling a queued or scheduled send. Real gateway, workers and
the local Twilio API recording messages."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import YAMADA_PHONE, Gateway
from tests.support.sending import (
    SendOrg,
    StartWorkers,
    buy,
    credits_of,
    notification,
    notify,
    provision_sending_org,
    settled,
    sms_template,
)
from tests.support.timing import FACTOR, wait_for

USER_PHONE = "+819087654321"  # u1 and u2 of provision_sending_org


def at(seconds: float) -> str:
    return (datetime.now(tz=UTC) + timedelta(seconds=seconds)).isoformat()


async def remind(client: httpx.AsyncClient, org: SendOrg, **body: Any) -> dict[str, Any]:
    body.setdefault("user", "u1")
    body.setdefault("activity", "task")
    r = await client.post(f"/api/v1/orgs/{org.id}/reminders", json=body, headers=org.ctx.gateway.admin)
    assert r.status_code == 202, r.text
    out: dict[str, Any] = r.json()
    return out


async def reminder(client: httpx.AsyncClient, org: SendOrg, rid: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/orgs/{org.id}/reminders/{rid}", headers=org.ctx.gateway.admin)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def bodies(twilio: TwilioApi, word: str) -> list[str]:
    return [str(m["body"]) for m in twilio.created if word in str(m["body"])]


async def first_message(twilio: TwilioApi, word: str, timeout: float) -> float:
    """The time (monotonic) a message containing ``word`` reached the local Twilio API."""

    async def seen() -> bool | None:
        return True if bodies(twilio, word) else None

    await wait_for(seen, timeout=timeout, interval=0.05)
    return time.monotonic()


@pytest.mark.usefixtures("send_workers")
async def test_a_rescheduled_reminder_fires_once_at_the_new_time_with_the_new_title(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    """Re-posting an id with a later time and a new title (and PUT on another) → one SMS each, at the
    new time, with the new title; never at the old time."""
    org = await provision_sending_org(client, gateway, twilio_api, country="US")
    await buy(client, org, 10)
    start = time.monotonic()
    first = await remind(client, org, id="r-post", title="OldTitleA", remind_at=at(2))
    await remind(client, org, id="r-put", title="OldTitleB", remind_at=at(2))
    again = await remind(client, org, id="r-post", title="NewTitleA", remind_at=at(6))
    r = await client.put(  # (before PUT existed: the same re-post)
        f"/api/v1/orgs/{org.id}/reminders/r-put",
        json={"title": "NewTitleB", "remind_at": at(6)},
        headers=gateway.admin,
    )
    assert r.status_code == 200 and r.json()["title"] == "NewTitleB", r.text
    seen_a = await first_message(twilio_api, "NewTitleA", timeout=20)
    seen_b = await first_message(twilio_api, "NewTitleB", timeout=20)
    assert min(seen_a, seen_b) - start >= 5.0  # not at the old time (2 s)
    await asyncio.sleep(2 * FACTOR)
    assert len(twilio_api.created) == 2
    assert bodies(twilio_api, "OldTitle") == []
    assert [m["to"] for m in twilio_api.created] == [USER_PHONE, USER_PHONE]
    assert again["version"] == first["version"] + 1 and again["status"] == "scheduled"

    async def sent(rid: str) -> dict[str, Any] | None:
        rec = await reminder(client, org, rid)
        return rec if rec["status"] == "sent" else None

    assert (await wait_for(lambda: sent("r-post"), timeout=10))["notification"]
    r = await client.get(
        f"/api/v1/orgs/{org.id}/reminders", params={"status": "sent", "limit": 1}, headers=gateway.admin
    )
    page = r.json()
    assert [x["id"] for x in page["reminders"]] == ["r-post"] and page["cursor"] == "r-post"
    r = await client.get(
        f"/api/v1/orgs/{org.id}/reminders", params={"status": "sent", "cursor": page["cursor"]}, headers=gateway.admin
    )
    assert [x["id"] for x in r.json()["reminders"]] == ["r-put"] and r.json()["cursor"] is None


@pytest.mark.usefixtures("send_workers")
async def test_cancelled_never_past_due_at_once_opted_out_none(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
) -> None:
    org = await provision_sending_org(client, gateway, twilio_api, country="US")
    await buy(client, org, 10)
    # The user's own opt-out, through /api/v1/me/settings.
    me = org.ctx.user_headers("u2")
    r = await client.put("/api/v1/me/settings", json={"reminders": False}, headers=me)
    assert r.status_code == 200 and r.json()["reminders"] is False, r.text
    r = await client.get("/api/v1/me/settings", headers=me)
    assert r.json()["reminders"] is False and "credits.low" in r.json()["types"]
    await remind(client, org, id="r-cancel", title="CancelMe", remind_at=at(2))
    r = await client.delete(f"/api/v1/orgs/{org.id}/reminders/r-cancel", headers=gateway.admin)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    await remind(client, org, id="r-optout", user="u2", title="OptedOut", remind_at=at(1))
    start = time.monotonic()
    await remind(client, org, id="r-late", title="PastDue", remind_at=at(-3600))
    assert await first_message(twilio_api, "PastDue", timeout=10) - start < 5 * FACTOR

    async def skipped() -> dict[str, Any] | None:
        rec = await reminder(client, org, "r-optout")
        return rec if rec["status"] == "skipped" else None

    assert (await wait_for(skipped, timeout=10))["reason"] == "user_opted_out"
    await asyncio.sleep(3 * FACTOR)
    assert bodies(twilio_api, "CancelMe") == [] and bodies(twilio_api, "OptedOut") == []
    assert (await reminder(client, org, "r-cancel"))["status"] == "cancelled"
    r = await client.put(f"/api/v1/orgs/{org.id}/reminders/r-cancel", json={"title": "x"}, headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (409, "reminder_cancelled")
    r = await client.delete(f"/api/v1/orgs/{org.id}/reminders/r-late", headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (409, "not_cancellable")
    r = await client.delete(f"/api/v1/orgs/{org.id}/reminders/nope", headers=gateway.admin)
    assert r.status_code == 404
    r = await client.get(f"/api/v1/orgs/{org.id}/reminders", params={"user": "u2"}, headers=gateway.admin)
    assert [x["id"] for x in r.json()["reminders"]] == ["r-optout"]


async def test_cancel_a_queued_or_scheduled_send(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    start_send_workers: StartWorkers,
) -> None:
    """Queued (no worker yet) and scheduled sends cancelled: never sent, nothing charged, the job does
    nothing when it runs; a sent one → 409 not_cancellable."""
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await sms_template(client, org, "{{ name }}様 ご予約ありがとうございます")
    await buy(client, org, 5)
    body = {"channel": "sms", "template": tid, "to": {"contact": "c-yamada"}, "data": {"name": "山田"}}
    queued = await notify(client, org, dict(body, idempotency_key="q"))
    scheduled = await notify(client, org, dict(body, idempotency_key="s", send_at=at(3)))
    assert (queued["status"], scheduled["status"]) == ("queued", "scheduled")
    for n in (queued, scheduled):
        r = await client.delete(f"/api/v1/orgs/{org.id}/notifications/{n['id']}", headers=gateway.admin)
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    start_send_workers()
    done = await settled(client, org, (await notify(client, org, dict(body, idempotency_key="x")))["id"])
    assert done["status"] == "sent"
    await asyncio.sleep(4 * FACTOR)  # the scheduled one's time passes
    for n in (queued, scheduled):
        rec = await notification(client, org, n["id"])
        assert rec["status"] == "cancelled" and "charged" not in rec, rec
        assert [h["status"] for h in rec["history"]][-1] == "cancelled"
    assert len(twilio_api.created_to(YAMADA_PHONE)) == 1
    assert (await credits_of(client, org))["balance"] == 4
    r = await client.delete(f"/api/v1/orgs/{org.id}/notifications/{done['id']}", headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (409, "not_cancellable")
    r = await client.delete(f"/api/v1/orgs/{org.id}/notifications/n_nope", headers=gateway.admin)
    assert (r.status_code, r.json()["error"]) == (404, "notification_not_found")
    # Re-posting a cancelled send's key does not revive it.
    again = await notify(client, org, dict(body, idempotency_key="q"))
    assert again["status"] == "cancelled"
