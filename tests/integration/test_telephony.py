"""Telephony end to end: numbers through the local Twilio API, telephony users and groups,
click-to-call and its signed outbound leg, the call log (filters, paging, CSV), access."""

from __future__ import annotations

import csv
import io
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import (
    YAMADA_PHONE,
    call_params,
    post_twilio,
    provision_org,
    signals_of,
    twilio_signature,
)
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.telephony import Tel, telephony_org
from tests.support.timing import wait_for

NUMBER = "+815011110001"
USER_PHONE = "+819087654321"


@pytest.fixture
async def tel(procs: Processes, redis_server: RedisServer, twilio_api: TwilioApi) -> AsyncIterator[Tel]:
    """A gateway (+ router) whose Twilio is the local Twilio API, and an org with an account there."""
    async with telephony_org(procs, redis_server, twilio_api, "tel-") as t:
        yield t


async def _buy(tel: Tel, number: str = NUMBER) -> dict[str, Any]:
    tel.api.offer_number(number, kind="Local", locality="東京")
    r = await tel.client.post(tel.path("/numbers"), json={"phone_number": number}, headers=tel.admin)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_numbers_search_buy_adopt_list_release(tel: Tel) -> None:
    """Search (contains) → buy points VoiceUrl/StatusCallback here → adopt by sid → list → release."""
    tel.api.offer_number("+815012345678", kind="Local")
    tel.api.offer_number("+815099990000", kind="Local")
    tel.api.offer_number("+818012345678", kind="Mobile")
    r = await tel.client.get(tel.path("/numbers/available"), params={"country": "JP", "contains": "1234"},
                             headers=tel.admin)  # fmt: skip
    assert r.status_code == 200, r.text
    assert [n["phone_number"] for n in r.json()["numbers"]] == ["+815012345678"]
    r = await tel.client.get(tel.path("/numbers/available"), params={"country": "JP", "type": "mobile"},
                             headers=tel.admin)  # fmt: skip
    assert [n["phone_number"] for n in r.json()["numbers"]] == ["+818012345678"]
    assert r.json()["numbers"][0]["capabilities"]["voice"] is True

    bought = await _buy(tel, "+815012345678")
    assert bought["phone_number"] == "+815012345678" and bought["sid"].startswith("PN")
    [create] = tel.api.requests_to("POST", "/IncomingPhoneNumbers.json")
    base = f"{tel.gw.base_url}/webhooks/twilio/{tel.org.id}"
    assert create.form["PhoneNumber"] == "+815012345678"
    assert create.form["VoiceUrl"] == base + "/voice" and create.form["VoiceMethod"] == "POST"
    assert create.form["StatusCallback"] == base + "/voice-status"
    assert create.form["StatusCallbackMethod"] == "POST"
    assert create.account == tel.account

    owned = tel.api.own_number(tel.account, "+815077778888")
    r = await tel.client.post(tel.path("/numbers"), json={"sid": owned}, headers=tel.admin)
    assert r.status_code == 201, r.text
    assert r.json()["phone_number"] == "+815077778888"
    [adopted] = [n for n in tel.api.numbers if n["sid"] == owned]
    assert adopted["voice_url"] == base + "/voice" and adopted["status_callback"] == base + "/voice-status"

    r = await tel.client.get(tel.path("/numbers"), params={"limit": 1}, headers=tel.admin)
    assert [n["phone_number"] for n in r.json()["numbers"]] == ["+815012345678"]
    r = await tel.client.get(tel.path("/numbers"), params={"cursor": r.json()["cursor"]}, headers=tel.admin)
    assert [n["phone_number"] for n in r.json()["numbers"]] == ["+815077778888"] and r.json()["cursor"] is None

    r = await tel.client.post(tel.path("/numbers"), json={"phone_number": "+815012345678"}, headers=tel.admin)
    assert r.status_code == 409 and r.json()["error"] == "number_exists"
    r = await tel.client.post(tel.path("/numbers"), json={"phone_number": "+815000000000"}, headers=tel.admin)
    assert r.status_code == 400 and r.json()["error"] == "twilio_refused" and "21422" in r.json()["detail"]

    r = await tel.client.delete(tel.path("/numbers/+815012345678"), headers=tel.admin)
    assert r.status_code == 204, r.text
    assert [n["phone_number"] for n in tel.api.numbers] == ["+815077778888"]
    r = await tel.client.get(tel.path("/numbers"), headers=tel.admin)
    assert [n["phone_number"] for n in r.json()["numbers"]] == ["+815077778888"]
    r = await tel.client.delete(tel.path("/numbers/+815012345678"), headers=tel.admin)
    assert r.status_code == 404 and r.json()["error"] == "number_not_found"
    r = await tel.client.delete(tel.path("/numbers/not-a-number"), headers=tel.admin)
    assert r.status_code == 400 and r.json()["error"] == "invalid_phone"


