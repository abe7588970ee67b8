"""Call flows end to end: the management API, inbound-call TwiML, Dial/Record callbacks, voicemail.

Real gateway and router processes; every Twilio callback is signed with twilio's RequestValidator
against the URL the gateway put in its TwiML. Business hours are chosen relative to the real time
in the org's zone (Asia/Tokyo).
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from gateway.domain.call_flows import DAYS
from gateway.store import keys
from tests.support.api import (
    OUR_NUMBER,
    YAMADA_PHONE,
    Gateway,
    OrgCtx,
    call_params,
    post_twilio,
    provision_org,
    signals_of,
    twilio_signature,
)
from tests.support.redis import RedisServer
from tests.support.timing import wait_for
from tests.support.ws import live_feed

PHONE_1 = "+819011110001"
PHONE_2 = "+819011110002"
OTHER_NUMBER = "+815055550000"
GREETING = "お電話ありがとうございます。テスト株式会社です。"
CLOSED = "本日の営業は終了しました。"


async def _tokyo_now() -> datetime:
    """Now in Tokyo, never in the last minute of a day (an open window cannot include 23:59)."""
    now = datetime.now(ZoneInfo("Asia/Tokyo"))
    if now.hour == 23 and now.minute == 59:
        await asyncio.sleep(61 - now.second)
        now = datetime.now(ZoneInfo("Asia/Tokyo"))
    return now


async def open_now() -> list[dict[str, Any]]:
    today = DAYS[(await _tokyo_now()).weekday()]
    return [{"days": [today], "from": "00:00", "to": "23:59"}]


async def closed_now() -> list[dict[str, Any]]:
    today = DAYS[(await _tokyo_now()).weekday()]
    return [{"days": [d for d in DAYS if d != today], "from": "00:00", "to": "23:59"}]


async def telephony(client: httpx.AsyncClient, org: OrgCtx, redis_url: str) -> None:
    """The org's numbers (written the way the numbers store keeps them: buying one goes through the
    local Twilio API, which the numbers tests cover), the users' phones and a group (the API)."""
    r = aioredis.from_url(redis_url, decode_responses=True)
    try:
        for number in (OUR_NUMBER, OTHER_NUMBER):
            rec = {"phone_number": number, "sid": "PN" + uuid.uuid4().hex}
            await r.hset(keys.numbers(org.id), number, orjson.dumps(rec))
    finally:
        await r.aclose()
    for uid, phone in (("u1", PHONE_1), ("u2", PHONE_2)):
        resp = await client.put(f"/api/v1/orgs/{org.id}/users/{uid}", json={"phone": phone}, headers=org.gateway.admin)
        assert resp.status_code == 200, resp.text
    group = {"name": "営業", "members": ["u1", "u2"]}
    resp = await client.put(f"/api/v1/orgs/{org.id}/groups/sales", json=group, headers=org.gateway.admin)
    assert resp.status_code in (200, 201), resp.text


@pytest.fixture
async def tel_org(client: httpx.AsyncClient, org: OrgCtx, redis_server: RedisServer) -> OrgCtx:
    await telephony(client, org, redis_server.url)
    return org


async def flow_body(*, hours: list[dict[str, Any]] | None = None, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "代表番号",
        "description": "平日の受付",
        "number": OUR_NUMBER,
        "enabled": True,
        "steps": [
            {"say": GREETING, "language": "ja-JP"},
            {"hours": {"open": hours or await open_now(), "closed": [{"say": CLOSED}, {"hangup": True}]}},
            {"ring": {"group": "sales"}, "strategy": "simultaneous", "timeout": 25},
            {"voicemail": {"user": "u2", "prompt": "発信音の後にメッセージをどうぞ。", "max_length": 90}},
        ],
    }
    body.update(over)
    return body


async def put_flow(client: httpx.AsyncClient, org: OrgCtx, flow: str, body: dict[str, Any]) -> httpx.Response:
    return await client.put(f"/api/v1/orgs/{org.id}/call-flows/{flow}", json=body, headers=org.gateway.admin)


