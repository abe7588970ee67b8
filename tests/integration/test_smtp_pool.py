"""The worker's SMTP connections against real aiosmtpd servers: reused, bounded, replaced when the
server closes them, kept after a refusal, separate per server settings."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from gateway.config import SmtpConfig
from gateway.devtools.net import free_port
from tests.support.sending import SmtpRecorder
from tests.support.timing import FACTOR
from workers.providers.smtp import CONNECTIONS_PER_SERVER, MailError, SmtpMailSender, SmtpTarget


@dataclass
class Server:
    port: int
    handler: SmtpRecorder


def _serve(timeout: float = 300) -> tuple[Controller, Server]:
    handler = SmtpRecorder(script={"refuse@client.example.jp": ["550 no such user"]})
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, timeout=timeout)
    controller.start()
    return controller, Server(port, handler)


@pytest.fixture
def server() -> Iterator[Server]:
    controller, srv = _serve()
    yield srv
    controller.stop()


@pytest.fixture
def quick_server() -> Iterator[Server]:
    """Closes a connection idle for half a second, as real servers do after a while."""
    controller, srv = _serve(timeout=0.5)
    yield srv
    controller.stop()


def _message(n: int, to: str = "yamada@client.example.jp") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "sales@signalgate.example.jp", to, f"mail {n}"
    msg.set_content(f"本文 {n}")
    return msg


def _sender(port: int) -> SmtpMailSender:
    return SmtpMailSender(SmtpConfig(host="127.0.0.1", port=port, timeout=5 * FACTOR))


async def _send(mail: SmtpMailSender, n: int, to: str = "yamada@client.example.jp", **kw: object) -> None:
    await mail.send(_message(n, to), sender="sales@signalgate.example.jp", recipient=to, **kw)  # type: ignore[arg-type]


async def test_mails_one_after_another_share_one_connection(server: Server) -> None:
    mail = _sender(server.port)
    for i in range(10):
        await _send(mail, i)
    await mail.aclose()
    assert [m["Subject"] for _, m in server.handler.messages] == [f"mail {i}" for i in range(10)]
    assert server.handler.sessions == 1


async def test_concurrent_mails_use_a_bounded_number_of_connections(server: Server) -> None:
    mail = _sender(server.port)
    await asyncio.gather(*(_send(mail, i) for i in range(40)))
    await mail.aclose()
    assert sorted(m["Subject"] for _, m in server.handler.messages) == sorted(f"mail {i}" for i in range(40))
    assert 1 <= server.handler.sessions <= CONNECTIONS_PER_SERVER


async def test_a_connection_the_server_closed_is_replaced(quick_server: Server) -> None:
    mail = _sender(quick_server.port)
    await _send(mail, 1)
    await asyncio.sleep(1.5)  # the server times the idle connection out
    await _send(mail, 2)
    await _send(mail, 3)
    await mail.aclose()
    assert [m["Subject"] for _, m in quick_server.handler.messages] == ["mail 1", "mail 2", "mail 3"]
    assert quick_server.handler.sessions == 2


async def test_a_reused_connection_broken_under_us_is_retried_once_on_a_new_one(server: Server) -> None:
    """The pooled connection dies without the client noticing (its socket is shut for writing
    behind aiosmtplib's back): the mail still goes out, once, on a new connection."""
    mail = _sender(server.port)
    await _send(mail, 1)
    [pooled] = next(iter(mail._servers.values())).idle
    assert pooled.transport is not None
    sock = pooled.transport.get_extra_info("socket")
    sock.shutdown(2)  # SHUT_RDWR: the next command fails as if the server had gone
    await _send(mail, 2)
    await mail.aclose()
    assert [m["Subject"] for _, m in server.handler.messages] == ["mail 1", "mail 2"]
    assert server.handler.sessions == 2


async def test_a_refused_recipient_is_permanent_and_keeps_the_connection(server: Server) -> None:
    mail = _sender(server.port)
    with pytest.raises(MailError) as refused:
        await _send(mail, 1, to="refuse@client.example.jp")
    assert (refused.value.permanent, refused.value.code) == (True, 550)
    await _send(mail, 2)
    await mail.aclose()
    assert [m["Subject"] for _, m in server.handler.messages] == ["mail 2"]
    assert server.handler.sessions == 1


async def test_each_server_settings_get_their_own_connections(server: Server) -> None:
    controller, other = _serve()
    try:
        mail = _sender(server.port)
        own = SmtpTarget("127.0.0.1", other.port, timeout=5 * FACTOR)
        await _send(mail, 1)
        await _send(mail, 2, via=own)
        await _send(mail, 3)
        await _send(mail, 4, via=own)
        await mail.aclose()
    finally:
        controller.stop()
    assert [m["Subject"] for _, m in server.handler.messages] == ["mail 1", "mail 3"]
    assert [m["Subject"] for _, m in other.handler.messages] == ["mail 2", "mail 4"]
    assert (server.handler.sessions, other.handler.sessions) == (1, 1)


async def test_an_unreachable_server_is_a_temporary_failure() -> None:
    mail = _sender(free_port())
    with pytest.raises(MailError) as failed:
        await _send(mail, 1)
    assert failed.value.permanent is False


def test_an_orgs_own_smtp_is_its_own_target() -> None:
    cfg = SmtpConfig(host="mail.example.jp", port=25, timeout=7)
    assert SmtpTarget.of(cfg) == SmtpTarget("mail.example.jp", 25, timeout=7)
    assert SmtpTarget.of(cfg, {"host": "smtp.org.example", "port": 587, "username": "u", "password": "p",
                               "starttls": True}) == SmtpTarget("smtp.org.example", 587, "u", "p", True, 7)  # fmt: skip
    assert SmtpTarget.of(cfg, {}) == SmtpTarget.of(cfg)