async def test_telephony_user_settings_and_groups(tel: Tel) -> None:
    """caller_id must be an org number (400 naming telephony.caller_id); groups validate members[i]."""
    await _buy(tel)
    users = tel.path("/users/u1")
    r = await tel.client.put(users, json={"telephony": {"enabled": True, "caller_id": "+815099999999"}},
                             headers=tel.admin)  # fmt: skip
    assert r.status_code == 400 and r.json()["error"] == "invalid_field"
    assert "telephony.caller_id" in r.json()["detail"]
    r = await tel.client.put(users, json={"telephony": {"enabled": "yes"}}, headers=tel.admin)
    assert r.status_code == 400 and "telephony.enabled" in r.json()["detail"]
    settings = {"enabled": True, "outbound": True, "record_outbound": True, "caller_id": NUMBER}
    r = await tel.client.put(users, json={"telephony": settings, "name": "佐藤 花子"}, headers=tel.admin)
    assert r.status_code == 200, r.text
    r = await tel.client.put(users, json={"telephony": {"record_outbound": False}}, headers=tel.admin)
    assert (await tel.client.get(users, headers=tel.admin)).json()["telephony"] == dict(settings, record_outbound=False)

    group = tel.path("/groups/sales")
    r = await tel.client.put(group, json={"name": "営業部", "members": ["u1", "nobody"]}, headers=tel.admin)
    assert r.status_code == 400 and r.json()["error"] == "unknown_user" and "members[1]" in r.json()["detail"]
    r = await tel.client.put(group, json={"name": "営業部", "members": ["u1", "u2"]}, headers=tel.admin)
    assert r.status_code == 201 and r.json() == {"id": "sales", "name": "営業部", "members": ["u1", "u2"]}
    r = await tel.client.put(group, json={"members": ["u2"]}, headers=tel.admin)
    assert r.status_code == 200 and r.json()["name"] == "営業部"
    r = await tel.client.get(tel.path("/groups"), headers=tel.admin)
    assert r.json() == {"groups": [{"id": "sales", "name": "営業部", "members": ["u2"]}]}
    assert (await tel.client.delete(group, headers=tel.admin)).status_code == 204
    assert (await tel.client.get(group, headers=tel.admin)).status_code == 404


async def _enable(tel: Tel, user: str = "u1", **settings: Any) -> None:
    body = {"phone": USER_PHONE, "telephony": {"enabled": True, "outbound": True, "caller_id": NUMBER, **settings}}
    r = await tel.client.put(tel.path(f"/users/{user}"), json=body, headers=tel.admin)
    assert r.status_code == 200, r.text


