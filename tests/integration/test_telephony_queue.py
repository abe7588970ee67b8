"""A call flow's wait queue end to end: <Enqueue> with a signed waitUrl and action, Twilio asked
(through the local Twilio API) to call each member of the group once, however often Twilio retries,
each answered member call hearing a whisper and taking the caller only by pressing 1, the other
member calls ended through the REST API once one did (or once the caller left), hold music until
max_wait then <Leave/>, and the flow going on after the queue.

Real gateway and router processes; every Twilio callback is signed with twilio's RequestValidator
against the URL the gateway put in its TwiML.
"""

from __future__ import annotations

import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from gateway.domain.call_queue import HANG_UP_RETRY_DELAYS
from tests.integration.test_call_flow_missed import ended, missed_of
from tests.integration.test_call_flows import open_now
from tests.support.api import call_params, post_twilio, twilio_signature
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.telephony import Tel, telephony_org
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import live_feed

NUMBER = "+815011110002"
PHONES = {"u1": "+819011110001", "u2": "+819011110002", "u3": "+819011110003"}
HOLD_MUSIC = "https://music.example.jp/hold.mp3"
GREETING = "お電話ありがとうございます。担当者におつなぎします。"
WHISPER = "お客様からのお電話です。1を押すと応答します。"


@pytest.fixture
async def tel(procs: Processes, redis_server: RedisServer, twilio_api: TwilioApi) -> AsyncIterator[Tel]:
    """A telephony org with a number bought on the local Twilio API, u1, u2 and u3 with phones in the group sales."""
    async with telephony_org(procs, redis_server, twilio_api, "telq-") as t:
        t.api.offer_number(NUMBER, kind="Local")
        r = await t.client.post(t.path("/numbers"), json={"phone_number": NUMBER}, headers=t.admin)
        assert r.status_code == 201, r.text
        for user, phone in PHONES.items():
            r = await t.client.put(t.path(f"/users/{user}"), json={"phone": phone}, headers=t.admin)
            assert r.status_code in (200, 201), r.text  # u3 is new to the org
        r = await t.client.put(t.path("/groups/sales"), json={"name": "営業", "members": list(PHONES)}, headers=t.admin)
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


def _legs(tel: Tel) -> list[str]:
    """The call sids of the member calls placed on the local Twilio API, in the order of PHONES."""
    by_phone = {c["to"]: c["sid"] for c in tel.api.calls if c["account_sid"] == tel.account}
    assert len(by_phone) == len(tel.api.calls), "one call per member"
    return [by_phone[phone] for phone in PHONES.values()]


def _leg_params(tel: Tel, leg: str, **extra: str) -> dict[str, str]:
    """What Twilio posts about a member call the gateway placed."""
    [resource] = [c for c in tel.api.calls if c["sid"] == leg]
    return dict(
        call_params(resource["status"], sid=leg, caller=NUMBER, direction="outbound-api"), To=resource["to"], **extra
    )


async def _whisper(tel: Tel, leg: str, text: str = WHISPER, language: str = "ja-JP") -> str:
    """Play Twilio fetching the answered member call's TwiML: the whisper in a one-digit <Gather>,
    then <Hangup/>. Its (signed) accept URL."""
    [create] = [c for c in tel.api.requests_to("POST", "/Calls.json") if c.form["To"] == _leg_params(tel, leg)["To"]]
    r = await _callback(tel, create.form["Url"], _leg_params(tel, leg))
    assert r.status_code == 200, r.text
    doc = ET.fromstring(r.content)
    assert _verbs(doc) == ["Gather", "Hangup"]
    gather = doc[0]
    assert gather.attrib["numDigits"] == "1" and gather.attrib["timeout"] == "10" and gather.attrib["method"] == "POST"
    assert [(say.tag, say.text, say.attrib["language"]) for say in gather] == [("Say", text, language)]
    assert gather.attrib["action"].startswith(f"{tel.gw.base_url}/webhooks/twilio/{tel.org.id}/voice-queue-accept?t=")
    return gather.attrib["action"]


