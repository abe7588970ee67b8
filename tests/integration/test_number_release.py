"""Releasing a number vs. a call flow going live on it (issue 13 follow-up).

Real gateway process, the local Twilio API: a release and a publish (or an enable) of a flow on the
same number, sent at once, end with either the number kept and the flow live, or the number gone
(at Twilio and from the org) and no flow live on it; never a live flow on a released number. A
release Twilio refuses keeps the number.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.telephony import Tel, telephony_org

ROUNDS = 6


@pytest.fixture
async def tel(procs: Processes, redis_server: RedisServer, twilio_api: TwilioApi) -> AsyncIterator[Tel]:
    async with telephony_org(procs, redis_server, twilio_api, "rel-") as t:
        yield t


async def _buy(tel: Tel, number: str) -> None:
    tel.api.offer_number(number)
    r = await tel.client.post(tel.path("/numbers"), json={"phone_number": number}, headers=tel.admin)
    assert r.status_code == 201, r.text


def _flow(number: str, enabled: bool) -> dict[str, Any]:
    return {"name": "受付", "number": number, "enabled": enabled, "steps": [{"say": "お電話ありがとうございます"}]}


async def _outcome(tel: Tel, flow: str, number: str) -> tuple[bool, bool, bool]:
    """(the org has the number, Twilio still has it, the flow is published and enabled on it)."""
    owned = (await tel.client.get(tel.path(f"/numbers/{number}"), headers=tel.admin)).status_code == 200
    at_twilio = number in [n["phone_number"] for n in tel.api.numbers]
    rec = await tel.get(f"/call-flows/{flow}")
    live = rec["enabled"] and rec["published"] is not None and rec["published"]["number"] == number
    return owned, at_twilio, live


async def test_a_publish_racing_a_release_never_leaves_a_live_flow_on_a_released_number(tel: Tel) -> None:
    for i in range(ROUNDS):
        number, flow = f"+8150222200{i:02d}", f"race{i}"
        await _buy(tel, number)
        r = await tel.client.put(tel.path(f"/call-flows/{flow}"), json=_flow(number, True), headers=tel.admin)
        assert r.status_code == 201, r.text
        published, released = await asyncio.gather(
            tel.client.post(tel.path(f"/call-flows/{flow}/publish"), headers=tel.admin),
            tel.client.delete(tel.path(f"/numbers/{number}"), headers=tel.admin),
        )
        owned, at_twilio, live = await _outcome(tel, flow, number)
        assert owned == at_twilio, (i, published.text, released.text)
        assert not (live and not owned), (i, published.text, released.text)
        if released.status_code == 204:
            assert not owned and not live
            assert published.status_code in (400, 409), published.text
            assert published.json()["error"] in ("invalid_flow", "number_released"), published.text
        else:
            assert (released.status_code, released.json()["error"]) == (409, "number_in_use"), released.text
            assert published.status_code == 200 and owned and live


async def test_enabling_a_flow_racing_a_release_never_goes_live_on_a_released_number(tel: Tel) -> None:
    for i in range(ROUNDS):
        number, flow = f"+8150333300{i:02d}", f"switch{i}"
        await _buy(tel, number)
        r = await tel.client.put(tel.path(f"/call-flows/{flow}"), json=_flow(number, False), headers=tel.admin)
        assert r.status_code == 201, r.text
        assert (await tel.client.post(tel.path(f"/call-flows/{flow}/publish"), headers=tel.admin)).status_code == 200
        enabled, released = await asyncio.gather(
            tel.client.put(tel.path(f"/call-flows/{flow}"), json=_flow(number, True), headers=tel.admin),
            tel.client.delete(tel.path(f"/numbers/{number}"), headers=tel.admin),
        )
        owned, at_twilio, live = await _outcome(tel, flow, number)
        assert owned == at_twilio, (i, enabled.text, released.text)
        assert not (live and not owned), (i, enabled.text, released.text)
        if released.status_code == 204:
            assert enabled.status_code in (400, 409), enabled.text
        else:
            assert released.status_code == 409 and enabled.status_code == 200 and live


async def test_a_release_twilio_refuses_keeps_the_number(tel: Tel) -> None:
    number = "+815044440001"
    await _buy(tel, number)
    tel.api.fail_next(1, 500, on="any")
    r = await tel.client.delete(tel.path(f"/numbers/{number}"), headers=tel.admin)
    assert r.status_code == 502 and r.json()["error"] == "twilio_unavailable", r.text
    assert (await tel.client.get(tel.path(f"/numbers/{number}"), headers=tel.admin)).status_code == 200
    # kept for flows too: a flow can go live on it, and then the release is refused
    r = await tel.client.put(tel.path("/call-flows/kept"), json=_flow(number, True), headers=tel.admin)
    assert r.status_code == 201, r.text
    assert (await tel.client.post(tel.path("/call-flows/kept/publish"), headers=tel.admin)).status_code == 200
    r = await tel.client.delete(tel.path(f"/numbers/{number}"), headers=tel.admin)
    assert (r.status_code, r.json()["error"]) == (409, "number_in_use")
    assert number in [n["phone_number"] for n in tel.api.numbers]


@pytest.fixture
async def tel_impatient(procs: Processes, redis_server: RedisServer, twilio_api: TwilioApi) -> AsyncIterator[Tel]:
    """A gateway that gives Twilio one second per call, so a held answer is "no answer"."""
    async with telephony_org(procs, redis_server, twilio_api, "relq-", SIGNALGATE_TWILIO_TIMEOUT="1") as t:
        yield t


async def _listed(tel: Tel) -> dict[str, str]:
    return {n["phone_number"]: n["status"] for n in (await tel.get("/numbers"))["numbers"]}


async def test_a_release_twilio_does_not_answer_is_listed_as_releasing_until_a_second_delete(
    tel_impatient: Tel,
) -> None:
    """No answer from Twilio (it did release): the number is listed and read as ``releasing``; a
    second DELETE finishes it (Twilio: no such number) and it is gone from both."""
    tel = tel_impatient
    kept, number = "+815055550001", "+815055550002"
    await _buy(tel, kept)
    await _buy(tel, number)
    assert await _listed(tel) == {kept: "active", number: "active"}
    tel.api.hold_next_telephony(5)
    r = await tel.client.delete(tel.path(f"/numbers/{number}"), headers=tel.admin)
    assert (r.status_code, r.json()["error"]) == (502, "twilio_unavailable"), r.text
    assert number not in [n["phone_number"] for n in tel.api.numbers]  # Twilio did release it
    assert await _listed(tel) == {kept: "active", number: "releasing"}
    rec = await tel.get(f"/numbers/{number[1:]}")
    assert (rec["status"], rec["phone_number"]) == ("releasing", number)
    assert (await tel.get(f"/numbers/{kept}"))["status"] == "active"
    page = await tel.get("/numbers?limit=1")
    assert [n["phone_number"] for n in page["numbers"]] == [kept] and page["cursor"] == kept
    rest = await tel.get(f"/numbers?cursor={kept.replace('+', '%2B')}")
    assert [(n["phone_number"], n["status"]) for n in rest["numbers"]] == [(number, "releasing")]
    r = await tel.client.delete(tel.path(f"/numbers/{number}"), headers=tel.admin)
    assert r.status_code == 204, r.text
    assert await _listed(tel) == {kept: "active"}
    r = await tel.client.get(tel.path(f"/numbers/{number}"), headers=tel.admin)
    assert (r.status_code, r.json()["error"]) == (404, "number_not_found")
