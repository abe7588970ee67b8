"""A call flow's wait queue end to end: <Enqueue> with a signed waitUrl and action, Twilio asked
(through the local Twilio API) to call each member of the group with the TwiML that dials the
caller's queue, hold music until max_wait then <Leave/>, and the flow going on after the queue.

Real gateway and router processes; every Twilio callback is signed with twilio's RequestValidator
against the URL the gateway put in its TwiML.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.integration.test_call_flows import open_now
from tests.support.api import call_params, post_twilio, twilio_signature
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.telephony import Tel, telephony_org

NUMBER = "+815011110002"
PHONES = {"u1": "+819011110001", "u2": "+819011110002"}
HOLD_MUSIC = "https://music.example.jp/hold.mp3"
GREETING = "お電話ありがとうございます。担当者におつなぎします。"


@pytest.fixture
async def tel(procs: Processes, redis_server: RedisServer, twilio_api: TwilioApi) -> AsyncIterator[Tel]:
    """A telephony org with a number bought on the local Twilio API, u1 and u2 with phones in the group sales."""
    async with telephony_org(procs, redis_server, twilio_api, "telq-") as t:
        t.api.offer_number(NUMBER, kind="Local")
        r = await t.client.post(t.path("/numbers"), json={"phone_number": NUMBER}, headers=t.admin)
        assert r.status_code == 201, r.text
        for user, phone in PHONES.items():
            r = await t.client.put(t.path(f"/users/{user}"), json={"phone": phone}, headers=t.admin)
            assert r.status_code == 200, r.text
        r = await t.client.put(t.path("/groups/sales"), json={"name": "営業", "members": ["u1", "u2"]}, headers=t.admin)
        assert r.status_code == 201, r.text
        yield t


async def _live(tel: Tel, queue: dict[str, Any]) -> None:
    flow = {
        "name": "代表番号",
        "number": NUMBER,
        "enabled": True,
        "steps": [
            {"say": GREETING},
            {"hours": {"open": await open_now(), "closed": [{"hangup": True}]}},
            {"queue": queue},
            {"voicemail": {"user": "u2", "prompt": "発信音の後にメッセージをどうぞ。"}},
        ],
    }
    r = await tel.client.put(tel.path("/call-flows/main"), json=flow, headers=tel.admin)
    assert r.status_code in (200, 201), r.text
    r = await tel.client.post(tel.path("/call-flows/main/publish"), headers=tel.admin)
    assert r.status_code == 200, r.text


async def _incoming(tel: Tel) -> tuple[dict[str, str], ET.Element]:
    call = dict(call_params("ringing"), To=NUMBER)
    r = await post_twilio(tel.client, tel.org, "voice", call)
    assert r.status_code == 200, r.text
    return call, ET.fromstring(r.content)


async def _callback(tel: Tel, url: str, params: dict[str, str], *, signed: bool = True) -> httpx.Response:
    assert url.startswith(f"{tel.gw.base_url}/webhooks/twilio/{tel.org.id}/"), url
    headers = {"X-Twilio-Signature": twilio_signature(tel.org.auth_token, url, params)} if signed else {}
    parts = urlsplit(url)
    return await tel.client.post(f"{parts.path}?{parts.query}", data=params, headers=headers)


def _verbs(doc: ET.Element) -> list[str]:
    return [child.tag for child in doc]


async def test_a_queued_caller_waits_while_the_group_is_called_then_goes_on_to_voicemail(tel: Tel) -> None:
    await _live(tel, {"group": "sales", "hold_music": HOLD_MUSIC, "max_wait": 60, "timeout": 15})
    call, doc = await _incoming(tel)
    assert _verbs(doc) == ["Say", "Enqueue"]
    assert doc[0].text == GREETING and doc[0].attrib["language"] == "ja-JP"
    enqueue = doc[1]
    queue = enqueue.text or ""
    assert queue.isalnum() and len(queue) <= 64
    webhooks = f"{tel.gw.base_url}/webhooks/twilio/{tel.org.id}"
    assert enqueue.attrib["waitUrl"].startswith(f"{webhooks}/voice-queue-wait?t=")
    assert enqueue.attrib["action"].startswith(f"{webhooks}/voice-flow?t=")
    assert enqueue.attrib["waitUrlMethod"] == "POST" and enqueue.attrib["method"] == "POST"

    # Twilio was asked to call each member from the called number, ringing `timeout` seconds, with
    # the TwiML that dials this caller's queue.
    creates = tel.api.requests_to("POST", "/Calls.json")
    assert sorted(c.form["To"] for c in creates) == sorted(PHONES.values())
    for create in creates:
        assert create.account == tel.account and create.form["From"] == NUMBER
        assert create.form["Timeout"] == "15" and create.form["Method"] == "POST"
        assert create.form["Url"].startswith(f"{webhooks}/voice-queue-agent?t=")
    agent_url = creates[0].form["Url"]
    member = dict(call_params("in-progress", caller=NUMBER, direction="outbound-api"), To=creates[0].form["To"])
    r = await _callback(tel, agent_url, member)
    assert r.status_code == 200, r.text
    [dial] = ET.fromstring(r.content)
    assert dial.tag == "Dial" and [(q.tag, q.text) for q in dial] == [("Queue", queue)]

    # While the caller waits: hold music below max_wait, <Leave/> once it is reached.
    wait = enqueue.attrib["waitUrl"]
    waiting = dict(call, CallStatus="in-progress", QueueSid="QU" + uuid.uuid4().hex, QueuePosition="1")
    r = await _callback(tel, wait, dict(waiting, QueueTime="12"))
    assert r.status_code == 200, r.text
    played = ET.fromstring(r.content)
    assert _verbs(played) == ["Play"] and played[0].text == HOLD_MUSIC
    r = await _callback(tel, wait, dict(waiting, QueueTime="60"))
    assert _verbs(ET.fromstring(r.content)) == ["Leave"]

    # The caller left the queue: the flow goes on to the voicemail. Bridged to a member: it ends.
    action = enqueue.attrib["action"]
    r = await _callback(tel, action, dict(call, CallStatus="in-progress", QueueResult="leave", QueueTime="60"))
    assert r.status_code == 200, r.text
    after = ET.fromstring(r.content)
    assert _verbs(after) == ["Say", "Record"] and after[0].text == "発信音の後にメッセージをどうぞ。"
    r = await _callback(tel, action, dict(call, CallStatus="completed", QueueResult="bridged", QueueTime="8"))
    assert _verbs(ET.fromstring(r.content)) == ["Hangup"]


async def test_without_hold_music_the_wait_speaks_in_the_steps_language(tel: Tel) -> None:
    await _live(tel, {"group": "sales", "max_wait": 30})
    call, doc = await _incoming(tel)
    wait = doc[1].attrib["waitUrl"]
    r = await _callback(tel, wait, dict(call, CallStatus="in-progress", QueueTime="25"))
    spoken = ET.fromstring(r.content)
    assert _verbs(spoken) == ["Say", "Pause"]
    assert spoken[0].attrib["language"] == "ja-JP" and "お待ちください" in (spoken[0].text or "")
    assert spoken[1].attrib["length"] == "5"
    assert [c.form["Timeout"] for c in tel.api.requests_to("POST", "/Calls.json")] == ["20", "20"]  # the default


async def test_queue_callbacks_unsigned_forged_or_foreign_are_refused(tel: Tel) -> None:
    await _live(tel, {"group": "sales", "hold_music": HOLD_MUSIC})
    call, doc = await _incoming(tel)
    enqueue = doc[1]
    wait, action = enqueue.attrib["waitUrl"], enqueue.attrib["action"]
    agent = tel.api.requests_to("POST", "/Calls.json")[0].form["Url"]
    waiting = dict(call, CallStatus="in-progress", QueueTime="1")
    for url in (wait, action, agent):
        r = await _callback(tel, url, waiting, signed=False)
        assert r.status_code == 403 and r.json()["error"] == "bad_signature", url
        token = parse_qs(urlsplit(url).query)["t"][0]
        forged = url.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
        r = await _callback(tel, forged, waiting)
        assert r.status_code == 403 and r.json()["error"] == "bad_flow_token", url
    # A wait token is not the agent's, nor the action's; another call cannot use the caller's wait.
    r = await _callback(tel, wait.replace("/voice-queue-wait?", "/voice-queue-agent?"), waiting)
    assert r.status_code == 403 and r.json()["error"] == "bad_flow_token"
    r = await _callback(tel, agent.replace("/voice-queue-agent?", "/voice-flow?"), dict(waiting, QueueResult="leave"))
    assert r.status_code == 403 and r.json()["error"] == "bad_flow_token"
    r = await _callback(tel, wait, dict(waiting, CallSid="CA" + uuid.uuid4().hex))
    assert r.status_code == 403 and r.json()["error"] == "bad_flow_token"


async def test_a_bad_queue_step_is_refused_with_its_path(tel: Tel) -> None:
    cases = [
        ({"group": "ghost"}, "steps[0].queue.group"),
        ({"group": "sales", "max_wait": 5}, "steps[0].queue.max_wait"),
        ({"group": "sales", "hold_music": "http://music.example.jp/hold.mp3"}, "steps[0].queue.hold_music"),
        ({"users": ["u1"]}, "steps[0].queue.users"),
    ]
    for queue, path in cases:
        flow = {"name": "q", "number": NUMBER, "steps": [{"queue": queue}]}
        r = await tel.client.put(tel.path("/call-flows/q"), json=flow, headers=tel.admin)
        assert r.status_code == 400 and r.json()["error"] == "invalid_flow", r.text
        assert r.json()["detail"].startswith(f"{path}: "), r.json()["detail"]
