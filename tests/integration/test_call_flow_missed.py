"""A call a flow answered and no rep took is a missed call: the log row says ``missed`` and the
caller's contact's owner gets one ``call.missed`` (gateway.domain.flow_missed).

Real gateway and router processes; every Twilio callback is signed with twilio's RequestValidator
against the URL the gateway put in its TwiML. The caller is 山田 太郎 (contact c-yamada, owner u1).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from tests.integration.test_call_flows import callback, dial_result, incoming, live_flow, telephony, verbs
from tests.support.api import Gateway, OrgCtx, call_params, post_twilio, signals_of
from tests.support.redis import RedisServer
from tests.support.timing import wait_for
from tests.support.ws import Feed, live_feed

RING_THEN_HANG_UP = [{"ring": {"users": ["u1"]}, "timeout": 20}, {"hangup": True}]


@pytest.fixture
async def tel_org(client: httpx.AsyncClient, org: OrgCtx, redis_server: RedisServer) -> OrgCtx:
    await telephony(client, org, redis_server.url)
    return org


async def ended(client: httpx.AsyncClient, org: OrgCtx, call: dict[str, str], *tokens: str) -> dict[str, Any]:
    """Twilio's final status of the call (once per idempotency token in ``tokens``: its retries),
    then the call's log row once the router has routed it."""
    done = dict(call, CallStatus="completed", CallDuration="31", Direction="inbound")
    for token in tokens:
        r = await post_twilio(client, org, "voice-status", done, idempotency_token=token)
        assert r.status_code == 204, r.text

    async def logged() -> dict[str, Any] | None:
        r = await client.get(f"/api/v1/orgs/{org.id}/calls", headers=org.gateway.admin)
        rows = [c for c in r.json()["calls"] if c["sid"] == call["CallSid"] and c["status"] == "completed"]
        return rows[0] if rows else None

    row: dict[str, Any] = await wait_for(logged)
    return row


def signal_types(feed: Feed) -> list[str]:
    return [f["signal"]["type"] for f in feed.frames if f["type"] == "signal"]


async def missed_of(client: httpx.AsyncClient, org: OrgCtx, user: str) -> list[dict[str, Any]]:
    history = await signals_of(client, org, user)
    return [s for s in history["signals"] if s["type"] == "call.missed"]


async def test_a_ring_nobody_answers_is_one_missed_call_for_the_contacts_owner(
    client: httpx.AsyncClient, gateway: Gateway, tel_org: OrgCtx
) -> None:
    org = tel_org
    await live_flow(client, org, steps=RING_THEN_HANG_UP)
    feed = await live_feed(gateway, org.tokens["u1"])
    call, doc = await incoming(client, org)
    assert verbs(doc) == ["Dial"]
    r = await callback(client, org, doc[0].attrib["action"], dial_result(call, "no-answer"))
    assert verbs(ET.fromstring(r.content)) == ["Hangup"]
    # Twilio retries the final status callback (same idempotency token): still one signal.
    token = "status-" + uuid.uuid4().hex
    row = await ended(client, org, call, token, token)
    assert row["missed"] is True and row["flow"] == "main" and row["user"] == "u1"
    assert row["contact"] == "c-yamada"
    sig = await feed.signal("call.missed")
    assert sig["user"] == "u1" and sig["count"] == 1
    assert sig["contact"] == {"id": "c-yamada", "name": "山田 太郎", "kind": "lead"}
    assert sig["title"] == "Missed call from 山田 太郎"
    assert sig["data"]["call_sid"] == call["CallSid"] and sig["data"]["flow"] == "main"
    assert sig["data"]["status"] == "completed" and sig["data"]["from"] == call["From"]
    # The status callback once more (a router routing it again would write the same event): one signal.
    await ended(client, org, call, token)
    [stored] = await missed_of(client, org, "u1")
    assert stored["count"] == 1 and stored["data"]["call_sid"] == call["CallSid"]
    assert signal_types(feed) == ["call.missed"]
    r = await client.get(f"/api/v1/orgs/{org.id}/calls", params={"format": "csv"}, headers=org.gateway.admin)
    assert f"{call['CallSid']}," in r.text and ",true,main," in r.text


