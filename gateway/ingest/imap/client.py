"""One IMAP connection over aioimaplib, with timeouts, loss detection and the three TLS modes.

aioimaplib answers NO/BAD as results rather than exceptions, leaves commands pending forever when
the socket dies, and drops untagged ``EXISTS`` that arrive while a non-IDLE command runs. This
adapter turns all of that into :class:`ImapError` exceptions and a "new mail was announced" flag,
so the listener can treat every failure the same way: close, back off, reconnect.

An endpoint marked ``public_only`` (an API mailbox, unless ``[mailboxes] allow_private_hosts``) is
resolved first, without blocking (``loop.getaddrinfo``); when any answer is not a public address
(:func:`gateway.domain.hosts.is_public_address`) nothing is connected to (:class:`ImapHostRefused`).
Otherwise the socket is opened to those checked addresses, not to the name again (a second lookup
could answer differently: DNS rebinding), while TLS still verifies the certificate against the name.

The password is sent with LOGIN only; it is not kept in any exception or log line (aioimaplib's
own debug log of commands is raised to WARNING by the service for the same reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import ssl
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import aioimaplib

from gateway.domain.hosts import PRIVATE_HOST_ERROR, non_public
from gateway.ingest.imap import wire
from gateway.ingest.imap.rules import uid_set

T = TypeVar("T")
IdleOutcome = Literal["mail", "timeout", "stopped"]


class ImapError(Exception):
    """Anything that ends a connection; the listener closes it and reconnects with backoff."""


class ImapConnectionLost(ImapError, ConnectionError):
    """The socket closed, could not be opened, or the server said BYE."""


class ImapTlsFailed(ImapConnectionLost):
    """The TLS handshake failed (certificate not trusted, wrong host name, no common protocol)."""


class ImapHostRefused(ImapError):
    """The host resolves to a non-public address and the endpoint may only reach public ones."""


class ImapTimeout(ImapError, TimeoutError):
    """No answer in time: the connection is presumed dead (e.g. a frozen server)."""


class ImapRefused(ImapError):
    """The server answered NO or BAD."""


class ImapAuthFailed(ImapRefused):
    """LOGIN refused; retrying quickly would only risk locking the account."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    tls: str  # "implicit" | "starttls" | "none"
    username: str
    password: str = field(repr=False)
    ca_file: str = ""
    timeout: float = 15.0
    public_only: bool = False  # connect only when every address of host is public (API mailboxes)
    # Why the stored password could not be opened (gateway.domain.sealing): LOGIN fails at once.
    password_error: str = ""


class _Protocol(aioimaplib.IMAP4ClientProtocol):  # type: ignore[misc]  # untyped library
    """Notes every untagged ``EXISTS``, including those aioimaplib would drop."""

    exists_seen = False

    def _untagged_response(self, line: bytes) -> Any:
        if wire.is_exists(line):
            self.exists_seen = True
        return super()._untagged_response(line)


class _IMAP4(aioimaplib.IMAP4):  # type: ignore[misc]  # untyped library
    """``addresses``: connect to these (in order) instead of resolving ``host``, which then only
    names the server for TLS (SNI and the certificate check)."""

    def __init__(self, *args: Any, addresses: Sequence[str] = (), **kwargs: Any) -> None:
        self._addresses = tuple(addresses)  # before super(): its __init__ calls create_client
        super().__init__(*args, **kwargs)

    def create_client(
        self,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop | None,
        conn_lost_cb: Any = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        local_loop = loop if loop is not None else asyncio.get_running_loop()
        self.protocol = _Protocol(local_loop, conn_lost_cb)
        self._client_task = local_loop.create_task(self._connect(local_loop, host, port, ssl_context))

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, host: str, port: int, ssl_context: ssl.SSLContext | None
    ) -> Any:
        if not self._addresses:
            return await loop.create_connection(lambda: self.protocol, host, port, ssl=ssl_context)
        server_hostname = host if ssl_context is not None else None
        failure: OSError | None = None
        for address in self._addresses:
            try:
                return await loop.create_connection(
                    lambda: self.protocol, address, port, ssl=ssl_context, server_hostname=server_hostname
                )
            except ssl.SSLError:
                raise  # the server answered: another address of it would not verify better
            except OSError as exc:
                failure = exc
        assert failure is not None  # noqa: S101 - addresses is not empty
        raise failure