def _ended(tel: Tel) -> list[tuple[str, str]]:
    """(call sid, Status) of every call update the local Twilio API received, in order, all on the
    org's account."""
    updates = [r for r in tel.api.requests if r.method == "POST" and "/Calls/" in r.path]
    assert all(r.account == tel.account for r in updates)
    return [(r.path.rsplit("/", 1)[1].removesuffix(".json"), r.form["Status"]) for r in updates]


def _status(tel: Tel, leg: str) -> str:
    return str(next(c["status"] for c in tel.api.calls if c["sid"] == leg))


async def _all_ended(tel: Tel, expected: list[tuple[str, str]], timeout: float = 5.0) -> None:
    """Wait for the call updates ending the other legs (sent right after the answer), then check
    they are exactly ``expected`` (any order)."""
    await wait_for(lambda: len(_ended(tel)) >= len(expected), timeout)
    assert sorted(_ended(tel)) == sorted(expected)


async def test_a_retried_webhook_calls_once_and_the_first_member_to_press_1_takes_the_caller(tel: Tel) -> None:
    await _live(tel, {"group": "sales", "hold_music": HOLD_MUSIC, "max_wait": 120})
    call = dict(call_params("ringing"), To=NUMBER)
    first = await post_twilio(tel.client, tel.org, "voice", call)
    # Twilio retries the same signed webhook (our answer came too late): same TwiML, nobody called twice.
    again = await post_twilio(tel.client, tel.org, "voice", call)
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert sorted(c.form["To"] for c in tel.api.requests_to("POST", "/Calls.json")) == sorted(PHONES.values())
    enqueue = ET.fromstring(first.content)[1]
    queue = enqueue.text

    one, two, three = _legs(tel)
    tel.api.set_call_status(one, "in-progress")
    tel.api.set_call_status(two, "in-progress")  # answered, hears the whisper, has not pressed yet
    tel.api.set_call_status(three, "ringing")
    accept_one, accept_two = await _whisper(tel, one), await _whisper(tel, two)
    assert _ended(tel) == []  # answering is not accepting

    r = await _callback(tel, accept_one, _leg_params(tel, one, Digits="1"))
    assert r.status_code == 200, r.text
    [dial] = ET.fromstring(r.content)
    assert dial.tag == "Dial" and [(q.tag, q.text) for q in dial] == [("Queue", queue)]
    # The others end right after that answer: the ringing one canceled, the answered one (canceled
    # does not end an answered call) completed. Never the member who took the caller.
    await _all_ended(tel, [(two, "canceled"), (two, "completed"), (three, "canceled")])
    assert (_status(tel, one), _status(tel, two), _status(tel, three)) == ("in-progress", "completed", "canceled")

    # Twilio retries the accept: the same answer, nothing ended twice.
    r = await _callback(tel, accept_one, _leg_params(tel, one, Digits="1"))
    assert _verbs(ET.fromstring(r.content)) == ["Dial"]
    # The second member pressed 1 a moment too late: told so, and hung up by its own TwiML.
    r = await _callback(tel, accept_two, _leg_params(tel, two, Digits="1"))
    late = ET.fromstring(r.content)
    assert _verbs(late) == ["Say", "Hangup"] and late[0].attrib["language"] == "ja-JP"
    # The caller's bridge ends: the flow hangs up, and the member who took it stays untouched.
    r = await _callback(tel, enqueue.attrib["action"], dict(call, CallStatus="completed", QueueResult="bridged"))
    assert _verbs(ET.fromstring(r.content)) == ["Hangup"]
    assert len(_ended(tel)) == 3 and _status(tel, one) == "in-progress"


