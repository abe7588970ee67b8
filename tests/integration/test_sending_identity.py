"""Sending identity end to end: an org with its own SMTP server sends through it (a second aiosmtpd),
From the user's address when it is one of the org's senders, else From the org's sender with
Reply-To the user; an org without its own SMTP uses the config's server and address. The org's
SMTP password is never echoed."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis as redis_sync
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gateway.devtools.net import free_port
from gateway.devtools.twilio_api import TwilioApi
from gateway.domain.sealing import PREFIX, SMTP_PASSWORD, derive_key, open_secret
from gateway.store import keys
from tests.support.api import Gateway
from tests.support.processes import SECRET_KEY
from tests.support.sending import (
    SendOrg,
    SmtpRecorder,
    SmtpServer,
    StartWorkers,
    email_template,
    notify,
    provision_sending_org,
    running_smtp,
    settled,
)

YAMADA = "yamada@client.example.jp"
CONFIG_FROM = "sales@signalgate.example.jp"  # tests.support.sending.worker_env


@pytest.fixture
def org_smtp() -> Iterator[SmtpServer]:
    """The org's own SMTP server: a second aiosmtpd."""
    with running_smtp() as server:
        yield server


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


@pytest.mark.usefixtures("send_workers")
async def test_org_smtp_and_senders_choose_the_server_from_and_reply_to(
    client: httpx.AsyncClient,
    gateway: Gateway,
    twilio_api: TwilioApi,
    smtp_server: SmtpServer,
    org_smtp: SmtpServer,
) -> None:
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


@dataclass
class Logins:
    """aiosmtpd authenticator: accepts ``password`` for ``login``, records every attempt."""

    password: str
    seen: list[str] = field(default_factory=list)

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.seen.append(auth_data.password.decode())
        ok = auth_data.login == b"acct" and auth_data.password.decode() == self.password
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def login_smtp() -> Iterator[tuple[SmtpServer, Logins]]:
    """The org's own SMTP server, offering AUTH (over plain TCP: loopback only); ``Logins`` shows
    what the client logged in with."""
    logins = Logins("unset")
    recorder = SmtpRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, authenticator=logins, auth_require_tls=False)
    controller.start()
    yield SmtpServer("127.0.0.1", port, recorder), logins
    controller.stop()


def _stored_smtp(sync_redis: redis_sync.Redis, org: str) -> tuple[str, dict[str, Any]]:
    raw = sync_redis.get(keys.org(org))
    assert isinstance(raw, str)
    rec = json.loads(raw)
    return raw, rec


async def test_org_smtp_password_is_sealed_in_redis_and_the_worker_logs_in_with_it(
    client: httpx.AsyncClient,
    gateway: Gateway,
    sync_redis: redis_sync.Redis,
    twilio_api: TwilioApi,
    login_smtp: tuple[SmtpServer, Logins],
    start_send_workers: StartWorkers,
) -> None:
    """The org's SMTP password is stored ``sg1:``-sealed (never in plain text in Redis), and the
    worker opens it to log in to the org's server; a legacy plain password written straight into
    Redis works as well. (SMS through Twilio with the sealed auth token: the other tests here.)"""
    server, logins = login_smtp
    start_send_workers()
    own = await provision_sending_org(client, gateway, twilio_api)
    logins.password = password = "smtp-" + secrets.token_hex(8)
    smtp = {"host": server.host, "port": server.port, "username": "acct", "password": password, "starttls": False}
    shown = await put_org(client, gateway, own, {"smtp": smtp, "senders": ["info@sales.example.jp"]})
    assert shown["smtp"]["password_set"] is True
    raw, rec = _stored_smtp(sync_redis, own.id)
    assert password not in raw and own.ctx.auth_token not in raw
    assert rec["smtp"]["password"].startswith(PREFIX) and rec["twilio"]["auth_token"].startswith(PREFIX)
    assert open_secret(derive_key(SECRET_KEY.encode()), own.id, SMTP_PASSWORD, rec["smtp"]["password"]) == password
    tid = await email_template(client, own, "ご案内", "<p>本文</p>")
    await send(client, own, tid, "k-sealed", None)
    assert logins.seen[-1] == password and len(server.recorder.to(YAMADA)) == 1

    logins.password = legacy = "legacy-" + secrets.token_hex(8)  # stored before sealing: plain text
    sync_redis.set(keys.org(own.id), json.dumps(rec | {"smtp": rec["smtp"] | {"password": legacy}}))
    await asyncio.sleep(1.5)  # the worker's org cache (gateway.store.tenancy.ORG_CACHE_SECONDS)
    await send(client, own, tid, "k-legacy", None)
    assert logins.seen[-1] == legacy and len(server.recorder.to(YAMADA)) == 2
