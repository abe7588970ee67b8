"""``signalgate demo``: a demo org with users, contacts and a few sample signals.

Everything goes through the same store and event log as real traffic, so the sample signals
travel the real path (partition stream → router → feed → WebSocket).

Idempotent: ``scripts/run.sh`` runs ``up --demo`` on every start, so the org, users and contacts
are upserted, and the sample events are appended only when the demo org is created — each with a
fixed dedupe id, so two first runs at once still add them once. A restart never brings the samples
back unread nor overwrites a real thread with sample text.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import sys
import urllib.request
from typing import Any

from gateway.domain.sealing import WEBHOOK_SECRET
from gateway.domain.tenancy import merge_contact, merge_org, merge_user
from gateway.services import Services

DEMO_ORG = "demo"
USERS: list[tuple[str, dict[str, Any]]] = [
    ("sato", {"name": "佐藤 花子", "email": "sato@demo.example.jp", "phone": "+81 90-1111-2222", "role": "admin"}),
    ("tanaka", {"name": "田中 一郎", "email": "tanaka@demo.example.jp", "phone": "+81 90-3333-4444"}),
]
CONTACTS: list[tuple[str, dict[str, Any]]] = [
    (
        "yamada",
        {
            "kind": "lead",
            "name": "山田 太郎",
            "emails": ["yamada@client.example.jp"],
            "phones": ["+81 80-1234-5678"],
            "owner": "sato",
            "marketing": True,
        },
    ),
    (
        "suzuki",
        {
            "kind": "contact",
            "name": "鈴木 美咲",
            "emails": ["suzuki@partner.example.com"],
            "phones": ["+81 3-1234-5678"],
            "owner": "sato",
        },
    ),
    (
        "smith",
        {
            "kind": "contact",
            "name": "Jane Smith",
            "emails": ["jane@acme.example.com"],
            "phones": ["+1 415-555-0134"],
            "owner": "tanaka",
        },
    ),
]
SAMPLES: list[tuple[str, dict[str, Any]]] = [
    (
        "webhook",
        {
            "type": "survey.answered",
            "contact": {"email": "yamada@client.example.jp"},
            "title": "顧客満足度アンケートに回答しました",
            "body": "総合評価: 5 / 5",
            "data": {"score": 5},
        },
    ),
    (
        "webhook",
        {
            "type": "event.ticket_purchased",
            "contact": {"id": "suzuki"},
            "title": "「CRM活用セミナー 2026」のチケットを購入",
            "body": "一般席 × 2",
            "data": {},
        },
    ),
    (
        "webhook",
        {
            "type": "desk.ticket",
            "contact": {"phone": "+81312345678"},
            "title": "請求書の再発行について",
            "body": "先月分の請求書を再発行していただけますか。",
            "data": {},
        },
    ),
    (
        "twilio.sms",
        {
            "MessageSid": "SM" + "0" * 31 + "1",
            "From": "+818012345678",
            "To": "+815000000000",
            "Body": "お見積もりありがとうございます。明日お電話します。",
        },
    ),
    (
        "twilio.voice_status",
        {
            "CallSid": "CA" + "0" * 31 + "1",
            "From": "+818012345678",
            "To": "+815000000000",
            "Direction": "inbound",
            "CallStatus": "no-answer",
        },
    ),
    (
        "webhook",
        {
            "type": "webinar.registered",
            "contact": {"email": "jane@acme.example.com"},
            "title": "Registered for “Pipeline reviews that work”",
            "body": "",
            "data": {},
        },
    ),
]


# Dedupe ids of the sample events: "demo-sample-<n>", fixed, so appending them again adds nothing.
SAMPLE_ID = "demo-sample-{}"


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - the operator's own public_url
            status: int = resp.status
            return 200 <= status < 500
    except OSError:
        return False


async def provision_demo(services: Services, *, out: Any = None, serving: bool | None = None) -> str:
    """Provision the demo org (idempotent) and print the sign-in link; returns the user token.

    ``serving``: whether a gateway serves ``gateway.public_url`` (None: find out by asking it).
    """
    out = out or sys.stdout
    tenancy = services.tenancy
    stored = await tenancy.get_org(DEMO_ORG)
    org = merge_org(
        DEMO_ORG,
        {
            "name": "デモ株式会社",
            "plan": "standard",
            "timezone": "Asia/Tokyo",
            "country": "JP",
            "active_users": len(USERS),
            "tracking": True,
        },
        stored,
    )
    if "webhook_secret" not in org:
        org["webhook_secret"] = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    if "auth_token" not in org.get("twilio", {}):
        org["twilio"] = {"account_sid": "AC" + secrets.token_hex(16), "auth_token": secrets.token_hex(16)}
    await tenancy.put_org(org, stored or {})
    for uid, body in USERS:
        await tenancy.put_user(DEMO_ORG, merge_user(org, uid, body, await tenancy.get_user(DEMO_ORG, uid)))
    for cid, body in CONTACTS:
        await tenancy.put_contact(DEMO_ORG, merge_contact(org, cid, body, await tenancy.get_contact(DEMO_ORG, cid)))
    token = await tenancy.issue_token(DEMO_ORG, USERS[0][0])
    if stored is None:
        for n, (source, data) in enumerate(SAMPLES, 1):
            await services.events.append(DEMO_ORG, source, data, dedupe_id=SAMPLE_ID.format(n))
    # Sealed at rest once stored: shown opened (a first run still holds it in plain text).
    await services.vault.ready()
    webhook_secret = services.vault.reveal(DEMO_ORG, WEBHOOK_SECRET, str(org["webhook_secret"]))
    public = services.config.gateway.public_url.rstrip("/")
    page = f"{public}/#token={token}"
    if serving is None:
        serving = await asyncio.to_thread(_answers, public + "/healthz")
    note = [] if serving else [f"  Nothing answers at {public} yet: start the gateway (`signalgate up`) to open it."]
    print(
        "\n".join(
            [
                "",
                f"  signalgate demo org '{DEMO_ORG}' is ready ({len(USERS)} users, {len(CONTACTS)} contacts).",
                f"  Open the live feed as {USERS[0][1]['name']}:  {page}",
                *note,
                f"  User token:  {token}",
                f"  Admin token: {services.admin_token}   (management API: Authorization: Bearer …)",
                f"  Webhook secret (Standard Webhooks): {webhook_secret}",
                "",
            ]
        ),
        file=out,
        flush=True,
    )
    return token