async def test_a_member_pressing_another_key_hangs_up_and_the_caller_leaving_ends_every_member_call(tel: Tel) -> None:
    await _live(tel, {"group": "sales", "max_wait": 30, "language": "en-US"})
    call, doc = await _incoming(tel)
    one, two, three = _legs(tel)
    tel.api.set_call_status(one, "in-progress")
    tel.api.set_call_status(two, "in-progress")
    tel.api.set_call_status(three, "ringing")
    english = ("You have a caller waiting. Press 1 to answer.", "en-US")  # the step's language
    accept_one, accept_two = await _whisper(tel, one, *english), await _whisper(tel, two, *english)
    for digits in ("2", "*"):
        r = await _callback(tel, accept_one, _leg_params(tel, one, Digits=digits))
        assert r.status_code == 200 and _verbs(ET.fromstring(r.content)) == ["Hangup"], r.text
    assert _ended(tel) == []

    # max_wait reached: the caller leaves the queue for the voicemail, and no member call rings on
    # (the one that declined hung up itself).
    r = await _callback(tel, doc[1].attrib["action"], dict(call, CallStatus="in-progress", QueueResult="leave"))
    assert _verbs(ET.fromstring(r.content)) == ["Say", "Record"]
    await _all_ended(tel, [(two, "canceled"), (two, "completed"), (three, "canceled")])
    assert (_status(tel, two), _status(tel, three)) == ("completed", "canceled")
    # A member pressing 1 after the caller left is told so; nothing is ended twice.
    r = await _callback(tel, accept_two, _leg_params(tel, two, Digits="1"))
    assert _verbs(ET.fromstring(r.content)) == ["Say", "Hangup"]
    assert len(_ended(tel)) == 3


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
    # An answered member call hears the whisper; only a person pressing 1 dials this caller's queue.
    leg = _legs(tel)[0]
    tel.api.set_call_status(leg, "in-progress")
    accept = await _whisper(tel, leg)
    r = await _callback(tel, accept, _leg_params(tel, leg, Digits="1"))
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
    assert [c.form["Timeout"] for c in tel.api.requests_to("POST", "/Calls.json")] == ["20"] * len(PHONES)  # default


async def test_queue_callbacks_unsigned_forged_or_foreign_are_refused(tel: Tel) -> None:
    await _live(tel, {"group": "sales", "hold_music": HOLD_MUSIC})
    call, doc = await _incoming(tel)
    enqueue = doc[1]
    wait, action = enqueue.attrib["waitUrl"], enqueue.attrib["action"]
    agent = tel.api.requests_to("POST", "/Calls.json")[0].form["Url"]
    one, two, _ = _legs(tel)
    accept = await _whisper(tel, one)
    waiting = dict(call, CallStatus="in-progress", QueueTime="1")
    for url, params in (
        (wait, waiting),
        (action, waiting),
        (agent, waiting),
        (accept, _leg_params(tel, one, Digits="1")),
    ):
        r = await _callback(tel, url, params, signed=False)
        assert r.status_code == 403 and r.json()["error"] == "bad_signature", url
        token = parse_qs(urlsplit(url).query)["t"][0]
        forged = url.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
        r = await _callback(tel, forged, params)
        assert r.status_code == 403 and r.json()["error"] == "bad_flow_token", url
    # One member's accept URL takes the caller for that member's call only; an agent token accepts nothing.
    r = await _callback(tel, accept, _leg_params(tel, two, Digits="1"))
    assert r.status_code == 403 and r.json()["error"] == "bad_flow_token"
    r = await _callback(
        tel, agent.replace("/voice-queue-agent?", "/voice-queue-accept?"), _leg_params(tel, one, Digits="1")
    )
    assert r.status_code == 403 and r.json()["error"] == "bad_flow_token"
    assert _ended(tel) == []  # nothing refused settled the wait
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


