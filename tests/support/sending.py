"""Sending: a recording aiosmtpd server, the local Twilio API, worker processes, and an org ready to
send (Twilio account, sender number, credits, approved templates).

A pytest plugin (``pytest_plugins`` in ``tests/conftest.py``): it declares the ``smtp_server``,
``twilio_api``, ``send_workers`` and ``start_send_workers`` fixtures."""

from __future__ import annotations

import email
import email.policy
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.devtools.net import free_port
from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import Gateway, OrgCtx, provision_org
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR, wait_for

FINAL = {"sent", "delivered", "read", "undelivered", "failed", "bounced", "rejected"}


@dataclass
class SmtpRecorder:
    """aiosmtpd handler: records messages; scripted answers per recipient for refusals."""

    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)
    # recipient -> list of answers to give to RCPT, consumed in order ("250 OK" when exhausted)
    script: dict[str, list[str]] = field(default_factory=dict)
    sessions: int = 0  # EHLOs seen: one per SMTP connection

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        answers = self.script.get(address.lower())
        if answers:
            answer = answers.pop(0)
            if not answer.startswith("250"):
                return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope, msg))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for env, m in self.messages if address.lower() in (r.lower() for r in env.rcpt_tos)]


@dataclass
class SmtpServer:
    host: str
    port: int
    recorder: SmtpRecorder


@contextmanager
def running_smtp() -> Iterator[SmtpServer]:
    """An aiosmtpd on a free loopback port, recording what it is sent; stopped on exit."""
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, recorder)
    controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


@pytest.fixture
async def twilio_api() -> AsyncIterator[TwilioApi]:
    async with TwilioApi(timeout=10 * FACTOR) as api:
        yield api


def worker_env(gw: Gateway, twilio: TwilioApi, smtp: SmtpServer, **extra: str) -> dict[str, str]:
    env = {
        "SIGNALGATE_GATEWAY_PUBLIC_URL": gw.base_url,
        "SIGNALGATE_TWILIO_API_BASE": twilio.base_url,
        "SIGNALGATE_TWILIO_TIMEOUT": "2",
        "SIGNALGATE_SMTP_HOST": smtp.host,
        "SIGNALGATE_SMTP_PORT": str(smtp.port),
        "SIGNALGATE_SMTP_FROM_ADDRESS": "sales@signalgate.example.jp",
        "SIGNALGATE_SMTP_TIMEOUT": "5",
        "SIGNALGATE_WORKER_JOB_TIMEOUT": "6",
        "SIGNALGATE_WORKER_MAX_TRIES": "6",
    }
    env.update(extra)
    return env


def start_workers(
    procs: Processes, redis: RedisServer, gw: Gateway, twilio: TwilioApi, smtp: SmtpServer, n: int = 1, **extra: str
) -> list[Any]:
    return [procs.worker(redis.url, **worker_env(gw, twilio, smtp, **extra)) for _ in range(n)]


class StartWorkers(Protocol):
    """Starts ``n`` worker processes pointed at the test's gateway, Twilio API and SMTP server
    (``worker_env`` plus ``extra`` overrides); the test's ``procs`` stops them at its end."""

    def __call__(self, n: int = 1, **extra: str) -> list[Any]: ...


@pytest.fixture
def start_send_workers(
    procs: Processes, redis_server: RedisServer, gateway: Gateway, twilio_api: TwilioApi, smtp_server: SmtpServer
) -> StartWorkers:
    """For a test that starts its workers itself: several at once, with env overrides, after some
    requests, or again after killing one."""

    def start(n: int = 1, **extra: str) -> list[Any]:
        return start_workers(procs, redis_server, gateway, twilio_api, smtp_server, n, **extra)

    return start


@pytest.fixture
def send_workers(start_send_workers: StartWorkers) -> list[Any]:
    """One worker, started before the test body (``@pytest.mark.usefixtures("send_workers")``)."""
    return start_send_workers()


@dataclass
class SendOrg:
    ctx: OrgCtx
    account_sid: str
    from_number: str = "+815012345678"
    templates: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.ctx.id


