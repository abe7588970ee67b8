"""SMTP delivery with aiosmtplib over reused connections, errors sorted into permanent (5xx) and
temporary (4xx, network).

A connection costs a TCP handshake, the greeting, EHLO (and STARTTLS and AUTH when configured) and
QUIT: more than the mail itself. Each worker process keeps up to ``CONNECTIONS_PER_SERVER`` open
connections per SMTP server settings (:class:`SmtpTarget`: host, port, login, STARTTLS — an org
with its own ``smtp`` gets its own connections, never another org's), each carrying one mail at a
time. A connection the server has closed is dropped before use; one that breaks as a mail starts
on it (the server closed it while idle, and we had not seen it yet) is replaced and the mail tried
once more on a new connection — the same resend a job retry would do, without the backoff. A 4xx
or 5xx answer leaves the connection usable (aiosmtplib resets the envelope); a network error or a
timeout closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

import aiosmtplib

from gateway.config import SmtpConfig

# Open connections per SMTP server and worker process (a worker runs up to `worker.max_jobs` jobs).
CONNECTIONS_PER_SERVER = 4
# Distinct SMTP servers (settings) with open connections; the least recently used is closed first.
MAX_SERVERS = 64


class MailError(Exception):
    """A failed delivery attempt; ``permanent`` for 5xx answers (a bounce), else retry later."""

    def __init__(self, message: str, *, code: int | None, permanent: bool) -> None:
        super().__init__(message)
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to submit mail; connections are pooled per target."""

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    timeout: float = 30.0

    @classmethod
    def of(cls, cfg: SmtpConfig, org_smtp: Any = None) -> SmtpTarget:
        """The config's server, or the org's own ``smtp`` (host, port, username, password, starttls)."""
        if not isinstance(org_smtp, dict) or not org_smtp.get("host"):
            return cls(cfg.host, cfg.port, cfg.username, cfg.password, cfg.starttls, cfg.timeout)
        return cls(
            str(org_smtp["host"]),
            int(org_smtp.get("port", 25)),
            str(org_smtp.get("username", "")),
            str(org_smtp.get("password", "")),
            bool(org_smtp.get("starttls", False)),
            cfg.timeout,
        )


class MailSender(Protocol):
    async def send(
        self, message: EmailMessage, *, sender: str, recipient: str, via: SmtpTarget | None = None
    ) -> None: ...


def _classify(code: int | None, text: str) -> MailError:
    return MailError(text, code=code, permanent=code is not None and 500 <= code < 600)


class _Server:
    def __init__(self, size: int) -> None:
        self.slots = asyncio.Semaphore(size)
        self.idle: list[aiosmtplib.SMTP] = []


class SmtpMailSender:
    def __init__(self, cfg: SmtpConfig, per_server: int = CONNECTIONS_PER_SERVER) -> None:
        self._default = SmtpTarget.of(cfg)
        self._per_server = per_server
        self._servers: OrderedDict[SmtpTarget, _Server] = OrderedDict()
        self.connections_opened = 0

    async def send(self, message: EmailMessage, *, sender: str, recipient: str, via: SmtpTarget | None = None) -> None:
        target = via or self._default
        server = self._server(target)
        async with server.slots:
            smtp = self._idle_connection(server)
            try:
                if smtp is None:
                    smtp = await self._connect(target)
                    await smtp.send_message(message, sender=sender, recipients=[recipient])
                else:
                    smtp = await self._send_on_reused(smtp, target, message, sender, recipient)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                self._keep(server, smtp)
                first = exc.recipients[0]
                raise _classify(first.code, f"recipient refused: {first.code} {first.message}") from None
            except aiosmtplib.SMTPResponseException as exc:
                self._keep(server, smtp)
                raise _classify(exc.code, f"SMTP {exc.code} {exc.message}") from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                if smtp is not None:
                    smtp.close()
                raise MailError(f"SMTP unavailable: {exc}", code=None, permanent=False) from None
            except BaseException:
                if smtp is not None:
                    smtp.close()
                raise
            self._keep(server, smtp)

    async def _send_on_reused(
        self, smtp: aiosmtplib.SMTP, target: SmtpTarget, message: EmailMessage, sender: str, recipient: str
    ) -> aiosmtplib.SMTP:
        """Send on a pooled connection; if it turns out closed, once more on a new one (returned)."""
        try:
            await smtp.send_message(message, sender=sender, recipients=[recipient])
            return smtp
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
            smtp.close()
        fresh = await self._connect(target)
        try:
            await fresh.send_message(message, sender=sender, recipients=[recipient])
        except BaseException:
            fresh.close()
            raise
        return fresh

    def _server(self, target: SmtpTarget) -> _Server:
        server = self._servers.get(target)
        if server is None:
            server = self._servers[target] = _Server(self._per_server)
            while len(self._servers) > MAX_SERVERS:
                _, old = self._servers.popitem(last=False)
                for conn in old.idle:
                    conn.close()
        self._servers.move_to_end(target)
        return server

    @staticmethod
    def _idle_connection(server: _Server) -> aiosmtplib.SMTP | None:
        while server.idle:
            smtp = server.idle.pop()
            if smtp.is_connected:
                return smtp
            smtp.close()
        return None

    @staticmethod
    def _keep(server: _Server, smtp: aiosmtplib.SMTP | None) -> None:
        if smtp is not None and smtp.is_connected:
            server.idle.append(smtp)

    async def _connect(self, target: SmtpTarget) -> aiosmtplib.SMTP:
        smtp = aiosmtplib.SMTP(
            hostname=target.host,
            port=target.port,
            username=target.username or None,
            password=target.password or None,
            start_tls=target.starttls,
            timeout=target.timeout,
        )
        self.connections_opened += 1
        await smtp.connect()
        return smtp

    async def aclose(self) -> None:
        """QUIT every idle connection (best effort) and forget them."""
        servers, self._servers = list(self._servers.values()), OrderedDict()
        for server in servers:
            for smtp in server.idle:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                    await smtp.quit()
                smtp.close()
            server.idle.clear()