async def test_the_queue_steps_own_whisper_is_what_an_answered_member_hears(tel: Tel) -> None:
    """A queue step's ``whisper`` replaces the fixed text, Japanese intact, in the signed agent TwiML."""
    own = "サポート窓口（英語対応）のお客様です。1を押すと応答します。"
    await _live(tel, {"group": "sales", "max_wait": 60, "whisper": own})
    r = await tel.client.get(tel.path("/call-flows/main"), headers=tel.admin)
    assert r.json()["published"]["steps"][2]["queue"]["whisper"] == own
    await _incoming(tel)
    leg = _legs(tel)[0]
    tel.api.set_call_status(leg, "in-progress")
    accept = await _whisper(tel, leg, own, "ja-JP")
    r = await _callback(tel, accept, _leg_params(tel, leg, Digits="1"))
    assert r.status_code == 200 and ET.fromstring(r.content)[0].tag == "Dial", r.text


# A slow Twilio: each call update (ending a member leg) answers this many seconds late.
SLOW = 1.5 * FACTOR


async def _timed(tel: Tel, url: str, params: dict[str, str]) -> tuple[ET.Element, float]:
    started = time.monotonic()
    r = await _callback(tel, url, params)
    took = time.monotonic() - started
    assert r.status_code == 200, r.text
    return ET.fromstring(r.content), took


async def test_the_member_who_presses_1_is_bridged_at_once_while_a_slow_twilio_ends_the_other_legs(tel: Tel) -> None:
    await _live(tel, {"group": "sales", "max_wait": 120})
    _, doc = await _incoming(tel)
    one, two, three = _legs(tel)
    tel.api.set_call_status(one, "in-progress")
    tel.api.set_call_status(two, "in-progress")
    tel.api.set_call_status(three, "ringing")
    accept_one, accept_two = await _whisper(tel, one), await _whisper(tel, two)
    tel.api.delay_call_updates(SLOW)

    answer, took = await _timed(tel, accept_one, _leg_params(tel, one, Digits="1"))
    [dial] = answer
    assert dial.tag == "Dial" and [(q.tag, q.text) for q in dial] == [("Queue", doc[1].text)]
    # The caller is bridged without waiting for Twilio to end the others (answered: two updates).
    assert took < SLOW / 2, f"the winner's answer waited {took:.2f} s for Twilio's call updates"
    # Still ending (its cancel is not answered yet), the other answered member presses 1: too late,
    # it cannot take the caller.
    late, _ = await _timed(tel, accept_two, _leg_params(tel, two, Digits="1"))
    assert _verbs(late) == ["Say", "Hangup"]
    await _all_ended(tel, [(two, "canceled"), (two, "completed"), (three, "canceled")], timeout=3 * SLOW / FACTOR)
    assert (_status(tel, one), _status(tel, two), _status(tel, three)) == ("in-progress", "completed", "canceled")


async def test_the_caller_leaving_the_queue_goes_on_at_once_while_a_slow_twilio_ends_the_member_calls(
    tel: Tel,
) -> None:
    await _live(tel, {"group": "sales", "max_wait": 30})
    call, doc = await _incoming(tel)
    one, two, three = _legs(tel)
    tel.api.set_call_status(one, "in-progress")  # hearing the whisper
    tel.api.set_call_status(two, "ringing")
    tel.api.delay_call_updates(SLOW)

    after, took = await _timed(tel, doc[1].attrib["action"], dict(call, CallStatus="in-progress", QueueResult="leave"))
    assert _verbs(after) == ["Say", "Record"]  # on to the voicemail
    assert took < SLOW / 2, f"the caller's next step waited {took:.2f} s for Twilio's call updates"
    expected = [(one, "canceled"), (one, "completed"), (two, "canceled"), (three, "canceled")]
    await _all_ended(tel, expected, timeout=3 * SLOW / FACTOR)
    assert {_status(tel, leg) for leg in (two, three)} == {"canceled"} and _status(tel, one) == "completed"


