"""SPEC "Telephony" claims the other telephony tests leave out: click-to-call refusals through a
contact and a switched-off telephony, the toll-free number search, and the number a 409
``number_has_flow`` names when a flow is switched on by ``PUT``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.integration.test_call_flows import OTHER_NUMBER, flow_body, publish, put_flow, telephony
from tests.support.api import OUR_NUMBER, OrgCtx
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.telephony import Tel, telephony_org

NUMBER = "+815011110009"
USER_PHONE = "+819087654321"


@pytest.fixture
async def tel(procs: Processes, redis_server: RedisServer, twilio_api: TwilioApi) -> AsyncIterator[Tel]:
    async with telephony_org(procs, redis_server, twilio_api, "telc-") as t:
        yield t


async def test_click_to_call_refusals_through_a_contact_and_a_switched_off_telephony(tel: Tel) -> None:
    """A contact whose phone is in China is 400 ``destination_not_allowed`` like a +86 ``to``;
    ``outbound`` without ``enabled`` is 403 ``outbound_not_allowed``; Twilio is never asked."""
    tel.api.offer_number(NUMBER, kind="Local")
    r = await tel.client.post(tel.path("/numbers"), json={"phone_number": NUMBER}, headers=tel.admin)
    assert r.status_code == 201, r.text
    r = await tel.client.put(tel.path("/contacts/c-china"), json={"name": "王 伟", "phones": ["+86 138 1234 5678"]},
                             headers=tel.admin)  # fmt: skip
    assert r.status_code == 201, r.text
    me = tel.org.user_headers("u1")
    telephony = {"enabled": False, "outbound": True, "caller_id": NUMBER}
    r = await tel.client.put(tel.path("/users/u1"), json={"phone": USER_PHONE, "telephony": telephony},
                             headers=tel.admin)  # fmt: skip
    assert r.status_code == 200, r.text
    r = await tel.client.post("/api/v1/me/calls", json={"to": "+81312345678"}, headers=me)
    assert (r.status_code, r.json()["error"]) == (403, "outbound_not_allowed")
    r = await tel.client.put(tel.path("/users/u1"), json={"telephony": {"enabled": True}}, headers=tel.admin)
    assert r.status_code == 200, r.text
    r = await tel.client.post("/api/v1/me/calls", json={"to": {"contact": "c-china"}}, headers=me)
    assert (r.status_code, r.json()["error"]) == (400, "destination_not_allowed"), r.text
    assert tel.api.requests_to("POST", "/Calls.json") == []


async def test_toll_free_search_asks_twilio_for_toll_free_numbers(tel: Tel) -> None:
    """``type=toll_free`` lists Twilio's TollFree numbers of the country, and only those."""
    tel.api.offer_number("+81120123456", kind="TollFree")
    tel.api.offer_number("+815012340000", kind="Local")
    r = await tel.client.get(tel.path("/numbers/available"), params={"country": "JP", "type": "toll_free"},
                             headers=tel.admin)  # fmt: skip
    assert r.status_code == 200, r.text
    assert [n["phone_number"] for n in r.json()["numbers"]] == ["+81120123456"]
    r = await tel.client.get(tel.path("/numbers/available"), params={"type": "tollfree"}, headers=tel.admin)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_parameter")


@pytest.fixture
async def tel_org(client: httpx.AsyncClient, org: OrgCtx, redis_server: RedisServer) -> OrgCtx:
    await telephony(client, org, redis_server.url)
    return org


async def test_switching_a_flow_on_names_the_number_another_flow_answers(
    client: httpx.AsyncClient, tel_org: OrgCtx
) -> None:
    """A flow published on OUR_NUMBER whose draft moved to another number, switched on by PUT while
    another flow answers OUR_NUMBER: 409 ``number_has_flow`` naming OUR_NUMBER (where it would go
    live), not the draft's number."""
    org = tel_org
    assert (await put_flow(client, org, "main", await flow_body(name="main"))).status_code == 201
    assert (await publish(client, org, "main")).status_code == 200
    assert (await put_flow(client, org, "spare", await flow_body(name="spare", enabled=False))).status_code == 201
    assert (await publish(client, org, "spare")).status_code == 200
    body = await flow_body(name="spare", number=OTHER_NUMBER, enabled=True)
    r = await put_flow(client, org, "spare", body)
    assert (r.status_code, r.json()["error"]) == (409, "number_has_flow")
    assert OUR_NUMBER in r.json()["detail"] and OTHER_NUMBER not in r.json()["detail"], r.json()["detail"]
    assert "'main'" in r.json()["detail"]
