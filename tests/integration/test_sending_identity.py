"""Sending identity end to end: an org with its own SMTP server sends through it (a second aiosmtpd),
From the user's address when it is one of the org's senders, else From the org's sender with
Reply-To the user; an org without its own SMTP uses the config's server and address. The org's
SMTP password is never echoed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from gateway.devtools.net import free_port
from gateway.devtools.twilio_api import TwilioApi
from tests.support.api import Gateway
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.sending import (
    SendOrg,
    SmtpRecorder,
    SmtpServer,
    email_template,
    notify,
    provision_sending_org,
    settled,
    start_workers,
)

YAMADA = "yamada@client.example.jp"
CONFIG_FROM = "sales@signalgate.example.jp"  # tests.support.sending.worker_env


@pytest.fixture
def org_smtp() -> Iterator[SmtpServer]:
    """The org's own SMTP server: a second aiosmtpd."""
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    yield SmtpServer("127.0.0.1", port, recorder)
    controller.stop()


async def put_org(client: httpx.AsyncClient, gw: Gateway, org: SendOrg, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.put(f"/api/v1/orgs/{org.id}", json=body, headers=gw.admin)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def send(client: httpx.AsyncClient, org: SendOrg, tid: str, key: str, sender: str | None) -> None:
    body: dict[str, Any] = {"channel": "email", "template": tid, "to": {"contact": "c-yamada"}, "idempotency_key": key}
    if sender:
        body["sender"] = sender
    done = await settled(client, org, (await notify(client, org, body))["id"])
    assert done["status"] == "sent", done


async def test_org_smtp_and_senders_choose_the_server_from_and_reply_to(
    client: httpx.AsyncClient,
    gateway: Gateway,
    redis_server: RedisServer,
    procs: Processes,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
    org_smtp: SmtpServer,
) -> None:
    start_workers(procs, redis_server, gateway, twilio_api, smtp_server)
    own = await provision_sending_org(client, gateway, twilio_api)
    plain = await provision_sending_org(client, gateway, twilio_api)
    shown = await put_org(
        client,
        gateway,
        own,
        {
            "smtp": {"host": org_smtp.host, "port": org_smtp.port, "username": "", "password": "smtp-secret-1"},
            "senders": ["info@sales.example.jp", "sato@sales.example.jp"],
        },
    )
    # (aiosmtpd offers no AUTH here: an empty username means no login, the password is only stored)
    assert shown["smtp"] == {
        "host": "127.0.0.1",
        "port": org_smtp.port,
        "username": "",
        "starttls": True,
        "password_set": True,
    }
    assert shown["senders"] == ["info@sales.example.jp", "sato@sales.example.jp"]
    r = await client.get(f"/api/v1/orgs/{own.id}", headers=gateway.admin)
    assert "smtp-secret-1" not in r.text and r.json()["smtp"]["password_set"] is True
    shown = await put_org(client, gateway, own, {"smtp": {"host": org_smtp.host, "starttls": False}})
    assert shown["smtp"]["password_set"] is True and shown["smtp"]["port"] == org_smtp.port
    bad = await client.put(f"/api/v1/orgs/{own.id}", json={"smtp": {"host": "a b"}}, headers=gateway.admin)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_field" and "smtp.host" in bad.json()["detail"]
    bad = await client.put(
        f"/api/v1/orgs/{own.id}", json={"senders": [f"s{i}@x.example.jp" for i in range(11)]}, headers=gateway.admin
    )
    assert bad.status_code == 400 and "senders" in bad.json()["detail"]

    own_tid = await email_template(client, own, "ご案内", "<p>本文</p>")
    plain_tid = await email_template(client, plain, "ご案内", "<p>本文</p>")
    await send(client, own, own_tid, "k-sato", "u1")  # sato@ is one of the org's senders
    await send(client, own, own_tid, "k-tanaka", "u2")  # tanaka@ is not
    await send(client, own, own_tid, "k-none", None)  # no user: the org's sender
    await send(client, plain, plain_tid, "k-plain", "u1")  # no own SMTP, no senders

    sent = {m["Message-ID"]: m for m in org_smtp.recorder.to(YAMADA)}
    assert len(sent) == 3 and not [m for m in smtp_server.recorder.to(YAMADA) if m["Message-ID"] in sent]
    by_from = {(m["From"], m.get("Reply-To")) for m in sent.values()}
    assert by_from == {
        ("sato@sales.example.jp", None),
        ("info@sales.example.jp", "tanaka@sales.example.jp"),
        ("info@sales.example.jp", None),
    }
    envelopes = {env.mail_from for env, _ in org_smtp.recorder.messages}
    assert envelopes == {"sato@sales.example.jp", "info@sales.example.jp"}
    [via_config] = smtp_server.recorder.to(YAMADA)
    assert via_config["From"] == CONFIG_FROM and via_config["Reply-To"] == "sato@sales.example.jp"