async def _recorded_call_to_yamada(tel: Tel) -> str:
    """u1 (recording outbound calls) clicks to call the contact 山田; the sid of the call placed."""
    await _buy(tel)
    await _enable(tel, record_outbound=True)
    r = await tel.client.post(
        "/api/v1/me/calls", json={"to": {"contact": "c-yamada"}}, headers=tel.org.user_headers("u1")
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    sid: str = r.json()["sid"]
    return sid


async def test_click_to_call_rings_the_user_then_dials_the_contact(tel: Tel) -> None:
    """Twilio is asked to call the user's phone from the caller ID; the signed leg dials the contact."""
    sid = await _recorded_call_to_yamada(tel)
    [create] = tel.api.requests_to("POST", "/Calls.json")
    assert create.form["To"] == USER_PHONE and create.form["From"] == NUMBER
    assert create.form["StatusCallback"] == f"{tel.gw.base_url}/webhooks/twilio/{tel.org.id}/voice-status"
    url = create.form["Url"]
    assert url.startswith(f"{tel.gw.base_url}/webhooks/twilio/{tel.org.id}/outbound?leg=")

    # Twilio fetches the leg's TwiML when the user answers, signed over the whole URL.
    params = call_params("in-progress", sid=sid, caller=NUMBER, direction="outbound-api")
    path = urlsplit(url).path + "?" + urlsplit(url).query
    sig = twilio_signature(tel.org.auth_token, url, params)
    r = await tel.client.post(path, data=params, headers={"X-Twilio-Signature": sig})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    [dial] = ET.fromstring(r.content)
    assert dial.tag == "Dial" and dial.attrib["callerId"] == NUMBER
    assert dial.attrib["record"] == "record-from-answer-dual"
    assert [(n.tag, n.text) for n in dial] == [("Number", YAMADA_PHONE)]
    # Unsigned, or a leg token altered (even correctly signed by Twilio's rules): 403.
    r = await tel.client.post(path, data=params)
    assert r.status_code == 403
    token = parse_qs(urlsplit(url).query)["leg"][0]
    forged_url = url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    sig = twilio_signature(tel.org.auth_token, forged_url, params)
    forged = urlsplit(forged_url)
    r = await tel.client.post(forged.path + "?" + forged.query, data=params, headers={"X-Twilio-Signature": sig})
    assert r.status_code == 403 and r.json()["error"] == "bad_leg"

    # Without record_outbound the Dial has no record attribute; a bare number works too.
    await _enable(tel, record_outbound=False)
    r = await tel.client.post("/api/v1/me/calls", json={"to": "+81312345678"}, headers=tel.org.user_headers("u1"))
    assert r.status_code == 202, r.text
    url = tel.api.requests_to("POST", "/Calls.json")[-1].form["Url"]
    sig = twilio_signature(tel.org.auth_token, url, params)
    r = await tel.client.post(urlsplit(url).path + "?" + urlsplit(url).query, data=params,
                              headers={"X-Twilio-Signature": sig})  # fmt: skip
    assert f'<Dial callerId="{NUMBER}"><Number>+81312345678</Number></Dial>' in r.text

    # The call is in the log as the user's outbound call to the contact.
    async def logged() -> dict[str, Any] | None:
        calls = (await tel.client.get(tel.path("/calls"), headers=tel.admin)).json()["calls"]
        return next((c for c in calls if c["sid"] == sid), None)

    row = await wait_for(logged)
    assert row["direction"] == "outbound" and row["user"] == "u1" and row["contact"] == "c-yamada"
    assert row["from"] == NUMBER and row["to"] == YAMADA_PHONE and row["contact_name"] == "山田 太郎"


async def test_recorded_click_to_call_links_its_recording_in_the_call_log(tel: Tel) -> None:
    """The recorded leg's <Dial> carries a signed recordingStatusCallback; Twilio's callback puts the
    recording's URL and duration on the outbound call's log row, and makes no call.voicemail."""
    sid = await _recorded_call_to_yamada(tel)
    url = tel.api.requests_to("POST", "/Calls.json")[-1].form["Url"]
    answered = call_params("in-progress", sid=sid, caller=NUMBER, direction="outbound-api")
    r = await _post_signed(tel, url, answered)
    assert r.status_code == 200, r.text
    [dial] = ET.fromstring(r.content)
    callback = dial.attrib["recordingStatusCallback"]
    assert callback.startswith(f"{tel.gw.base_url}/webhooks/twilio/{tel.org.id}/outbound-recording?t=")
    assert dial.attrib["recordingStatusCallbackMethod"] == "POST"

    recording = {
        "AccountSid": tel.account,
        "CallSid": sid,
        "RecordingSid": "RE" + uuid.uuid4().hex,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{tel.account}/Recordings/RE1",
        "RecordingStatus": "completed",
        "RecordingDuration": "63",
        "RecordingChannels": "2",
        "RecordingSource": "DialVerb",
    }
    # Unsigned, another call's sid under this token, a forged token: 403, and nothing is written.
    parts = urlsplit(callback)
    r = await tel.client.post(parts.path + "?" + parts.query, data=recording)
    assert r.status_code == 403
    r = await _post_signed(tel, callback, dict(recording, CallSid="CA" + uuid.uuid4().hex))
    assert r.status_code == 403 and r.json()["error"] == "bad_recording_token"
    token = parse_qs(parts.query)["t"][0]
    r = await _post_signed(tel, callback.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB")),
                           recording)  # fmt: skip
    assert r.status_code == 403 and r.json()["error"] == "bad_recording_token"
    r = await _post_signed(tel, callback, {"CallSid": sid})
    assert r.status_code == 400 and r.json()["error"] == "invalid_callback"

    r = await _post_signed(tel, callback, recording)
    assert r.status_code == 204, r.text
    rows = (await tel.client.get(tel.path("/calls"), headers=tel.admin)).json()["calls"]
    [row] = [c for c in rows if c["sid"] == sid]
    assert row["recording_url"] == recording["RecordingUrl"] and row["recording_duration"] == 63
    assert row["direction"] == "outbound" and row["user"] == "u1" and row["to"] == YAMADA_PHONE
    r = await tel.client.get(tel.path("/calls"), params={"format": "csv"}, headers=tel.admin)
    csv_rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert [(x["recording_url"], x["recording_duration"]) for x in csv_rows if x["sid"] == sid] == [
        (recording["RecordingUrl"], "63")
    ]
    # The call ends: its status callback leaves the recording on the row; still no signal.
    done = dict(answered, CallStatus="completed", CallDuration="70")
    assert (await post_twilio(tel.client, tel.org, "voice-status", done)).status_code == 204

    async def ended() -> dict[str, Any] | None:
        calls = (await tel.client.get(tel.path("/calls"), headers=tel.admin)).json()["calls"]
        return next((c for c in calls if c["sid"] == sid and c["status"] == "completed"), None)

    row = await wait_for(ended)
    assert row["recording_url"] == recording["RecordingUrl"] and row["duration"] == 70
    for user in ("u1", "u2"):
        types = [s["type"] for s in (await signals_of(tel.client, tel.org, user))["signals"]]
        assert "call.voicemail" not in types, (user, types)


async def _post_signed(tel: Tel, url: str, params: dict[str, str]) -> httpx.Response:
    """POST ``params`` to an absolute gateway URL (with its query), signed as Twilio signs it."""
    parts = urlsplit(url)
    sig = twilio_signature(tel.org.auth_token, url, params)
    return await tel.client.post(parts.path + "?" + parts.query, data=params, headers={"X-Twilio-Signature": sig})


async def test_click_to_call_refusals(tel: Tel) -> None:
    """403 without outbound; 400 for +86 and non-E.164; 409 no_phone, no_caller_id."""
    me = tel.org.user_headers("u1")
    r = await tel.client.post("/api/v1/me/calls", json={"to": "+81312345678"}, headers=me)
    assert r.status_code == 403 and r.json()["error"] == "outbound_not_allowed"
    await _buy(tel)
    await _enable(tel)
    cases = [
        ({"to": "+8613812345678"}, 400, "destination_not_allowed"),
        ({"to": "03-1234-5678"}, 400, "invalid_phone"),
        ({"to": "+8199"}, 400, "invalid_phone"),
        ({"to": {"contact": "no-such"}}, 404, "contact_not_found"),
    ]
    r = await tel.client.put(tel.path("/contacts/c-nophone"), json={"name": "電話なし"}, headers=tel.admin)
    assert r.status_code == 201
    cases.append(({"to": {"contact": "c-nophone"}}, 409, "no_phone"))
    for body, status, code in cases:
        r = await tel.client.post("/api/v1/me/calls", json=body, headers=me)
        assert (r.status_code, r.json()["error"]) == (status, code), body
    r = await tel.client.put(tel.path("/users/u1"), json={"telephony": {"caller_id": None}}, headers=tel.admin)
    r = await tel.client.post("/api/v1/me/calls", json={"to": "+81312345678"}, headers=me)
    assert (r.status_code, r.json()["error"]) == (409, "no_caller_id")
    assert tel.api.requests_to("POST", "/Calls.json") == []


async def test_release_refused_while_a_flow_answers(tel: Tel) -> None:
    """DELETE of a number a live call flow answers on is 409 number_in_use (number_release.lua)."""
    await _buy(tel)
    # The call flows own this check; a published, enabled flow on the number is what it reports.
    flow = {"name": "受付", "number": NUMBER, "enabled": True, "steps": [{"say": "お電話ありがとうございます"}]}
    r = await tel.client.put(tel.path("/call-flows/main"), json=flow, headers=tel.admin)
    if r.status_code == 404:
        pytest.skip("call flows are not on this branch yet (helper F)")
    assert r.status_code in (200, 201), r.text
    assert (await tel.client.post(tel.path("/call-flows/main/publish"), headers=tel.admin)).status_code == 200
    r = await tel.client.delete(tel.path(f"/numbers/{NUMBER}"), headers=tel.admin)
    assert r.status_code == 409 and r.json()["error"] == "number_in_use"


async def _log(tel: Tel, **params: Any) -> dict[str, Any]:
    r = await tel.client.get(tel.path("/calls"), params=params, headers=tel.admin)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_call_log_filters_paging_and_csv(tel: Tel) -> None:
    """Filters by direction, user, status and time; every row exactly once over pages; CSV with BOM."""
    answered = dict(call_params("completed"), CallDuration="42")
    missed = call_params("no-answer")
    outbound = call_params("completed", caller=NUMBER, direction="outbound-api")
    outbound["To"] = "+81312345678"
    for params in (answered, missed, outbound):
        assert (await post_twilio(tel.client, tel.org, "voice-status", params)).status_code == 204

    async def all_logged() -> list[dict[str, Any]] | None:
        calls: list[dict[str, Any]] = (await _log(tel))["calls"]
        return calls if len(calls) == 3 else None

    calls = {c["sid"]: c for c in await wait_for(all_logged)}
    row = calls[missed["CallSid"]]
    assert row["missed"] is True and row["direction"] == "inbound" and row["contact"] == "c-yamada"
    assert row["contact_name"] == "山田 太郎" and row["user"] == "u1"  # the contact's owner
    assert calls[answered["CallSid"]]["duration"] == 42 and calls[answered["CallSid"]]["missed"] is False
    assert calls[outbound["CallSid"]]["direction"] == "outbound"

    assert {c["sid"] for c in (await _log(tel, direction="inbound"))["calls"]} == {
        answered["CallSid"],
        missed["CallSid"],
    }
    assert [c["sid"] for c in (await _log(tel, status="no-answer"))["calls"]] == [missed["CallSid"]]
    assert {c["sid"] for c in (await _log(tel, user="u1"))["calls"]} == {answered["CallSid"], missed["CallSid"]}
    assert (await _log(tel, user="u2"))["calls"] == []
    assert len((await _log(tel, **{"from": "2000-01-01", "to": "2099-12-31"}))["calls"]) == 3
    assert (await _log(tel, **{"from": "2000-01-01", "to": "2000-01-02"}))["calls"] == []
    assert (await _log(tel, **{"from": "2099-01-01T00:00:00+09:00"}))["calls"] == []

    seen: list[str] = []
    page = await _log(tel, limit=1)
    while True:
        seen += [c["sid"] for c in page["calls"]]
        if page["cursor"] is None:
            break
        page = await _log(tel, limit=1, cursor=page["cursor"])
    assert sorted(seen) == sorted(calls) and len(seen) == 3

    r = await tel.client.get(tel.path("/calls"), params={"format": "csv", "from": "2000-01-01"}, headers=tel.admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in r.content
    assert f'filename="calls-{tel.org.id}_2000-01-01_all.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert {row["sid"] for row in rows} == set(calls)
    assert next(row for row in rows if row["sid"] == missed["CallSid"])["contact_name"] == "山田 太郎"
    assert list(rows[0]) == ["sid", "direction", "from", "to", "status", "duration", "started_at", "user",
                             "contact", "contact_name", "missed", "flow", "recording_url",
                             "recording_duration"]  # fmt: skip
    for bad in ({"direction": "sideways"}, {"from": "yesterday"}, {"cursor": "zzz"}, {"limit": "0"}):
        r = await tel.client.get(tel.path("/calls"), params=bad, headers=tel.admin)
        assert r.status_code == 400 and r.json()["error"] == "invalid_parameter", bad


async def test_members_and_other_orgs_are_refused(tel: Tel) -> None:
    """A member's token and another org's tokens get 403 on numbers, groups and the call log; the org's admin 200."""
    other = await provision_org(tel.client, tel.gw, "tel-" + uuid.uuid4().hex[:10])
    for path in ("/numbers", "/groups", "/calls", "/numbers/available?country=JP"):
        for headers in (tel.org.user_headers("u2"), other.user_headers("u1")):
            r = await tel.client.get(tel.path(path), headers=headers)
            assert r.status_code == 403, (path, r.text)
    r = await tel.client.post(tel.path("/numbers"), json={"phone_number": NUMBER}, headers=tel.org.user_headers("u2"))
    assert r.status_code == 403
    # The org's own admin may (SPEC "Org admins"), and only on its own org.
    r = await tel.client.put(tel.path("/users/u1"), json={"role": "admin"}, headers=tel.admin)
    assert r.status_code == 200
    admin = tel.org.user_headers("u1")
    await _buy(tel)
    r = await tel.client.delete(tel.path(f"/numbers/{NUMBER}"), headers=admin)
    assert r.status_code == 204, r.text
    for path in ("/numbers", "/groups", "/calls"):
        assert (await tel.client.get(tel.path(path), headers=admin)).status_code == 200, path
        assert (await tel.client.get(f"/api/v1/orgs/{other.id}{path}", headers=admin)).status_code == 403, path