async def test_a_member_call_twilio_fails_to_end_is_retried_logged_and_cannot_take_the_caller(
    tel: Tel, procs: Processes
) -> None:
    await _live(tel, {"group": "sales", "max_wait": 120})
    await _incoming(tel)
    one, two, three = _legs(tel)
    tel.api.set_call_status(one, "in-progress")
    tel.api.set_call_status(two, "ringing")
    tel.api.set_call_status(three, "ringing")
    accept_one = await _whisper(tel, one)
    # Twilio answers the next five requests 500: both legs' first and second tries fail, and one of
    # their third (last) tries.
    tel.api.fail_next(5, 500, on="any")

    answer, _ = await _timed(tel, accept_one, _leg_params(tel, one, Digits="1"))
    assert answer[0].tag == "Dial"
    await wait_for(lambda: len(_ended(tel)) >= 6, timeout=2 * sum(HANG_UP_RETRY_DELAYS) + 3)
    assert sorted(_ended(tel)) == sorted([(two, "canceled")] * 3 + [(three, "canceled")] * 3)
    up = [leg for leg in (two, three) if _status(tel, leg) == "ringing"]
    assert len(up) == 1 and {_status(tel, two), _status(tel, three)} == {"ringing", "canceled"}

    log = await wait_for(lambda: "(try 3, giving up" in _gateway_log(procs) and _gateway_log(procs))
    prefix = f"call flow queue of org {tel.org.id}: Twilio did not end member call"
    for leg in (two, three):
        assert f"{prefix} {leg} (try 1, again in 0.5 s): " in log
        assert f"{prefix} {leg} (try 2, again in 2 s): " in log
    assert [leg for leg in (two, three) if f"{prefix} {leg} (try 3, giving up" in log] == up
    assert tel.org.auth_token not in log

    # The leg left up is answered later and its member presses 1: the caller is taken already.
    [leg] = up
    tel.api.set_call_status(leg, "in-progress")
    late, _ = await _timed(tel, await _whisper(tel, leg), _leg_params(tel, leg, Digits="1"))
    assert _verbs(late) == ["Say", "Hangup"]
    assert _status(tel, one) == "in-progress"


def _gateway_log(procs: Processes) -> str:
    return "".join(p.read_text(errors="replace") for p in Path(procs.logdir).glob("serve-*.log"))


async def test_a_queued_caller_no_member_takes_is_a_missed_call_and_one_taken_is_not(tel: Tel) -> None:
    """gateway.domain.flow_missed: the flow answered both calls (completed); the one a member
    accepted is not missed, the one whose caller hung up while the members were called is — one
    call.missed to the caller's contact's owner (u1), however often Twilio posts its final status."""
    await _live(tel, {"group": "sales", "max_wait": 120})
    feed = await live_feed(tel.gw, tel.org.tokens["u1"])
    taken, doc = await _incoming(tel)
    leg = _legs(tel)[0]
    tel.api.set_call_status(leg, "in-progress")
    r = await _callback(tel, await _whisper(tel, leg), _leg_params(tel, leg, Digits="1"))
    assert _verbs(ET.fromstring(r.content)) == ["Dial"]
    r = await _callback(tel, doc[1].attrib["action"], dict(taken, CallStatus="completed", QueueResult="bridged"))
    assert _verbs(ET.fromstring(r.content)) == ["Hangup"]
    assert (await ended(tel.client, tel.org, taken, "taken"))["missed"] is False

    left, doc = await _incoming(tel)
    r = await _callback(tel, doc[1].attrib["action"], dict(left, CallStatus="completed", QueueResult="hangup"))
    assert _verbs(ET.fromstring(r.content)) == ["Hangup"]
    row = await ended(tel.client, tel.org, left, "left", "left")
    assert row["missed"] is True and row["user"] == "u1" and row["flow"] == "main"
    sig = await feed.signal("call.missed")
    assert sig["data"]["call_sid"] == left["CallSid"] and sig["count"] == 1
    [stored] = await missed_of(tel.client, tel.org, "u1")
    assert stored["data"]["call_sid"] == left["CallSid"] and stored["count"] == 1
    assert [f["signal"]["type"] for f in feed.frames if f["type"] == "signal"] == ["call.missed"]