async def provision_sending_org(
    client: httpx.AsyncClient,
    gw: Gateway,
    twilio: TwilioApi,
    *,
    plan: str = "standard",
    users: int = 2,
    country: str = "JP",
    tracking: bool = True,
    org_id: str | None = None,
) -> SendOrg:
    ctx = await provision_org(client, gw, org_id or "s-" + uuid.uuid4().hex[:12])
    sid = "AC" + secrets.token_hex(16)
    twilio.add_account(sid, ctx.auth_token)
    body = {
        "plan": plan,
        "active_users": users,
        "country": country,
        "tracking": tracking,
        "twilio": {"account_sid": sid, "auth_token": ctx.auth_token, "from_number": "+81 50-1234-5678"},
    }
    if country == "IN":
        body["twilio"]["from_number"] = "+91 98100 00000"  # type: ignore[index]
        body["timezone"] = "Asia/Kolkata"
    r = await client.put(f"/api/v1/orgs/{ctx.id}", json=body, headers=gw.admin)
    assert r.status_code == 200, r.text
    for uid, email_addr in (("u1", "sato@sales.example.jp"), ("u2", "tanaka@sales.example.jp")):
        r = await client.put(
            f"/api/v1/orgs/{ctx.id}/users/{uid}",
            json={"email": email_addr, "phone": "+81 90-8765-4321"},
            headers=gw.admin,
        )
        assert r.status_code == 200, r.text
    return SendOrg(ctx, sid)


async def sms_template(
    client: httpx.AsyncClient, org: SendOrg, body: str, *, approve: bool = True, dlt: str | None = None
) -> str:
    gw = org.ctx.gateway
    r = await client.post(
        f"/api/v1/orgs/{org.id}/templates",
        json={"channel": "sms", "name": "予約確認", "module": "deals", "body": body},
        headers=gw.admin,
    )
    assert r.status_code == 201, r.text
    tid = str(r.json()["id"])
    if approve:
        assert (await client.post(f"/api/v1/orgs/{org.id}/templates/{tid}/submit", headers=gw.admin)).status_code == 200
        approval = {"dlt_template_id": dlt} if dlt else None
        r = await client.post(f"/api/v1/orgs/{org.id}/templates/{tid}/approve", json=approval, headers=gw.admin)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "approved"
    return tid


async def email_template(client: httpx.AsyncClient, org: SendOrg, subject: str, body: str) -> str:
    r = await client.post(
        f"/api/v1/orgs/{org.id}/templates",
        json={"channel": "email", "name": "ご案内", "module": "leads", "subject": subject, "body": body},
        headers=org.ctx.gateway.admin,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def buy(client: httpx.AsyncClient, org: SendOrg, amount: int) -> None:
    r = await client.post(
        f"/api/v1/orgs/{org.id}/credits/purchase", json={"amount": amount}, headers=org.ctx.gateway.admin
    )
    assert r.status_code == 201, r.text


async def notify(client: httpx.AsyncClient, org: SendOrg, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(f"/api/v1/orgs/{org.id}/notifications", json=body, headers=org.ctx.gateway.admin)
    assert r.status_code == 202, r.text
    out: dict[str, Any] = r.json()
    return out


async def notification(client: httpx.AsyncClient, org: SendOrg, nid: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/orgs/{org.id}/notifications/{nid}", headers=org.ctx.gateway.admin)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def settled(
    client: httpx.AsyncClient, org: SendOrg, nid: str, timeout: float = 20.0, statuses: set[str] | None = None
) -> dict[str, Any]:
    """Wait until the notification reaches one of ``statuses`` (default: any outcome)."""
    want = statuses or FINAL

    async def check() -> dict[str, Any] | None:
        rec = await notification(client, org, nid)
        return rec if rec["status"] in want else None

    result: dict[str, Any] = await wait_for(check, timeout=timeout, interval=0.1)
    return result


async def credits_of(client: httpx.AsyncClient, org: SendOrg) -> dict[str, Any]:
    r = await client.get(f"/api/v1/orgs/{org.id}/credits", headers=org.ctx.gateway.admin)
    out: dict[str, Any] = r.json()
    return out
