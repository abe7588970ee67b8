"""Twilio webhooks end to end: signatures, durability, retries, grouping, call log, TwiML."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import redis.asyncio as aioredis

from tests.support.api import (
    SMITH_PHONE,
    Gateway,
    OrgCtx,
    call_params,
    post_twilio,
    signals_of,
    sms_params,
    twilio_signature,
)
from tests.support.redis import RedisServer
from tests.support.streams import org_entries
from tests.support.timing import wait_for
from tests.support.ws import live_feed


async def _stream_entries(redis_url: str, org: str) -> list[tuple[str, dict[str, str]]]:
    r = aioredis.from_url(redis_url, decode_responses=True)
    try:
        return await org_entries(r, org)
    finally:
        await r.aclose()


async def test_valid_signature_is_durable_before_the_response(
    client: httpx.AsyncClient, org: OrgCtx, redis_server: RedisServer
) -> None:
    """A correctly signed callback answers 2xx and its event is already in the partition stream."""
    params = sms_params("こんにちは、見積もりの件です")
    r = await post_twilio(client, org, "sms", params)
    assert r.status_code == 200
    entries = await _stream_entries(redis_server.url, org.id)
    assert [e[1]["source"] for e in entries] == ["twilio.sms"]
    assert params["MessageSid"] in entries[0][1]["data"]


async def test_bad_signatures_are_refused_and_store_nothing(
    client: httpx.AsyncClient, org: OrgCtx, redis_server: RedisServer
) -> None:
    """Missing, forged and wrong-URL signatures get 403 and leave no event behind."""
    params = call_params("no-answer")
    path = f"/webhooks/twilio/{org.id}/voice-status"
    cases = [
        await post_twilio(client, org, "voice-status", params, signature=None),
        await post_twilio(client, org, "voice-status", params, signature="forged+signature="),
        await post_twilio(client, org, "voice-status", params, auth_token="0" * 32),
        await post_twilio(client, org, "voice-status", params, sign_url="https://evil.example" + path),
    ]
    assert [r.status_code for r in cases] == [403, 403, 403, 403]
    assert all(r.json()["error"] == "bad_signature" for r in cases)
    # A tampered parameter after signing is refused as well.
    tampered = dict(params, From=SMITH_PHONE)
    r = await client.post(
        path,
        data=tampered,
        headers={"X-Twilio-Signature": twilio_signature(org.auth_token, org.gateway.base_url + path, params)},
    )
    assert r.status_code == 403
    assert await _stream_entries(redis_server.url, org.id) == []


async def test_unknown_org_is_404(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """Callbacks for an org that does not exist answer 404 JSON."""
    r = await client.post("/webhooks/twilio/no-such-org/sms", data={"From": "+1"})
    assert r.status_code == 404
    assert r.json()["error"] == "org_not_found"


async def test_retries_with_one_idempotency_token_make_one_signal(
    client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway
) -> None:
    """Three deliveries with the same I-Twilio-Idempotency-Token → one signal."""
    feed = await live_feed(gateway, org.tokens["u1"])
    params = call_params("no-answer")
    token = str(uuid.uuid4())
    for _ in range(3):
        r = await post_twilio(client, org, "voice-status", params, idempotency_token=token)
        assert r.status_code == 204
    sig = await feed.signal("call.missed")
    assert sig["count"] == 1
    # A later, different event proves the pipeline moved on without a second copy.
    await post_twilio(client, org, "sms", sms_params("marker"))
    await feed.signal("sms.received")
    signal_frames = [f for f in feed.frames if f["type"] == "signal"]
    assert [f["signal"]["type"] for f in signal_frames] == ["call.missed", "sms.received"]
    await feed.ws.close()


async def test_missed_call_reaches_owner_and_repeat_groups(
    client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway
) -> None:
    """A missed inbound call from a contact → call.missed to the owner; a second one → same signal, count 2."""
    feed = await live_feed(gateway, org.tokens["u1"])
    other = await live_feed(gateway, org.tokens["u2"])
    await post_twilio(client, org, "voice-status", call_params("ringing"))
    await post_twilio(client, org, "voice-status", call_params("no-answer"))
    first = await feed.signal("call.missed")
    assert first["contact"] == {"id": "c-yamada", "name": "山田 太郎", "kind": "lead"}
    assert first["user"] == "u1" and first["org"] == org.id and first["count"] == 1
    await post_twilio(client, org, "voice-status", call_params("busy"))
    update = await feed.signal("call.missed")
    assert update["id"] == first["id"] and update["count"] == 2
    history = await signals_of(client, org)
    assert [(s["id"], s["count"]) for s in history["signals"]] == [(first["id"], 2)]
    # The other user (not the owner) got nothing.
    await post_twilio(client, org, "voice-status", call_params("no-answer", caller=SMITH_PHONE))
    assert (await other.signal("call.missed"))["contact"]["id"] == "c-smith"
    assert [f["signal"]["contact"]["id"] for f in other.frames if f["type"] == "signal"] == ["c-smith"]
    await feed.ws.close()
    await other.ws.close()


async def test_answered_and_outbound_calls_are_logged_but_not_signalled(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """Every call is in the call log (JSON and CSV); only missed inbound calls become signals."""
    answered = call_params("completed")
    answered["CallDuration"] = "42"
    outbound = call_params("no-answer", direction="outbound-api")
    outbound["From"], outbound["To"] = outbound["To"], outbound["From"]
    unknown = call_params("no-answer", caller="+818011112222")
    missed = call_params("no-answer")
    for params in (answered, outbound, unknown, missed):
        assert (await post_twilio(client, org, "voice-status", params)).status_code == 204

    async def logged() -> list[dict[str, object]] | None:
        r = await client.get(f"/api/v1/orgs/{org.id}/calls", headers=org.gateway.admin)
        calls: list[dict[str, object]] = r.json()["calls"]
        return calls if len(calls) == 4 else None

    calls = await wait_for(logged)
    by_sid = {c["sid"]: c for c in calls}
    assert by_sid[answered["CallSid"]]["status"] == "completed"
    assert by_sid[answered["CallSid"]]["duration"] == 42
    assert by_sid[outbound["CallSid"]]["direction"] == "outbound"  # SPEC: inbound or outbound
    r = await client.get(f"/api/v1/orgs/{org.id}/calls", params={"format": "csv"}, headers=org.gateway.admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert {row["sid"] for row in rows} == set(by_sid)
    assert {row["status"] for row in rows} == {"completed", "no-answer"}
    history = await wait_for(lambda: _missed(client, org))
    assert [s["data"]["call_sid"] for s in history] == [missed["CallSid"]]


async def _missed(client: httpx.AsyncClient, org: OrgCtx) -> list[dict[str, object]]:
    return [s for s in (await signals_of(client, org))["signals"] if s["type"] == "call.missed"]


async def test_incoming_sms_makes_signal_and_answers_twiml(
    client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway
) -> None:
    """An incoming SMS from a contact → sms.received with the text; the answer is empty TwiML."""
    feed = await live_feed(gateway, org.tokens["u1"])
    r = await post_twilio(client, org, "sms", sms_params("明日10時に伺います"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")
    assert r.text.endswith("<Response/>")
    sig = await feed.signal("sms.received")
    assert sig["data"]["text"] == "明日10時に伺います"
    assert sig["contact"]["id"] == "c-yamada"
    await feed.ws.close()


async def test_voice_without_call_flow_rejects(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """An incoming call to a number with no published call flow is answered with <Reject/>."""
    r = await post_twilio(client, org, "voice", call_params("ringing"))
    assert r.status_code == 200
    assert "<Reject/>" in r.text


async def test_sms_status_never_regresses_or_duplicates(
    client: httpx.AsyncClient, org: OrgCtx, gateway: Gateway
) -> None:
    """delivered then a late sent (and a repeated delivered) → one sms.delivered, status stays delivered."""
    feed = await live_feed(gateway, org.tokens["u1"])
    sid = "SM" + uuid.uuid4().hex
    base = {"MessageSid": sid, "To": "+819012345678", "From": "+815012345678", "AccountSid": "AC" + "0" * 32}
    for status in ("delivered", "sent", "delivered", "queued"):
        r = await post_twilio(client, org, "sms-status", dict(base, MessageStatus=status))
        assert r.status_code == 204
    sig = await feed.signal("sms.delivered")
    assert sig["data"]["message_sid"] == sid
    failed_sid = "SM" + uuid.uuid4().hex
    await post_twilio(
        client, org, "sms-status", dict(base, MessageSid=failed_sid, MessageStatus="undelivered", ErrorCode="30003")
    )
    failed = await feed.signal("sms.failed")
    assert failed["data"]["error_code"] == "30003"
    delivered = [f for f in feed.frames if f["type"] == "signal" and f["signal"]["type"] == "sms.delivered"]
    assert len(delivered) == 1
    await feed.ws.close()


async def test_bad_form_and_missing_fields_are_400(client: httpx.AsyncClient, org: OrgCtx) -> None:
    """A signed callback missing required parameters is a 400 JSON error, not a crash."""
    r = await post_twilio(client, org, "voice-status", {"From": "+1"})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_callback"
