"""Hostile input on the send path, against real processes: templates that would freeze or bloat the
gateway, header-breaking merge values, crafted recipients, dates, limits and nesting (issue 9)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import Gateway, OrgCtx, post_event
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.sending import (
    SmtpServer,
    StartWorkers,
    email_template,
    notify,
    provision_sending_org,
    settled,
    worker_env,
)
from tests.support.timing import FACTOR

NESTED_RANGE = "{% for i in range(n) %}{% for j in range(n) %}{% endfor %}{% endfor %}done"


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


async def _probe_healthz(gw: Gateway, stop: asyncio.Event) -> list[float]:
    """Latencies of /healthz, asked every 50 ms until ``stop``."""
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as c:
        while not stop.is_set():
            started = time.monotonic()
            r = await c.get("/healthz")
            latencies.append(time.monotonic() - started)
            assert r.status_code == 200
            await asyncio.sleep(0.05)
    return latencies


async def test_hostile_template_neither_freezes_nor_bloats_the_gateway(
    redis_server: RedisServer, procs: Processes, twilio_api: TwilioApi, smtp_server: SmtpServer
) -> None:
    """In `up` (worker in-process): nested loops and 'a'.ljust(10**9) end `rejected template_limit`,
    /healthz answers within a second throughout, and the process's peak memory stays bounded."""
    env = worker_env(Gateway("http://x", "", b""), twilio_api, smtp_server)
    env.pop("SIGNALGATE_GATEWAY_PUBLIC_URL")
    gw, proc = procs.serve(redis_server.url, with_router=True, **env)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30 * FACTOR) as client:
        org = await provision_sending_org(client, gw, twilio_api)
        loops = await email_template(client, org, "subject", NESTED_RANGE)
        bloat = await email_template(client, org, "subject", "{{ 'a'.ljust(n)|length }}")
        rss_before = _peak_rss_mb(proc.pid)
        stop = asyncio.Event()
        probe = asyncio.create_task(_probe_healthz(gw, stop))
        to = {"email": "yamada@client.example.jp"}
        sent = [await notify(client, org, {"channel": "email", "template": loops, "to": to, "data": {"n": 10_000}})]
        sent += [await notify(client, org, {"channel": "email", "template": bloat, "to": to, "data": {"n": 10**9}})]
        sent += [await notify(client, org, {"channel": "email", "template": loops, "to": to, "data": {"n": 9_999}})]
        done = [await settled(client, org, n["id"], timeout=30) for n in sent]
        stop.set()
        latencies = await probe
    assert [(d["status"], d.get("reason")) for d in done] == [("rejected", "template_limit")] * 3, done
    assert max(latencies) < 1.0 * FACTOR, sorted(latencies)[-5:]
    assert _peak_rss_mb(proc.pid) - rss_before < 200
    assert smtp_server.recorder.messages == []


async def test_template_creation_refuses_known_limits(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """Constant work or widths over the limits, and very deep nesting: 400 invalid_template with a detail."""
    base = f"/api/v1/orgs/{org.id}/templates"
    hostile = [
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "{{ 'a'.ljust(1000000000)|length }}",
        "{{ x|center(1000000000) }}",
        "{{ " + "(" * 500 + "1" + ")" * 500 + " }}",
        "{% if a %}" * 100 + "x" + "{% endif %}" * 100,
        "{% for a in b %}" * 30 + "x" + "{% endfor %}" * 30,
    ]
    for body in hostile:
        r = await client.post(
            base, json={"channel": "sms", "name": "x", "module": "m", "body": body}, headers=gateway.admin
        )
        assert r.status_code == 400, (body[:60], r.text)
        assert r.json()["error"] == "invalid_template"
        assert "limit" in r.json()["detail"] or "nested" in r.json()["detail"], r.text
    ok = {"channel": "sms", "name": "x", "module": "m", "body": "{{ cycler }}{{ name }}"}
    assert (await client.post(base, json=ok, headers=gateway.admin)).status_code == 201


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"d": value}
    return value


