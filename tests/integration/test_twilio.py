"""Twilio webhooks end to end: signatures, durability, retries, grouping, call log, TwiML."""

from __future__ import annotations

import csv
import io
import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync
import redis.asyncio as aioredis

from gateway.domain.sealing import PREFIX, TWILIO_AUTH_TOKEN, SealError, derive_key, open_secret, seal_secret
from gateway.store import keys
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
from tests.support.processes import SECRET_KEY, Processes
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


# -- the auth token sealed at rest -----------------------------------------------------------------
def _stored_org(sync_redis: redis_sync.Redis, org: str) -> dict[str, Any]:
    raw = sync_redis.get(keys.org(org))
    assert isinstance(raw, str)
    out: dict[str, Any] = json.loads(raw)
    return out


def _write_org(sync_redis: redis_sync.Redis, rec: dict[str, Any]) -> None:
    sync_redis.set(keys.org(rec["id"]), json.dumps(rec))


async def _accepted_with(client: httpx.AsyncClient, org: OrgCtx, token: str) -> bool:
    r = await post_twilio(client, org, "sms", sms_params("封印テスト"), auth_token=token)
    return r.status_code == 200


async def test_auth_token_is_sealed_in_redis_and_still_verifies_webhooks(
    client: httpx.AsyncClient, org: OrgCtx, sync_redis: redis_sync.Redis, session_procs: Processes
) -> None:
    """The stored token is ``sg1:``-sealed (bound to the org and field) and signed webhooks pass; a
    legacy plain token written straight into Redis still verifies and is sealed on the next PUT; a
    token sealed under another key refuses webhooks (403) with one error line naming the org and
    field, never the token."""
    stored = _stored_org(sync_redis, org.id)["twilio"]["auth_token"]
    assert stored.startswith(PREFIX) and org.auth_token not in json.dumps(_stored_org(sync_redis, org.id))
    key = derive_key(SECRET_KEY.encode())
    assert open_secret(key, org.id, TWILIO_AUTH_TOKEN, stored) == org.auth_token
    with pytest.raises(SealError):
        open_secret(key, "another-org", TWILIO_AUTH_TOKEN, stored)
    assert (await post_twilio(client, org, "sms", sms_params("こんにちは"))).status_code == 200

    legacy = secrets.token_hex(16)  # written before sealing existed: plain text
    rec = _stored_org(sync_redis, org.id)
    _write_org(sync_redis, rec | {"twilio": rec["twilio"] | {"auth_token": legacy}})
    await wait_for(lambda: _accepted_with(client, org, legacy), timeout=5, interval=0.2)
    r = await client.put(f"/api/v1/orgs/{org.id}", json={"name": "封印"}, headers=org.gateway.admin)
    assert r.status_code == 200 and legacy not in r.text and r.json()["twilio"]["auth_token_set"] is True
    resealed = _stored_org(sync_redis, org.id)["twilio"]["auth_token"]
    assert resealed.startswith(PREFIX) and open_secret(key, org.id, TWILIO_AUTH_TOKEN, resealed) == legacy
    assert await _accepted_with(client, org, legacy)

    wrong = seal_secret(derive_key(b"a key this gateway never had"), org.id, TWILIO_AUTH_TOKEN, legacy)
    rec = _stored_org(sync_redis, org.id)
    _write_org(sync_redis, rec | {"twilio": rec["twilio"] | {"auth_token": wrong}})

    async def refused() -> httpx.Response | None:
        r = await post_twilio(client, org, "sms", sms_params("鍵違い"), auth_token=legacy)
        return r if r.status_code == 403 else None

    r = await wait_for(refused, timeout=5, interval=0.2)
    assert r.json()["error"] == "bad_signature" and legacy not in r.text
    assert (await post_twilio(client, org, "sms", sms_params("再送"), auth_token=legacy)).status_code == 403
    line = f"org '{org.id}': the stored twilio.auth_token cannot be opened"
    logs = "".join(p.read_text(errors="replace") for p in Path(session_procs.logdir).glob("serve-*.log"))
    assert logs.count(line) == 1, "one error line per unreadable value, not one per webhook"
    assert legacy not in logs and org.auth_token not in logs
