"""The gateway's HTTP API as tests use it: provisioning orgs, users and contacts through the real
API, Twilio-signed webhook requests (twilio's RequestValidator), Standard Webhooks-signed events."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook
from twilio.request_validator import RequestValidator


@dataclass
class Gateway:
    base_url: str
    admin_token: str
    secret_key: bytes

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/ws"

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


@dataclass
class OrgCtx:
    id: str
    gateway: Gateway
    auth_token: str
    webhook_secret: str
    tokens: dict[str, str] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)

    def user_headers(self, user: str = "u1") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


CONTACTS: dict[str, dict[str, Any]] = {
    "c-yamada": {"kind": "lead", "name": "山田 太郎", "emails": ["Yamada@Client.example.jp"],
                 "phones": ["+81 90-1234-5678"], "owner": "u1"},
    "c-suzuki": {"kind": "contact", "name": "鈴木 美咲", "emails": ["suzuki@partner.example.com"],
                 "phones": ["+81 3-1234-5678"], "owner": "u1"},
    "c-smith": {"kind": "contact", "name": "Jane Smith", "emails": ["jane@acme.example.com"],
                "phones": ["+1 415-555-0134"], "owner": "u2"},
}  # fmt: skip
YAMADA_PHONE = "+819012345678"
SMITH_PHONE = "+14155550134"
OUR_NUMBER = "+815012345678"


async def provision_org(client: httpx.AsyncClient, gw: Gateway, org_id: str) -> OrgCtx:
    auth_token = secrets.token_hex(16)
    whsec = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    body = {
        "name": "テスト株式会社",
        "plan": "standard",
        "timezone": "Asia/Tokyo",
        "country": "JP",
        "active_users": 2,
        "twilio": {"account_sid": "AC" + secrets.token_hex(16), "auth_token": auth_token},
        "webhook_secret": whsec,
    }
    r = await client.put(f"/api/v1/orgs/{org_id}", json=body, headers=gw.admin)
    assert r.status_code == 201, r.text
    ctx = OrgCtx(org_id, gw, auth_token, whsec)
    for uid, name in (("u1", "佐藤 花子"), ("u2", "田中 一郎")):
        r = await client.put(f"/api/v1/orgs/{org_id}/users/{uid}", json={"name": name}, headers=gw.admin)
        assert r.status_code == 201, r.text
        r = await client.post(f"/api/v1/orgs/{org_id}/users/{uid}/tokens", headers=gw.admin)
        assert r.status_code == 201, r.text
        ctx.tokens[uid] = r.json()["token"]
    for cid, contact in CONTACTS.items():
        r = await client.put(f"/api/v1/orgs/{org_id}/contacts/{cid}", json=contact, headers=gw.admin)
        assert r.status_code == 201, r.text
        ctx.contacts[cid] = r.json()
    return ctx


# -- provider-signed requests ----------------------------------------------------------------
def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    return str(RequestValidator(auth_token).compute_signature(url, params))


async def post_twilio(
    client: httpx.AsyncClient,
    org: OrgCtx,
    kind: str,
    params: dict[str, str],
    *,
    idempotency_token: str | None = None,
    sign_url: str | None = None,
    auth_token: str | None = None,
    signature: str | None = "auto",
) -> httpx.Response:
    path = f"/webhooks/twilio/{org.id}/{kind}"
    headers: dict[str, str] = {}
    if signature == "auto":
        url = sign_url or org.gateway.base_url + path
        headers["X-Twilio-Signature"] = twilio_signature(auth_token or org.auth_token, url, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    if idempotency_token:
        headers["I-Twilio-Idempotency-Token"] = idempotency_token
    return await client.post(path, data=params, headers=headers)


def call_params(
    status: str, *, sid: str | None = None, caller: str = YAMADA_PHONE, direction: str = "inbound"
) -> dict[str, str]:
    return {
        "CallSid": sid or "CA" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": caller,
        "To": OUR_NUMBER,
        "Direction": direction,
        "CallStatus": status,
    }


def sms_params(body: str, *, sender: str = YAMADA_PHONE, sid: str | None = None) -> dict[str, str]:
    return {"MessageSid": sid or "SM" + uuid.uuid4().hex, "From": sender, "To": OUR_NUMBER, "Body": body}


def signed_event_headers(
    secret: str, body: bytes, *, msg_id: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    msg_id = msg_id or "msg_" + uuid.uuid4().hex
    at = at or datetime.now(tz=UTC)
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


async def post_event(
    client: httpx.AsyncClient,
    org: OrgCtx,
    event: dict[str, Any],
    *,
    msg_id: str | None = None,
    at: datetime | None = None,
) -> httpx.Response:
    body = json.dumps(event, ensure_ascii=False).encode()
    headers = signed_event_headers(org.webhook_secret, body, msg_id=msg_id, at=at)
    return await client.post(f"/webhooks/events/{org.id}", content=body, headers=headers)


def survey(contact: dict[str, str], title: str = "アンケート回答") -> dict[str, Any]:
    return {"type": "survey.answered", "contact": contact, "title": title, "data": {"score": 5}}


async def signals_of(client: httpx.AsyncClient, org: OrgCtx, user: str = "u1", **params: Any) -> dict[str, Any]:
    r = await client.get("/api/v1/me/signals", params=params, headers=org.user_headers(user))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body