async def test_crafted_input_is_a_400_never_a_500(client: httpx.AsyncClient, gateway: Gateway, org: OrgCtx) -> None:
    """Unicode digits in ?limit, year 1/9999 times, far report dates, deep JSON, bad recipients → 400 with a detail."""
    base = f"/api/v1/orgs/{org.id}"
    h = gateway.admin
    responses: list[tuple[str, httpx.Response]] = []
    for limit in ("²", "١٢", "9" * 40, "-1"):
        responses.append(
            (f"ledger {limit}", await client.get(f"{base}/credits/ledger", params={"limit": limit}, headers=h))
        )
    cid = next(iter(org.contacts))
    responses.append(("activity", await client.get(f"{base}/contacts/{cid}/activity?limit=²", headers=h)))
    send = {"channel": "email", "template": "t1", "to": {"email": "a@example.com"}}
    for at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+23:59"):
        responses.append(
            (f"send_at {at}", await client.post(f"{base}/notifications", json={**send, "send_at": at}, headers=h))
        )
        reminder = {"user": "u1", "activity": "task", "title": "t", "remind_at": at}
        responses.append((f"remind_at {at}", await client.post(f"{base}/reminders", json=reminder, headers=h)))
    for params in (
        {"from": "0001-01-01", "to": "0001-01-05"},
        {"to": "0001-01-05"},
        {"from": "9999-12-30", "to": "9999-12-31"},
    ):
        responses.append((f"report {params}", await client.get(f"{base}/reports/email", params=params, headers=h)))
    event = {"type": "survey.answered", "contact": {"email": "x@example.com"}, "data": _deep(300)}
    responses.append(("deep webhook", await post_event(client, org, event)))
    responses.append(
        ("deep data", await client.post(f"{base}/notifications", json={**send, "data": _deep(300)}, headers=h))
    )
    for bad in ("a@b.jp\r\nBcc: victim@example.com", "a@b.jp, c@d.jp", "Yamada <a@b.jp>"):
        responses.append(
            (f"to {bad!r}", await client.post(f"{base}/notifications", json={**send, "to": {"email": bad}}, headers=h))
        )
    for what, r in responses:
        assert r.status_code == 400, (what, r.status_code, r.text)
        assert r.json()["detail"], what


@pytest.mark.usefixtures("send_workers")
async def test_line_separators_in_a_subject_do_not_stick_the_send(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """U+2028, NEL, VT and FF in a subject merge value become spaces; the mail goes out with one header line."""
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await email_template(client, org, "ご案内 {{ s }}", "<p>本文</p>")
    address = f"r-{uuid.uuid4().hex[:8]}@client.example.jp"
    n = await notify(client, org, {"channel": "email", "template": tid, "to": {"email": address},
                                   "data": {"s": "a\u2028b\x85c\x0bd\x0ce"}})  # fmt: skip
    done = await settled(client, org, n["id"])
    assert done["status"] == "sent", done
    [msg] = smtp_server.recorder.to(address)
    assert msg["Subject"] == "ご案内 a b c d e"


@pytest.mark.usefixtures("send_workers")
async def test_concurrent_identical_requests_create_one_send(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
) -> None:
    """30 simultaneous POSTs with one idempotency key while a worker polls: all 202 with one id, one mail."""
    org = await provision_sending_org(client, gateway, twilio_api)
    tid = await email_template(client, org, "ご案内", "<p>本文</p>")
    address = f"r-{uuid.uuid4().hex[:8]}@client.example.jp"
    body = {"channel": "email", "template": tid, "to": {"email": address}, "idempotency_key": uuid.uuid4().hex}
    url = f"/api/v1/orgs/{org.id}/notifications"
    answers = await asyncio.gather(*(client.post(url, json=body, headers=gateway.admin) for _ in range(30)))
    assert [r.status_code for r in answers] == [202] * 30, [r.text for r in answers if r.status_code != 202]
    assert len({r.json()["id"] for r in answers}) == 1
    done = await settled(client, org, answers[0].json()["id"])
    assert done["status"] == "sent", done
    assert len(smtp_server.recorder.to(address)) == 1


async def test_two_orgs_with_one_idempotency_key_both_send(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
    start_send_workers: StartWorkers,
) -> None:
    """arq job ids are one namespace: the REST API scopes them by org, so the second org's send is
    not refused as the first org's job (it stayed `queued` for ever before)."""
    key = "order-" + uuid.uuid4().hex[:8]
    orgs = [await provision_sending_org(client, gateway, twilio_api) for _ in range(2)]
    sent = []
    for org in orgs:
        tid = await email_template(client, org, "ご案内", "<p>本文</p>")
        address = f"{org.id}@client.example.jp"
        sent.append(
            await notify(
                client, org, {"channel": "email", "template": tid, "to": {"email": address}, "idempotency_key": key}
            )
        )
    start_send_workers()
    for org, n in zip(orgs, sent, strict=True):
        assert (await settled(client, org, n["id"]))["status"] == "sent"
        assert len(smtp_server.recorder.to(f"{org.id}@client.example.jp")) == 1