async def test_a_ring_a_rep_answers_is_not_missed(client: httpx.AsyncClient, gateway: Gateway, tel_org: OrgCtx) -> None:
    org = tel_org
    await live_flow(client, org, steps=RING_THEN_HANG_UP)
    feed = await live_feed(gateway, org.tokens["u1"])
    call, doc = await incoming(client, org)
    r = await callback(client, org, doc[0].attrib["action"], dial_result(call, "completed"))
    assert verbs(ET.fromstring(r.content)) == ["Hangup"]
    row = await ended(client, org, call, "status-" + uuid.uuid4().hex)
    # The row is written in the same step as any signal of the event: none was.
    assert row["missed"] is False and row["flow"] == "main"
    assert await missed_of(client, org, "u1") == []
    assert signal_types(feed) == []


async def test_a_voicemail_is_a_voicemail_not_a_missed_call(
    client: httpx.AsyncClient, gateway: Gateway, tel_org: OrgCtx
) -> None:
    """Nobody answers, the caller leaves a message, the call ends, and Twilio posts the recording's
    status callback only after the call's final status: call.voicemail (to the step's u2), no
    call.missed (to u1), and the row is not missed."""
    org = tel_org
    steps = [RING_THEN_HANG_UP[0], {"voicemail": {"user": "u2", "prompt": "発信音の後にメッセージをどうぞ。"}}]
    await live_flow(client, org, steps=steps)
    owner, step_user = await live_feed(gateway, org.tokens["u1"]), await live_feed(gateway, org.tokens["u2"])
    call, doc = await incoming(client, org)
    r = await callback(client, org, doc[0].attrib["action"], dial_result(call, "no-answer"))
    after = ET.fromstring(r.content)
    assert verbs(after) == ["Say", "Record"]
    record = after[1]
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + uuid.uuid4().hex
    recorded = dict(call, CallStatus="in-progress", RecordingUrl=url, RecordingDuration="12")
    r = await callback(client, org, record.attrib["action"], recorded)
    assert verbs(ET.fromstring(r.content)) == ["Hangup"]
    row = await ended(client, org, call, "status-" + uuid.uuid4().hex)
    assert row["missed"] is False
    recording = {"CallSid": call["CallSid"], "RecordingSid": "RE" + uuid.uuid4().hex, "RecordingUrl": url,
                 "RecordingStatus": "completed", "RecordingDuration": "12"}  # fmt: skip
    r = await callback(client, org, record.attrib["recordingStatusCallback"], recording)
    assert r.status_code == 204, r.text
    sig = await step_user.signal("call.voicemail")
    assert sig["data"]["call_sid"] == call["CallSid"]
    assert await missed_of(client, org, "u1") == [] and await missed_of(client, org, "u2") == []
    assert signal_types(owner) == [] and signal_types(step_user) == ["call.voicemail"]


async def test_a_voicemail_step_the_caller_leaves_silently_is_missed(
    client: httpx.AsyncClient, gateway: Gateway, tel_org: OrgCtx
) -> None:
    """The caller hung up at the voicemail's beep without a word: no recording, so a missed call."""
    org = tel_org
    await live_flow(client, org, steps=[{"voicemail": {"user": "u2"}}])
    feed = await live_feed(gateway, org.tokens["u1"])
    params = dict(call_params("ringing"))
    r = await post_twilio(client, org, "voice", params)
    record = ET.fromstring(r.content)[0]
    assert record.tag == "Record"
    r = await callback(client, org, record.attrib["action"], dict(params, CallStatus="in-progress"))
    assert r.status_code == 200, r.text
    row = await ended(client, org, params, "status-" + uuid.uuid4().hex)
    assert row["missed"] is True
    sig = await feed.signal("call.missed")
    assert sig["data"]["call_sid"] == params["CallSid"] and sig["user"] == "u1"
