"""The local Twilio API's telephony resources have the shapes of Twilio's published OpenAPI description."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator

from gateway.devtools.twilio_api import TwilioApi

SPEC = json.loads((Path(__file__).parent.parent / "data" / "twilio" / "telephony_v2010.json").read_text())
BASE = "/2010-04-01/Accounts/{AccountSid}"


def check(operation: str, body: dict[str, Any]) -> None:
    """``body`` validates against the operation's response schema, and each resource in it has
    exactly the fields the spec lists (none invented, none missing)."""
    schema = dict(SPEC["responses"][operation], components={"schemas": SPEC["schemas"]})
    OAS30Validator(schema).validate(body)
    ref = schema.get("$ref") or next(
        (p["items"]["$ref"] for p in schema.get("properties", {}).values() if "items" in p and "$ref" in p["items"]),
        None,
    )
    assert ref is not None
    fields = set(SPEC["schemas"][ref.rsplit("/", 1)[1]]["properties"])
    resources = [body] if "$ref" in schema else next(v for v in body.values() if isinstance(v, list))
    assert resources, operation
    for resource in resources:
        assert set(resource) == fields, (operation, set(resource) ^ fields)


async def test_telephony_resources_match_twilios_openapi(twilio_api: TwilioApi) -> None:
    """Available numbers, bought/adopted/fetched/listed numbers and created/fetched calls validate."""
    sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    twilio_api.add_account(sid, token)
    for kind in ("Local", "Mobile", "TollFree"):
        twilio_api.offer_number(f"+8150{secrets.randbelow(10**8):08d}", kind=kind, locality="Tokyo")
    owned = twilio_api.own_number(sid, "+815011112222")
    async with httpx.AsyncClient(base_url=twilio_api.base_url + f"/2010-04-01/Accounts/{sid}", auth=(sid, token)) as c:
        for kind in ("Local", "Mobile", "TollFree"):
            r = await c.get(f"/AvailablePhoneNumbers/JP/{kind}.json")
            assert r.status_code == 200
            check(f"GET {BASE}/AvailablePhoneNumbers/{{CountryCode}}/{kind}.json 200", r.json())
        number = r.json()["available_phone_numbers"][0]["phone_number"]
        r = await c.post("/IncomingPhoneNumbers.json", data={"PhoneNumber": number, "VoiceUrl": "https://x.example/v"})
        assert r.status_code == 201, r.text
        check(f"POST {BASE}/IncomingPhoneNumbers.json 201", r.json())
        r = await c.post(f"/IncomingPhoneNumbers/{owned}.json", data={"VoiceUrl": "https://x.example/v"})
        check(f"POST {BASE}/IncomingPhoneNumbers/{{Sid}}.json 200", r.json())
        r = await c.get(f"/IncomingPhoneNumbers/{owned}.json")
        check(f"GET {BASE}/IncomingPhoneNumbers/{{Sid}}.json 200", r.json())
        r = await c.get("/IncomingPhoneNumbers.json")
        check(f"GET {BASE}/IncomingPhoneNumbers.json 200", r.json())
        r = await c.post("/Calls.json", data={"To": "+819012345678", "From": number, "Url": "https://x.example/t"})
        assert r.status_code == 201, r.text
        check(f"POST {BASE}/Calls.json 201", r.json())
        r = await c.get(f"/Calls/{r.json()['sid']}.json")
        check(f"GET {BASE}/Calls/{{Sid}}.json 200", r.json())


async def test_a_call_update_takes_twilios_status_values_and_answers_the_call_resource(twilio_api: TwilioApi) -> None:
    """``POST Calls/{Sid}.json`` with ``Status``: the fake's values are Twilio's update enum; the
    answer validates; canceled ends a ringing call, not an answered one; completed ends that."""
    enum = SPEC["schemas"]["call_enum_update_status"]["enum"]
    request = SPEC["requests"][f"POST {BASE}/Calls/{{Sid}}.json"]
    assert request["properties"]["Status"] == {"$ref": "#/components/schemas/call_enum_update_status"}
    sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    twilio_api.add_account(sid, token)
    number = "+815011113333"
    twilio_api.own_number(sid, number)
    async with httpx.AsyncClient(base_url=twilio_api.base_url + f"/2010-04-01/Accounts/{sid}", auth=(sid, token)) as c:
        created = []
        for _ in range(2):
            r = await c.post("/Calls.json", data={"To": "+819012345678", "From": number, "Url": "https://x.example/t"})
            created.append(r.json()["sid"])
        ringing, answered = created
        twilio_api.set_call_status(answered, "in-progress")
        for status in enum:
            OAS30Validator(dict(request, components={"schemas": SPEC["schemas"]})).validate({"Status": status})
        r = await c.post(f"/Calls/{ringing}.json", data={"Status": "canceled"})
        assert r.status_code == 200, r.text
        check(f"POST {BASE}/Calls/{{Sid}}.json 200", r.json())
        assert r.json()["status"] == "canceled" and r.json()["end_time"] is None
        r = await c.post(f"/Calls/{answered}.json", data={"Status": "canceled"})
        assert r.json()["status"] == "in-progress"
        r = await c.post(f"/Calls/{answered}.json", data={"Status": "completed"})
        check(f"POST {BASE}/Calls/{{Sid}}.json 200", r.json())
        assert r.json()["status"] == "completed" and r.json()["end_time"] and r.json()["duration"] is not None
        r = await c.post(f"/Calls/{ringing}.json", data={"Status": "completed"})
        assert r.json()["status"] == "canceled"  # a call already over stays as it was
        r = await c.post(f"/Calls/{ringing}.json", data={"Status": "busy"})
        assert r.status_code == 400 and r.json()["code"] == 20001
        assert "busy" not in enum
