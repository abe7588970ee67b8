"""How a listener of a tenant's mailbox (``public_only``) opens its connection, against a real
Dovecot: the name is resolved once and the socket goes to the checked address (a second lookup
could answer differently: DNS rebinding), TLS still verifies the certificate against the name, and a
name with a non-public address is never connected to.

The resolver is replaced here by one that answers for made-up names (and only once), and the
address rule by one that accepts loopback where a test must reach the local Dovecot; the sockets,
TLS and IMAP are real."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.domain.hosts import PRIVATE_HOST_ERROR
from gateway.ingest.imap import client as imap_client
from gateway.ingest.imap.client import Endpoint, ImapConnection, ImapHostRefused, ImapTlsFailed
from tests.support.imap import Dovecot


@pytest.fixture(scope="module")
def tls_dovecot() -> Iterator[Dovecot]:
    server = Dovecot(tls=True)  # its certificate names localhost and 127.0.0.1 only
    yield server
    server.close()


class OneAnswerResolver:
    """``loop.getaddrinfo`` answering 127.0.0.1 for ``names``, each once; any other lookup fails."""

    def __init__(self, *names: str) -> None:
        self.left = set(names)
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int, **kwargs: Any) -> list[Any]:
        self.asked.append(host)
        if host not in self.left:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        self.left.discard(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))]


def _install(monkeypatch: pytest.MonkeyPatch, resolver: OneAnswerResolver, *, allow_loopback: bool) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolver)
    if allow_loopback:
        monkeypatch.setattr(imap_client, "non_public", lambda addresses: [])


async def test_the_checked_address_is_connected_to_and_the_name_only_verified(
    tls_dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``localhost`` answers once: the session (implicit TLS and STARTTLS) logs in — it never asked the
    resolver again — and the certificate is checked against the name: ``imap.other.test``, resolving
    to the same address, fails TLS (were the address verified instead, 127.0.0.1 would pass)."""
    user = tls_dovecot.add_user()
    for tls, port in (("implicit", tls_dovecot.tls_port), ("starttls", tls_dovecot.port)):
        resolver = OneAnswerResolver("localhost", "imap.other.test")
        _install(monkeypatch, resolver, allow_loopback=True)
        ep = Endpoint("localhost", port, tls, user.address, user.password, tls_dovecot.ca_file, 10.0, public_only=True)
        conn = ImapConnection(ep)
        try:
            await conn.open()
            assert (await conn.select("INBOX")).uidvalidity > 0
        finally:
            conn.close()
        assert resolver.asked == ["localhost"], tls
        other = ImapConnection(
            Endpoint("imap.other.test", port, tls, user.address, user.password, ep.ca_file, 10.0, public_only=True)
        )
        with pytest.raises(ImapTlsFailed):
            try:
                await other.open()
            finally:
                other.close()
        assert resolver.asked == ["localhost", "imap.other.test"], tls
        monkeypatch.undo()


async def test_a_name_with_a_loopback_address_is_never_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the real rule, a name resolving to 127.0.0.1 is refused before any socket is opened."""
    accepted = 0

    async def note(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    server = await asyncio.start_server(note, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        _install(monkeypatch, OneAnswerResolver("mail.rebind.test"), allow_loopback=False)
        conn = ImapConnection(Endpoint("mail.rebind.test", port, "none", "u", "p", "", 5.0, public_only=True))
        with pytest.raises(ImapHostRefused) as refused:
            await conn.open()
        conn.close()
        assert str(refused.value) == PRIVATE_HOST_ERROR
        await asyncio.sleep(0.5)
        assert accepted == 0
    finally:
        server.close()
