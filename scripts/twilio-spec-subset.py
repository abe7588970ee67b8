"""Extract from Twilio's published OpenAPI description the response schemas the local Twilio
API's telephony resources must match, and the form bodies of the requests it checks
(tests/data/twilio/telephony_v2010.json).

    npm pack @twilio/cli-core@9.0.0
    tar -xzf twilio-cli-core-9.0.0.tgz -O package/src/services/twilio-api/twilio_api_v2010.json > spec.json
    python scripts/twilio-spec-subset.py spec.json > tests/data/twilio/telephony_v2010.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

OPERATIONS = [
    ("/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json", "get", "200"),
    ("/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Mobile.json", "get", "200"),
    ("/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/TollFree.json", "get", "200"),
    ("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json", "get", "200"),
    ("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json", "post", "201"),
    ("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json", "get", "200"),
    ("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json", "post", "200"),
    ("/2010-04-01/Accounts/{AccountSid}/Calls.json", "post", "201"),
    ("/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", "get", "200"),
    ("/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", "post", "200"),
]
# Form bodies the fake checks too (the update's Status is call_enum_update_status).
REQUESTS = [("/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json", "post")]


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[1]} if "$ref" in node else set()
        for value in node.values():
            found |= refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node)) if node else set()
    return set()


def main(path: str) -> None:
    with open(path) as f:
        spec = json.load(f)
    schemas = spec["components"]["schemas"]
    out: dict[str, Any] = {
        "source": "@twilio/cli-core@9.0.0 twilio_api_v2010.json",
        "requests": {},
        "responses": {},
        "schemas": {},
    }
    todo: set[str] = set()
    for route, method in REQUESTS:
        schema = spec["paths"][route][method]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        out["requests"][f"{method.upper()} {route}"] = schema
        todo |= refs(schema)
    for route, method, status in OPERATIONS:
        schema = spec["paths"][route][method]["responses"][status]["content"]["application/json"]["schema"]
        out["responses"][f"{method.upper()} {route} {status}"] = schema
        todo |= refs(schema)
    while todo:
        name = todo.pop()
        if name not in out["schemas"]:
            out["schemas"][name] = schemas[name]
            todo |= refs(schemas[name])
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
