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
