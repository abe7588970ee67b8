"""Signed Standard Webhooks events and open/click tracking, end to end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis as redis_sync

from gateway.domain.sealing import PREFIX, WEBHOOK_SECRET, SealError, derive_key, open_secret, seal_secret
from gateway.domain.tracking import TrackingClaim, sign
from gateway.store import keys
from tests.support.api import Gateway, OrgCtx, post_event, signals_of, signed_event_headers, survey
from tests.support.processes import SECRET_KEY
from tests.support.timing import wait_for
from tests.support.ws import live_feed


async def test_signed_event_becomes_signal_for_owner(client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway) -> None:
    """A verified survey.answered event for a contact (found by email, any case) reaches its owner."""
    feed = await live_feed(gateway, org.tokens["u1"])
    r = await post_event(client, org, survey({"email": "YAMADA@client.example.jp"}, "満足度調査"))
    assert r.status_code == 202, r.text
    assert r.json()["duplicate"] is False
    sig = await feed.signal("survey.answered")
    assert sig["title"] == "満足度調査"
    assert sig["contact"]["id"] == "c-yamada"
    assert sig["data"] == {"score": 5}
    await feed.ws.close()


async def test_event_contact_by_phone_and_id(client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway) -> None:
    """Contacts are found by E.164 phone (any formatting) and by id."""
    feed = await live_feed(gateway, org.tokens["u2"])
    await post_event(client, org, {"type": "desk.ticket", "contact": {"phone": "+1 (415) 555-0134"}, "title": "Help"})
    assert (await feed.signal("desk.ticket"))["contact"]["id"] == "c-smith"
    await post_event(client, org, {"type": "webinar.registered", "contact": {"id": "c-smith"}, "title": "Webinar"})
    assert (await feed.signal("webinar.registered"))["contact"]["id"] == "c-smith"
    await feed.ws.close()


async def test_webhook_secret_is_sealed_in_redis_and_still_verifies(
    client: httpx.AsyncClient, org: OrgCtx, sync_redis: redis_sync.Redis
) -> None:
    """The org's Standard Webhooks secret is stored ``sg1:``-sealed for this org and field (not in
    plain text), signed events still pass; a secret sealed under another key refuses them (403)."""
    raw = sync_redis.get(keys.org(org.id))
    assert isinstance(raw, str) and org.webhook_secret not in raw
    stored = json.loads(raw)["webhook_secret"]
    key = derive_key(SECRET_KEY.encode())
    assert stored.startswith(PREFIX) and open_secret(key, org.id, WEBHOOK_SECRET, stored) == org.webhook_secret
    with pytest.raises(SealError):
        open_secret(key, "another-org", WEBHOOK_SECRET, stored)
    assert (await post_event(client, org, survey({"id": "c-yamada"}))).status_code == 202

    rec = json.loads(raw)
    wrong = seal_secret(derive_key(b"a key this gateway never had"), org.id, WEBHOOK_SECRET, org.webhook_secret)
    sync_redis.set(keys.org(org.id), json.dumps(rec | {"webhook_secret": wrong}))

    async def refused() -> httpx.Response | None:
        r = await post_event(client, org, survey({"id": "c-yamada"}))
        return r if r.status_code == 403 else None

    r = await wait_for(refused, timeout=5, interval=0.2)  # the org cache expires first
    assert r.json()["error"] == "bad_signature" and org.webhook_secret not in r.text


async def test_stale_and_forged_events_are_refused(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """Timestamps more than 5 minutes off and bad signatures get 403; nothing becomes a signal."""
    body = json.dumps(survey({"id": "c-yamada"})).encode()
    old = signed_event_headers(org.webhook_secret, body, at=datetime.now(tz=UTC) - timedelta(minutes=6))
    future = signed_event_headers(org.webhook_secret, body, at=datetime.now(tz=UTC) + timedelta(minutes=6))
    forged = signed_event_headers("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", body)
    missing = {"content-type": "application/json"}
    for headers in (old, future, forged, missing):
        r = await client.post(f"/webhooks/events/{org.id}", content=body, headers=headers)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "bad_signature"
    altered = signed_event_headers(org.webhook_secret, body)
    r = await client.post(f"/webhooks/events/{org.id}", content=body.replace(b"5", b"1"), headers=altered)
    assert r.status_code == 403
    # A good one afterwards is the only signal.
    await post_event(client, org, survey({"id": "c-yamada"}, "ok"))
    history = await wait_for(lambda: _surveys(client, org))
    assert [s["title"] for s in history] == ["ok"]


async def _surveys(client: httpx.AsyncClient, org: OrgCtx) -> list[dict[str, object]]:
    return [s for s in (await signals_of(client, org))["signals"] if s["type"] == "survey.answered"]


async def test_replayed_webhook_id_is_accepted_once(client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway) -> None:
    """The same webhook-id delivered three times → 2xx each time, one signal."""
    feed = await live_feed(gateway, org.tokens["u1"])
    answers = [await post_event(client, org, survey({"id": "c-yamada"}), msg_id="msg_fixed_1") for _ in range(3)]
    assert [r.status_code for r in answers] == [202, 202, 202]
    assert [r.json()["duplicate"] for r in answers] == [False, True, True]
    await feed.signal("survey.answered")
    await post_event(client, org, {"type": "chat.unattended", "contact": {"id": "c-yamada"}, "title": "chat"})
    await feed.signal("chat.unattended")
    assert [f["signal"]["type"] for f in feed.frames if f["type"] == "signal"] == ["survey.answered", "chat.unattended"]
    await feed.ws.close()


async def test_bad_event_bodies_are_400(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """Signed but malformed bodies: bad JSON, unknown type, bad contact → 400 JSON errors."""
    for raw in (
        b"{not json",
        json.dumps({"type": "nope", "contact": {"id": "x"}}).encode(),
        json.dumps({"type": "desk.ticket", "contact": {"name": "x"}}).encode(),
    ):
        headers = signed_event_headers(org.webhook_secret, raw)
        r = await client.post(f"/webhooks/events/{org.id}", content=raw, headers=headers)
        assert r.status_code == 400, r.text
        assert set(r.json()) == {"error", "detail"}


async def test_body_over_limit_is_413(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """A body larger than max_body_bytes is refused with 413 before it is read."""
    raw = json.dumps(survey({"id": "c-yamada"}, "x" * 70_000)).encode()
    r = await client.post(
        f"/webhooks/events/{org.id}", content=raw, headers=signed_event_headers(org.webhook_secret, raw)
    )
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"


async def test_unknown_sender_makes_no_signal(client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway) -> None:
    """An event about an unknown contact is accepted, counted, and makes no signal."""
    feed = await live_feed(gateway, org.tokens["u1"])
    await post_event(client, org, survey({"email": "stranger@nowhere.example"}))
    await post_event(client, org, {"type": "desk.rating", "contact": {"id": "c-yamada"}, "title": "★★★★★"})
    await feed.signal("desk.rating")
    assert [f["signal"]["type"] for f in feed.frames if f["type"] == "signal"] == ["desk.rating"]
    metrics = (await client.get("/metrics")).text
    assert "signalgate_events_in_total" in metrics
    await feed.ws.close()


async def test_open_pixel_and_click(client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway) -> None:
    """A signed open → email.opened (repeat → count 2); a click → 302 and email.clicked."""
    feed = await live_feed(gateway, org.tokens["u1"])
    open_token = sign(gateway.secret_key, TrackingClaim(org.id, "n-1", "c-yamada"))
    for expected in (1, 2):
        r = await client.get(f"/t/o/{open_token}")
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/gif"
        assert "no-store" in r.headers["cache-control"]
        assert r.content.startswith(b"GIF89a")
        sig = await feed.signal("email.opened")
        assert sig["count"] == expected
    url = "https://example.jp/料金?plan=pro&ref=mail"
    click_token = sign(gateway.secret_key, TrackingClaim(org.id, "n-1", "c-yamada", url))
    r = await client.get(f"/t/c/{click_token}")
    assert r.status_code == 302
    assert r.headers["location"] == httpx.URL(url).raw_path.decode() or r.headers["location"].startswith(
        "https://example.jp/"
    )
    clicked = await feed.signal("email.clicked")
    assert clicked["data"]["url"] == url
    await feed.ws.close()


async def test_forged_tracking_tokens(client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway) -> None:
    """An altered click token → 404 (no open redirect); the pixel answers the GIF for any token."""
    token = sign(gateway.secret_key, TrackingClaim(org.id, "n-1", "c-yamada", "https://example.jp/"))
    payload, mac = token.split(".")
    evil = sign(b"another key", TrackingClaim(org.id, "n-1", "c-yamada", "https://evil.example/"))
    for bad in (
        payload + "." + mac[:-1] + ("A" if mac[-1] != "A" else "B"),
        evil,
        "garbage",
        evil.split(".")[0] + "." + mac,
        "%0AGk%08%06%C2%B0",  # a line break in the path (found by schemathesis): still the GIF
        "a%2Fb/c",
    ):
        r = await client.get(f"/t/c/{bad}")
        assert r.status_code == 404
        assert "location" not in r.headers
        p = await client.get(f"/t/o/{bad}")
        assert p.status_code == 200 and p.content.startswith(b"GIF89a")