async def publish(client: httpx.AsyncClient, org: OrgCtx, flow: str) -> httpx.Response:
    return await client.post(f"/api/v1/orgs/{org.id}/call-flows/{flow}/publish", headers=org.gateway.admin)


async def live_flow(client: httpx.AsyncClient, org: OrgCtx, flow: str = "main", **over: Any) -> None:
    r = await put_flow(client, org, flow, await flow_body(**over))
    assert r.status_code in (200, 201), r.text
    r = await publish(client, org, flow)
    assert r.status_code == 200, r.text


async def incoming(
    client: httpx.AsyncClient, org: OrgCtx, *, to: str = OUR_NUMBER, sid: str | None = None
) -> tuple[dict[str, str], ET.Element]:
    params = dict(call_params("ringing", sid=sid), To=to)
    r = await post_twilio(client, org, "voice", params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    return params, ET.fromstring(r.content)


def verbs(doc: ET.Element) -> list[str]:
    return [child.tag for child in doc]


async def callback(
    client: httpx.AsyncClient, org: OrgCtx, url: str, params: dict[str, str], **headers: str
) -> httpx.Response:
    """POST ``params`` to a callback URL from our TwiML, signed as Twilio signs it."""
    assert url.startswith(org.gateway.base_url + f"/webhooks/twilio/{org.id}/"), url
    signed = {"X-Twilio-Signature": twilio_signature(org.auth_token, url, params), **headers}
    parts = urlsplit(url)
    return await client.post(f"{parts.path}?{parts.query}", data=params, headers=signed)


def dial_result(call: dict[str, str], status: str) -> dict[str, str]:
    return dict(call, CallStatus="in-progress", DialCallStatus=status)


# -- inbound TwiML ---------------------------------------------------------------------------
async def test_published_flow_answers_then_no_answer_continues_to_voicemail(
    client: httpx.AsyncClient, tel_org: OrgCtx
) -> None:
    """<Say language="ja-JP"> in Japanese, <Dial timeout> with a <Number> per group member; the
    Dial action with no-answer goes on to the voicemail's <Record>; an answered dial hangs up."""
    org = tel_org
    await live_flow(client, org)
    call, doc = await incoming(client, org)
    assert verbs(doc) == ["Say", "Dial"]
    say, dial = doc
    assert say.attrib["language"] == "ja-JP" and say.text == GREETING
    assert dial.attrib["timeout"] == "25"
    assert [n.text for n in dial.findall("Number")] == [PHONE_1, PHONE_2]

    r = await callback(client, org, dial.attrib["action"], dial_result(call, "no-answer"))
    assert r.status_code == 200, r.text
    after = ET.fromstring(r.content)
    assert verbs(after) == ["Say", "Record"]
    record = after[1]
    assert after[0].text == "発信音の後にメッセージをどうぞ。"
    assert record.attrib["maxLength"] == "90" and record.attrib["playBeep"] == "true"
    assert "/voice-recording?t=" in record.attrib["recordingStatusCallback"]
    # The caller hung up after the beep: Record's action ends the call.
    r = await callback(client, org, record.attrib["action"], dict(call, RecordingUrl="https://x/r"))
    assert verbs(ET.fromstring(r.content)) == ["Hangup"]

    r = await callback(client, org, dial.attrib["action"], dial_result(call, "completed"))
    assert verbs(ET.fromstring(r.content)) == ["Hangup"]


async def test_outside_business_hours_the_closed_branch_answers(client: httpx.AsyncClient, tel_org: OrgCtx) -> None:
    await live_flow(client, tel_org, hours=await closed_now())
    _, doc = await incoming(client, tel_org)
    assert verbs(doc) == ["Say", "Say", "Hangup"]
    assert [doc[0].text, doc[1].text] == [GREETING, CLOSED]


async def test_sequential_ring_dials_members_in_turn(client: httpx.AsyncClient, tel_org: OrgCtx) -> None:
    org = tel_org
    steps = [{"ring": {"users": ["u2", "u1"]}, "strategy": "sequential", "timeout": 10}, {"say": "不在です"}]
    await live_flow(client, org, steps=steps)
    call, doc = await incoming(client, org)
    assert verbs(doc) == ["Dial"] and [n.text for n in doc[0]] == [PHONE_2]
    r = await callback(client, org, doc[0].attrib["action"], dial_result(call, "busy"))
    second = ET.fromstring(r.content)
    assert verbs(second) == ["Dial"] and [n.text for n in second[0]] == [PHONE_1]
    r = await callback(client, org, second[0].attrib["action"], dial_result(call, "no-answer"))
    third = ET.fromstring(r.content)
    assert verbs(third) == ["Say", "Hangup"] and third[0].text == "不在です"


async def test_calls_without_a_live_flow_are_rejected(client: httpx.AsyncClient, tel_org: OrgCtx) -> None:
    """No flow, a draft never published, a disabled flow, another number → <Reject/>."""
    org = tel_org

    async def answer(to: str = OUR_NUMBER) -> list[str]:
        return verbs((await incoming(client, org, to=to))[1])

    assert await answer() == ["Reject"]
    assert (await put_flow(client, org, "main", await flow_body())).status_code == 201
    assert await answer() == ["Reject"]  # enabled, but only a draft
    assert (await publish(client, org, "main")).status_code == 200
    assert await answer() == ["Say", "Dial"]
    assert await answer(OTHER_NUMBER) == ["Reject"]  # the flow answers its own number only
    assert (await put_flow(client, org, "main", await flow_body(enabled=False))).status_code == 200
    assert await answer() == ["Reject"]  # the switch takes effect at once, no publish


async def test_another_orgs_number_is_rejected_and_unsigned_is_403(
    client: httpx.AsyncClient, gateway: Gateway, tel_org: OrgCtx, redis_server: RedisServer
) -> None:
    await live_flow(client, tel_org)
    other = await provision_org(client, gateway, "t-" + uuid.uuid4().hex[:12])
    # Org B's webhook asked about org A's number: B has no flow on it.
    _, doc = await incoming(client, other, to=OUR_NUMBER)
    assert verbs(doc) == ["Reject"]
    r = await post_twilio(client, tel_org, "voice", call_params("ringing"), signature=None)
    assert r.status_code == 403 and r.json()["error"] == "bad_signature"


async def test_draft_edits_wait_for_publish_and_the_switch_is_immediate(
    client: httpx.AsyncClient, tel_org: OrgCtx
) -> None:
    org = tel_org
    await live_flow(client, org)
    edited = await flow_body(steps=[{"say": "新しい案内です。"}, {"hangup": True}])
    r = await put_flow(client, org, "main", edited)
    assert r.status_code == 200
    flow = r.json()
    assert flow["draft_differs"] is True and flow["version"] == 1
    assert flow["published"]["steps"][0]["say"] == GREETING
    _, doc = await incoming(client, org)
    assert doc[0].text == GREETING  # the live version is unchanged
    r = await publish(client, org, "main")
    assert r.json()["version"] == 2 and r.json()["draft_differs"] is False
    _, doc = await incoming(client, org)
    assert verbs(doc) == ["Say", "Hangup"] and doc[0].text == "新しい案内です。"
    r = await put_flow(client, org, "main", dict(edited, enabled=False))
    assert r.json()["draft_differs"] is False and r.json()["enabled"] is False
    assert verbs((await incoming(client, org))[1]) == ["Reject"]
    r = await put_flow(client, org, "main", dict(edited, enabled=True))
    assert verbs((await incoming(client, org))[1]) == ["Say", "Hangup"]


async def test_a_call_keeps_the_version_it_started_on(client: httpx.AsyncClient, tel_org: OrgCtx) -> None:
    org = tel_org
    await live_flow(client, org)
    call, doc = await incoming(client, org)
    await live_flow(client, org, steps=[{"ring": {"users": ["u1"]}}, {"say": "version 2"}])
    r = await callback(client, org, doc[1].attrib["action"], dial_result(call, "no-answer"))
    assert verbs(ET.fromstring(r.content)) == ["Say", "Record"]  # version 1's voicemail, not version 2


async def test_forged_or_foreign_flow_tokens_are_refused(
    client: httpx.AsyncClient, gateway: Gateway, tel_org: OrgCtx
) -> None:
    org = tel_org
    await live_flow(client, org)
    call, doc = await incoming(client, org)
    action = doc[1].attrib["action"]
    forged = action[:-3] + ("AAA" if not action.endswith("AAA") else "BBB")
    r = await callback(client, org, forged, dial_result(call, "no-answer"))
    assert r.status_code == 403 and r.json()["error"] == "bad_flow_token"
    other_call = dict(call, CallSid="CA" + uuid.uuid4().hex)
    r = await callback(client, org, action, dial_result(other_call, "no-answer"))
    assert r.status_code == 403 and r.json()["error"] == "bad_flow_token"
    # The same token replayed into another org's callback URL (signed with that org's token).
    other = await provision_org(client, gateway, "t-" + uuid.uuid4().hex[:12])
    moved = action.replace(f"/webhooks/twilio/{org.id}/", f"/webhooks/twilio/{other.id}/")
    r = await callback(client, other, moved, dial_result(call, "no-answer"))
    assert r.status_code == 403 and r.json()["error"] == "bad_flow_token"
    # The recording token is not a dial token.
    r = await callback(client, org, action, dial_result(call, "no-answer"))
    record = ET.fromstring(r.content)[1]
    status_url = record.attrib["recordingStatusCallback"]
    r = await callback(client, org, status_url.replace("/voice-recording?", "/voice-flow?"), dial_result(call, "busy"))
    assert r.status_code == 403


# -- one live flow per number ------------------------------------------------------------------
async def test_one_live_flow_per_number_even_when_published_at_once(client: httpx.AsyncClient, tel_org: OrgCtx) -> None:
    org = tel_org
    racers = [f"r{i}" for i in range(6)]
    for flow in racers:
        assert (await put_flow(client, org, flow, await flow_body(name=flow))).status_code == 201
    results = await asyncio.gather(*(publish(client, org, flow) for flow in racers))
    codes = [r.status_code for r in results]
    assert sorted(codes) == [200] + [409] * 5
    assert {r.json()["error"] for r in results if r.status_code == 409} == {"number_has_flow"}
    winner = racers[codes.index(200)]
    other = next(flow for flow in racers if flow != winner)
    # Publishing a loser switched off is fine; switching it on is refused, and nothing is saved.
    r = await put_flow(client, org, other, await flow_body(name=other, enabled=False))
    assert r.status_code == 200
    assert (await publish(client, org, other)).status_code == 200
    r = await put_flow(client, org, other, await flow_body(name="renamed", enabled=True))
    assert r.status_code == 409 and r.json()["error"] == "number_has_flow"
    r = await client.get(f"/api/v1/orgs/{org.id}/call-flows/{other}", headers=org.gateway.admin)
    assert r.json()["enabled"] is False and r.json()["name"] == other
    # Switching the winner off frees the number.
    assert (await put_flow(client, org, winner, await flow_body(name=winner, enabled=False))).status_code == 200
    assert (await put_flow(client, org, other, await flow_body(name=other, enabled=True))).status_code == 200
    r = await client.get(f"/api/v1/orgs/{org.id}/call-flows", headers=org.gateway.admin)
    live = [f["id"] for f in r.json()["flows"] if f["enabled"] and f["published"]]
    assert live == [other]


# -- voicemail -------------------------------------------------------------------------------
async def test_voicemail_becomes_one_signal_and_is_linked_in_the_call_log(
    client: httpx.AsyncClient, gateway: Gateway, tel_org: OrgCtx
) -> None:
    """The recording callback → call.voicemail to the voicemail step's user (u2, not the caller's
    owner u1), once however often Twilio retries; the call log row has the recording and flow."""
    org = tel_org
    await live_flow(client, org)
    feed = await live_feed(gateway, org.tokens["u2"])
    call, doc = await incoming(client, org)
    r = await callback(client, org, doc[1].attrib["action"], dial_result(call, "no-answer"))
    record = ET.fromstring(r.content)[1]
    recording = {
        "AccountSid": call["AccountSid"],
        "CallSid": call["CallSid"],
        "RecordingSid": "RE" + uuid.uuid4().hex,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1",
        "RecordingStatus": "completed",
        "RecordingDuration": "17",
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
    }
    url = record.attrib["recordingStatusCallback"]
    for token in ("retry-1", "retry-1", "another"):
        r = await callback(client, org, url, recording, **{"I-Twilio-Idempotency-Token": token})
        assert r.status_code == 204, r.text
    sig = await feed.signal("call.voicemail")
    assert sig["user"] == "u2" and sig["count"] == 1
    assert sig["contact"] == {"id": "c-yamada", "name": "山田 太郎", "kind": "lead"}
    assert sig["data"]["recording_url"] == recording["RecordingUrl"]
    assert sig["data"]["duration"] == 17 and sig["data"]["from"] == YAMADA_PHONE
    assert sig["data"]["call_sid"] == call["CallSid"] and sig["data"]["flow"] == "main"
    # The call ends; its status callback puts it in the log, with the flow and the recording.
    done = dict(call, CallStatus="completed", CallDuration="40", Direction="inbound")
    assert (await post_twilio(client, org, "voice-status", done)).status_code == 204

    async def logged() -> dict[str, Any] | None:
        r = await client.get(f"/api/v1/orgs/{org.id}/calls", headers=org.gateway.admin)
        rows = [c for c in r.json()["calls"] if c["sid"] == call["CallSid"]]
        return rows[0] if rows and rows[0].get("recording_url") else None

    row = await wait_for(logged)
    assert row["recording_url"] == recording["RecordingUrl"] and row["flow"] == "main"
    r = await client.get(f"/api/v1/orgs/{org.id}/calls", params={"format": "csv"}, headers=org.gateway.admin)
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert [(x["flow"], x["recording_url"]) for x in rows if x["sid"] == call["CallSid"]] == [
        ("main", recording["RecordingUrl"])
    ]
    history = await signals_of(client, org, "u2")
    assert [s["type"] for s in history["signals"]] == ["call.voicemail"]
    assert [f["signal"]["type"] for f in feed.frames if f["type"] == "signal"] == ["call.voicemail"]
    await feed.ws.close()


async def test_voicemail_from_an_unknown_number_still_reaches_the_user(
    client: httpx.AsyncClient, gateway: Gateway, tel_org: OrgCtx
) -> None:
    org = tel_org
    await live_flow(client, org, steps=[{"voicemail": {"user": "u1"}}])
    feed = await live_feed(gateway, org.tokens["u1"])
    params = dict(call_params("ringing", caller="+818011112222"))
    r = await post_twilio(client, org, "voice", params)
    record = ET.fromstring(r.content)[0]
    assert record.tag == "Record"
    recording = {"CallSid": params["CallSid"], "RecordingSid": "RE" + uuid.uuid4().hex,
                 "RecordingUrl": "https://api.twilio.com/r/RE2", "RecordingDuration": "3"}  # fmt: skip
    r = await callback(client, org, record.attrib["recordingStatusCallback"], recording)
    assert r.status_code == 204
    sig = await feed.signal("call.voicemail")
    assert sig["contact"] is None and sig["data"]["from"] == "+818011112222"
    await feed.ws.close()


# -- the management API ----------------------------------------------------------------------
async def test_invalid_drafts_name_the_step_path(client: httpx.AsyncClient, tel_org: OrgCtx) -> None:
    org = tel_org
    body = await flow_body()
    body["steps"][2] = {"ring": {"group": "support"}}
    r = await put_flow(client, org, "main", body)
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_flow", "detail": "steps[2].ring.group: unknown group 'support'"}
    body = await flow_body(number="+815099998888")
    r = await put_flow(client, org, "main", body)
    assert r.status_code == 400 and r.json()["detail"].startswith("number:")
    body = await flow_body()
    body["steps"][1]["hours"]["open"].append({"days": ["mon"], "from": "25:00", "to": "26:00"})
    r = await put_flow(client, org, "main", body)
    assert r.json()["detail"].startswith("steps[1].hours.open[1].from:")
    r = await client.get(f"/api/v1/orgs/{org.id}/call-flows/main", headers=org.gateway.admin)
    assert r.status_code == 404 and r.json()["error"] == "flow_not_found"
    # A user named by the draft is deleted before it is published: the publish is refused.
    assert (await put_flow(client, org, "main", await flow_body())).status_code == 201
    r = await client.delete(f"/api/v1/orgs/{org.id}/users/u2", headers=org.gateway.admin)
    assert r.status_code == 204
    r = await publish(client, org, "main")
    assert r.status_code == 400 and r.json()["detail"].startswith("steps[3].voicemail.user:")


async def test_members_and_other_orgs_are_refused(client: httpx.AsyncClient, gateway: Gateway, tel_org: OrgCtx) -> None:
    org = tel_org
    await live_flow(client, org)
    other = await provision_org(client, gateway, "t-" + uuid.uuid4().hex[:12])
    path = f"/api/v1/orgs/{org.id}/call-flows"
    for headers in (org.user_headers("u1"), other.user_headers("u1")):
        assert (await client.get(path, headers=headers)).status_code == 403
        assert (await client.get(f"{path}/main", headers=headers)).status_code == 403
        assert (await client.put(f"{path}/main", json=await flow_body(), headers=headers)).status_code == 403
        assert (await client.post(f"{path}/main/publish", headers=headers)).status_code == 403
        assert (await client.delete(f"{path}/main", headers=headers)).status_code == 403
    assert (await client.get(path)).status_code == 401
    r = await client.get(f"{path}/main", headers=gateway.admin)
    assert r.status_code == 200 and r.json()["version"] == 1
    # An org admin's user token manages its own org's flows, and no other org's.
    for ctx in (org, other):
        r = await client.put(f"/api/v1/orgs/{ctx.id}/users/u2", json={"role": "admin"}, headers=gateway.admin)
        assert r.status_code == 200, r.text
    r = await client.get(f"{path}/main", headers=org.user_headers("u2"))
    assert r.status_code == 200 and r.json()["id"] == "main"
    assert (await publish(client, org, "main")).status_code == 200
    r = await client.post(f"{path}/main/publish", headers=org.user_headers("u2"))
    assert r.status_code == 200 and r.json()["version"] == 3
    assert (await client.get(f"{path}/main", headers=other.user_headers("u2"))).status_code == 403
    r = await client.put(f"{path}/main", json=await flow_body(), headers=other.user_headers("u2"))
    assert r.status_code == 403


async def test_delete_frees_the_number(client: httpx.AsyncClient, tel_org: OrgCtx) -> None:
    org = tel_org
    await live_flow(client, org)
    r = await client.delete(f"/api/v1/orgs/{org.id}/call-flows/main", headers=org.gateway.admin)
    assert r.status_code == 204
    assert verbs((await incoming(client, org))[1]) == ["Reject"]
    r = await client.delete(f"/api/v1/orgs/{org.id}/call-flows/main", headers=org.gateway.admin)
    assert r.status_code == 404
    await live_flow(client, org, flow="second")
    r = await client.get(f"/api/v1/orgs/{org.id}/call-flows/second", headers=org.gateway.admin)
    assert r.json()["version"] == 1


async def test_a_number_a_live_flow_answers_on_is_not_released(client: httpx.AsyncClient, tel_org: OrgCtx) -> None:
    """The numbers API checks the live call flows (number_release.lua) before it releases a number."""
    org = tel_org
    await live_flow(client, org)
    r = await client.delete(f"/api/v1/orgs/{org.id}/numbers/{OUR_NUMBER}", headers=org.gateway.admin)
    assert r.status_code == 409 and r.json()["error"] == "number_in_use"
    r = await client.get(f"/api/v1/orgs/{org.id}/numbers/{OUR_NUMBER}", headers=org.gateway.admin)
    assert r.status_code == 200
