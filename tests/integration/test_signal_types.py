"""Every signal type SPEC lists ("## Signals") works wherever a type is named: a tracker's
`web.visited` event is accepted and pushed, a `call.voicemail` signal can be switched off, filtered
and counted by type, against the session's gateway + router processes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.config import load_config
from gateway.domain.signals import iso_utc
from gateway.services import Services, open_services
from tests.support.api import Gateway, OrgCtx, post_event, signals_of
from tests.support.redis import RedisServer
from tests.support.ws import live_feed

# SPEC "## Signals", "Types:" in the order written there.
SPEC_TYPES = (
    "email.received", "email.replied", "email.opened", "email.clicked", "email.bounced",
    "sms.received", "sms.delivered", "sms.failed", "call.missed", "survey.answered",
    "campaign.opened", "campaign.clicked", "campaign.bounced", "chat.unattended", "desk.ticket",
    "desk.escalated", "desk.rating", "event.ticket_purchased", "event.checked_in",
    "event.ticket_cancelled", "webinar.registered", "call.voicemail", "credits.low", "web.visited",
)  # fmt: skip


@pytest.fixture
async def store(redis_server: RedisServer) -> AsyncIterator[Services]:
    async with open_services(load_config(None, {}), redis_server.url, secrets=False) as services:
        yield services


async def test_settings_list_and_switch_every_spec_type(client: httpx.AsyncClient, org: OrgCtx) -> None:
    r = await client.get("/api/v1/me/settings", headers=org.user_headers())
    assert r.status_code == 200
    assert set(SPEC_TYPES) <= set(r.json()["types"]), sorted(set(SPEC_TYPES) - set(r.json()["types"]))
    r = await client.put(
        "/api/v1/me/settings",
        json={"types": {"call.voicemail": False, "web.visited": False}},
        headers=org.user_headers(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["types"]["call.voicemail"] is False and r.json()["types"]["web.visited"] is False


async def test_web_visited_event_becomes_a_signal(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    feed = await live_feed(gateway, org.tokens["u1"])
    event = {
        "type": "web.visited",
        "contact": {"email": "yamada@client.example.jp"},
        "title": "料金ページを閲覧",
        "data": {"pages": ["/pricing", "/contact"], "seconds": 95},
    }
    r = await post_event(client, org, event)
    assert r.status_code == 202, r.text
    sig = await feed.signal("web.visited")
    assert sig["contact"]["id"] == "c-yamada" and sig["data"] == {"pages": ["/pricing", "/contact"], "seconds": 95}
    listed = await signals_of(client, org, type="web.visited")
    assert [s["id"] for s in listed["signals"]] == [sig["id"]]


async def test_voicemail_signals_filter_and_count_by_type(
    client: httpx.AsyncClient, org: OrgCtx, store: Services
) -> None:
    body = {
        "type": "call.voicemail",
        "org": org.id,
        "user": "u1",
        "contact": {"id": "c-yamada", "name": "山田 太郎", "kind": "lead"},
        "title": "Voicemail from 山田 太郎",
        "body": "",
        "occurred_at": iso_utc(1_764_000_000_000),
        "data": {"recording_url": "https://api.twilio.com/rec/RE1", "duration": 12},
    }
    written = await store.feed.write(org.id, "u1", f"vm-{uuid.uuid4().hex}", "call.voicemail", None, body)
    assert written.status == "new"
    r = await client.get("/api/v1/me/signals", params={"type": "call.voicemail"}, headers=org.user_headers())
    assert r.status_code == 200, r.text
    assert [s["id"] for s in r.json()["signals"]] == [written.signal_id]
    r = await client.get("/api/v1/me/signals/counts", headers=org.user_headers())
    assert r.json()["by_type"]["call.voicemail"] == 1
    assert sum(r.json()["by_type"].values()) == r.json()["unread"]
