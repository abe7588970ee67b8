"""The throw-away bench org, provisioned through the management API and deleted afterwards.

Users ``u0..u{n-1}`` each own one contact ``c<i>`` (a Japanese mobile number and an address),
plus the user ``fan`` and its contact ``c-fan`` for the fan-out burst. With ``sending``: an
approved SMS template, an email template and prepaid credits. Works the same against the
self-contained stack and a user's staging gateway: only the public API is used.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx

ORG_PREFIX = "bench-"
FAN = "fan"
FAN_CONTACT = "c-fan"
# Two tabs per rep is what a CRM sees; the e2e clients are spread like that by default.
SMS_TEMPLATE = "{{ name }}様、ご予約を承りました。受付番号 {{ n }}"
EMAIL_SUBJECT = "ご案内 {{ n }}"
EMAIL_BODY = '<p>{{ name }}様</p><p>資料をお送りします。<a href="https://example.jp/docs/{{ n }}">詳細はこちら</a></p>'


class ProvisionError(Exception):
    """The gateway refused a provisioning call; the message carries its answer."""


def contact_phone(i: int) -> str:
    """A valid, distinct Japanese mobile number per index (E.164)."""
    return f"+8190{10_000_000 + i:08d}"


@dataclass
class BenchOrg:
    id: str
    auth_token: str
    account_sid: str
    webhook_secret: str
    users: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    fan_token: str = ""
    sms_template: str = ""
    email_template: str = ""


class Admin:
    """Management-API calls with bounded concurrency."""

    def __init__(self, base_url: str, admin_token: str, concurrency: int = 16) -> None:
        self.client = httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30.0
        )
        self._gate = asyncio.Semaphore(concurrency)

    async def call(self, method: str, path: str, body: Any = None, *, missing_ok: bool = False) -> dict[str, Any]:
        async with self._gate:
            r = await self.client.request(method, path, json=body)
        if missing_ok and r.status_code == 404:
            return {}
        if not r.is_success:
            raise ProvisionError(f"{method} {path} answered {r.status_code}: {r.text[:300]}")
        out: dict[str, Any] = r.json() if r.content else {}
        return out

    async def aclose(self) -> None:
        await self.client.aclose()


async def _user(admin: Admin, org: str, user: str, i: int) -> str:
    await admin.call(
        "PUT",
        f"/api/v1/orgs/{org}/users/{user}",
        {"name": f"ベンチ担当 {i}", "email": f"{user}@sales.bench.example.jp", "phone": contact_phone(900_000 + i)},
    )
    token: str = (await admin.call("POST", f"/api/v1/orgs/{org}/users/{user}/tokens"))["token"]
    return token


async def _contact(admin: Admin, org: str, contact: str, owner: str, phone: str) -> None:
    await admin.call(
        "PUT",
        f"/api/v1/orgs/{org}/contacts/{contact}",
        {
            "kind": "lead",
            "name": f"顧客 {contact}",
            "emails": [f"{contact}@client.bench.example.jp"],
            "phones": [phone],
            "owner": owner,
            "marketing": True,
        },
    )


async def _templates(admin: Admin, org: BenchOrg) -> None:
    base = f"/api/v1/orgs/{org.id}/templates"
    sms = await admin.call(
        "POST", base, {"channel": "sms", "name": "予約確認", "module": "deals", "body": SMS_TEMPLATE}
    )
    org.sms_template = sms["id"]
    await admin.call("POST", f"{base}/{org.sms_template}/submit")
    await admin.call("POST", f"{base}/{org.sms_template}/approve")
    mail = await admin.call(
        "POST",
        base,
        {"channel": "email", "name": "ご案内", "module": "leads", "subject": EMAIL_SUBJECT, "body": EMAIL_BODY},
    )
    org.email_template = mail["id"]


async def provision(admin: Admin, users: int, *, sending: bool, credits: int = 0) -> BenchOrg:
    """Create the org, its users with tokens, one contact per user, and the fan-out pair."""
    org = BenchOrg(
        id=ORG_PREFIX + secrets.token_hex(5),
        auth_token=secrets.token_hex(16),
        account_sid="AC" + secrets.token_hex(16),
        webhook_secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    )
    await admin.call(
        "PUT",
        f"/api/v1/orgs/{org.id}",
        {
            "name": "ベンチマーク株式会社",
            "plan": "enterprise",
            "timezone": "Asia/Tokyo",
            "country": "JP",
            "active_users": users + 1,
            "tracking": True,
            "webhook_secret": org.webhook_secret,
            "twilio": {"account_sid": org.account_sid, "auth_token": org.auth_token, "from_number": "+81 50-1234-5678"},
        },
    )
    org.users = [f"u{i}" for i in range(users)]
    org.tokens = list(await asyncio.gather(*(_user(admin, org.id, u, i) for i, u in enumerate(org.users))))
    org.fan_token = await _user(admin, org.id, FAN, users)
    org.contacts = [f"c{i}" for i in range(users)]
    org.phones = [contact_phone(i) for i in range(users)]
    await asyncio.gather(
        *(_contact(admin, org.id, c, u, p) for c, u, p in zip(org.contacts, org.users, org.phones, strict=True)),
        _contact(admin, org.id, FAN_CONTACT, FAN, contact_phone(800_000)),
    )
    if sending:
        await _templates(admin, org)
        if credits:
            await admin.call("POST", f"/api/v1/orgs/{org.id}/credits/purchase", {"amount": credits})
    return org


@dataclass
class Pairs:
    """Extra users of the bench org, each owning one contact, for one scenario of its own."""

    users: list[str]
    tokens: list[str]
    contacts: list[str]


async def add_pairs(admin: Admin, org: str, prefix: str, n: int, first_phone: int) -> Pairs:
    """Users ``<prefix>u<i>`` with tokens, each owning contact ``<prefix>c<i>`` (phones from ``first_phone``)."""
    users = [f"{prefix}u{i}" for i in range(n)]
    tokens = list(await asyncio.gather(*(_user(admin, org, u, first_phone + i) for i, u in enumerate(users))))
    contacts = [f"{prefix}c{i}" for i in range(n)]
    phones = [contact_phone(first_phone + i) for i in range(n)]
    await asyncio.gather(*(_contact(admin, org, c, u, p) for c, u, p in zip(contacts, users, phones, strict=True)))
    return Pairs(users, tokens, contacts)


async def delete_org(admin: Admin, org_id: str) -> None:
    await admin.call("DELETE", f"/api/v1/orgs/{org_id}", missing_ok=True)


async def _user_total(client: httpx.AsyncClient, token: str, types: set[str]) -> int:
    total = 0
    after = "0-0"
    while True:
        r = await client.get(
            "/api/v1/me/signals", params={"after": after, "limit": 500}, headers={"Authorization": f"Bearer {token}"}
        )
        if not r.is_success:
            raise ProvisionError(f"GET /api/v1/me/signals answered {r.status_code}: {r.text[:200]}")
        page = r.json()["signals"]
        total += sum(int(s["count"]) for s in page if s["type"] in types)
        if len(page) < 500:
            return total
        after = page[-1]["id"]


async def signal_total(base_url: str, tokens: list[str], types: set[str], concurrency: int = 16) -> int:
    """Sum of ``count`` over every signal of ``types`` in these users' feeds (grouped repeats included).

    Each accepted event adds exactly one to this sum, whether it made a new signal or grouped
    into an earlier one, so it is the exactly-once check through the public API.
    """
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def one(token: str) -> int:
            async with gate:
                return await _user_total(client, token, types)

        return sum(await asyncio.gather(*(one(t) for t in tokens)))