@functools.lru_cache(maxsize=32)
def tls_context(ca_file: str) -> ssl.SSLContext:
    """Verifying context; ``ca_file`` adds a private CA (self-hosted servers), never disables checks.
    Built once per CA file (loading CA bundles is slow file I/O; callers use a thread)."""
    return ssl.create_default_context(cafile=ca_file or None)


class ImapConnection:
    def __init__(self, endpoint: Endpoint) -> None:
        self._ep = endpoint
        self._loop = asyncio.get_running_loop()
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._imap: Any = None  # created by open()
        self._tls: ssl.SSLContext | None = None

    def _on_lost(self, exc: Exception | None) -> None:
        if not self._lost.done():
            self._lost.set_result(None)

    @property
    def lost(self) -> bool:
        return self._lost.done()

    # -- guarded calls ------------------------------------------------------------------------
    async def _call(self, awaitable: Awaitable[T], limit: float | None = None) -> T:
        """Await ``awaitable`` unless the connection dies or ``limit`` seconds pass first."""
        task = asyncio.ensure_future(awaitable)
        wait = self._ep.timeout if limit is None else limit
        waiting: set[asyncio.Future[Any]] = {task, self._lost}
        done, _ = await asyncio.wait(waiting, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            try:
                return task.result()
            except (TimeoutError, aioimaplib.CommandTimeout):
                raise ImapTimeout("no answer from the IMAP server in time") from None
            except ssl.SSLError as exc:
                raise ImapTlsFailed(f"TLS with the IMAP server failed: {exc}") from None
            except OSError as exc:
                raise ImapConnectionLost(f"cannot reach the IMAP server: {exc}") from None
            except aioimaplib.AioImapException as exc:
                raise ImapError(f"IMAP protocol error: {type(exc).__name__}") from None
        task.cancel()
        if self._lost.done():
            raise ImapConnectionLost("connection closed by the server")
        raise ImapTimeout("no answer from the IMAP server in time")

    async def _command(self, awaitable: Awaitable[Any], what: str) -> Any:
        response = await self._call(awaitable)
        if response.result != "OK":
            detail = b" ".join(bytes(x) for x in response.lines if isinstance(x, bytes))[:200]
            raise ImapRefused(f"{what} refused: {response.result} {detail.decode('utf-8', 'replace')}")
        return response

    # -- session ------------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, greet, upgrade with STARTTLS when configured, log in. Raises ImapError."""
        ep = self._ep
        if ep.password_error:  # no password to send: refused like a LOGIN, nothing contacted
            raise ImapAuthFailed(ep.password_error)
        if ep.tls != "none":
            try:
                self._tls = await asyncio.to_thread(tls_context, ep.ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ImapError(f"cannot load ca_file {ep.ca_file!r}: {exc}") from None
        addresses = await self._checked_addresses() if ep.public_only else ()
        implicit = self._tls if ep.tls == "implicit" else None
        self._imap = _IMAP4(
            ep.host,
            ep.port,
            timeout=ep.timeout,
            conn_lost_cb=self._on_lost,
            ssl_context=implicit,
            addresses=addresses,
        )
        await self._call(self._imap.wait_hello_from_server())
        if self._ep.tls == "starttls":
            await self._starttls()
        response = await self._call(self._imap.login(self._ep.username, self._ep.password))
        if response.result != "OK":
            raise ImapAuthFailed(f"LOGIN refused for {self._ep.username!r} on {self._ep.host}:{self._ep.port}")
        await self._call(self._imap.protocol.capability())
        if not self._imap.has_capability("IDLE"):
            raise ImapRefused("the IMAP server does not support IDLE (RFC 2177)")

    async def _checked_addresses(self) -> list[str]:
        """The host's addresses, each one public, or :class:`ImapHostRefused` (nothing connected to)."""
        ep = self._ep
        found = await self._call(self._loop.getaddrinfo(ep.host, ep.port, type=socket.SOCK_STREAM))
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if not addresses or non_public(addresses):
            raise ImapHostRefused(PRIVATE_HOST_ERROR)
        return addresses

    async def _starttls(self) -> None:
        proto = self._imap.protocol
        assert self._tls is not None  # noqa: S101 - open() loads it for every TLS mode
        if "STARTTLS" not in proto.capabilities:
            raise ImapRefused("the IMAP server does not offer STARTTLS")
        await self._command(proto.execute(aioimaplib.Command("STARTTLS", proto.new_tag(), loop=self._loop)), "STARTTLS")
        transport = await self._call(
            self._loop.start_tls(proto.transport, proto, self._tls, server_hostname=self._ep.host)
        )
        proto.transport = transport
        await self._call(proto.capability())  # RFC 3501: capabilities learnt before TLS are void

    async def select(self, folder: str) -> wire.Selected:
        response = await self._command(self._imap.select(folder), "SELECT")
        return wire.parse_select(response.lines)

    async def uid_search(self, *criteria: str) -> list[int]:
        response = await self._command(self._imap.uid_search(*criteria, charset=None), "UID SEARCH")
        return wire.parse_search(response.lines)

    async def uid_fetch(self, uids: Sequence[int], items: str) -> list[wire.Fetched]:
        response = await self._command(self._imap.uid("fetch", uid_set(uids), items), "UID FETCH")
        return wire.parse_fetch(response.lines)

    async def noop(self) -> None:
        await self._command(self._imap.noop(), "NOOP")

    def take_new_mail_flag(self) -> bool:
        """Whether the server announced new messages (``EXISTS``) since the last call."""
        proto = self._imap.protocol
        seen = bool(proto.exists_seen)
        proto.exists_seen = False
        return seen

    async def idle(self, seconds: float, stop: asyncio.Event) -> IdleOutcome:
        """Stay in IDLE until the server announces mail, ``seconds`` pass, or ``stop`` is set.

        IDLE is always ended with DONE and its completion awaited (with the command timeout):
        a connection that cannot complete that round trip is dead.
        """
        proto = self._imap.protocol
        while not proto.idle_queue.empty():  # pushes left over from the previous IDLE
            if wire.push_is_bye(proto.idle_queue.get_nowait()):
                raise ImapConnectionLost("the server said BYE")
        if proto.exists_seen:
            return "mail"
        idle_done = await self._call(self._imap.idle_start(timeout=seconds + 3600))
        outcome: IdleOutcome = "timeout"
        deadline = self._loop.time() + seconds
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while (left := deadline - self._loop.time()) > 0:
                push = asyncio.ensure_future(proto.idle_queue.get())
                done, _ = await asyncio.wait(
                    {push, stopping, self._lost}, timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
                if push not in done:
                    push.cancel()
                if self._lost.done():
                    raise ImapConnectionLost("connection closed by the server")
                if stopping in done:
                    outcome = "stopped"
                    break
                if push in done and wire.push_is_bye(push.result()):
                    raise ImapConnectionLost("the server said BYE")
                if proto.exists_seen:
                    outcome = "mail"
                    break
        finally:
            stopping.cancel()
        self._imap.idle_done()
        response = await self._call(idle_done)
        if response.result != "OK":
            raise ImapRefused(f"IDLE ended with {response.result}")
        return outcome

    async def logout(self) -> None:
        """Polite goodbye, best effort and short: used on a clean stop only."""
        with contextlib.suppress(ImapError):
            await self._call(self._imap.logout(), limit=min(self._ep.timeout, 2.0))

    def close(self) -> None:
        """Drop the socket and every task aioimaplib left pending; safe to call twice."""
        if self._imap is None:
            return
        for task in list(self._imap.tasks) + list(self._imap.protocol.tasks):
            task.cancel()
        transport = self._imap.protocol.transport
        if transport is not None:
            transport.abort()
        if not self._imap._client_task.done():
            self._imap._client_task.cancel()
        self._on_lost(None)
