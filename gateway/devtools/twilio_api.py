"""A local stand-in for the Twilio cloud's REST API (Messages; numbers and calls for telephony), for
integration tests and ``signalgate bench``.

The Twilio cloud cannot run here, so this replaces it — and only it. Everything on our side stays
real: the real ``twilio`` library (through the worker's base-URL-rewriting HTTP client) talks to
this server unchanged over real sockets, in Twilio's own wire format: form-encoded requests with
HTTP Basic ``AccountSid:AuthToken``, JSON Message resources, Twilio's paging envelope, errors as
``{"code", "message", "more_info", "status"}``. Status callbacks go the other way as Twilio sends
them: form-encoded and signed with ``X-Twilio-Signature``.

Whether the library's requests match Twilio's published contract is Prism's job (TESTING.md);
this fake is for *behaviour*: what was sent, refusals with Twilio's error codes, 429/5xx faults,
answers held back so a worker can die mid-call.

What it does not do (so tests must not rely on it):
- deliver anything, move a message past ``queued``/``accepted`` on its own, or send a status
  callback unless a test calls :meth:`TwilioApi.send_status_callback`;
- leave ``date_sent`` empty until the carrier hand-off as Twilio does: here it equals
  ``date_created``, so ``DateSent`` filters also see messages that Twilio would still have queued;
- pick a sender from a Messaging Service (``from`` stays null), MMS/media, scheduling, cancel or
  delete, subaccounts, rate limits of its own (only injected ones), or any other resource.

Telephony (:mod:`gateway.devtools.twilio_numbers`): AvailablePhoneNumbers (``Local``, ``Mobile``,
``TollFree``; only what a test offered with :meth:`TwilioApi.offer_number`, filtered by
``Contains``), IncomingPhoneNumbers (create from an offered number, list, fetch, update, delete;
:meth:`TwilioApi.own_number` gives the account a number to adopt) and Calls (create, fetch, and
update with ``Status`` ``canceled``/``completed``; :meth:`TwilioApi.delay_call_updates` makes the
updates slow). A created call stays ``queued`` (until a test
moves it with :meth:`TwilioApi.set_call_status`): nothing rings and no TwiML is fetched; a test
plays Twilio's part by posting the signed callbacks itself. Resources carry the fields of Twilio's published OpenAPI
description (``twilio_api_v2010.json``), checked by ``tests/unit/devtools/test_twilio_shapes.py``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import math
import re
import socket
import uuid
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import urlencode

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from gateway.devtools.twilio_numbers import Telephony
from gateway.devtools.twilio_wire import API_VERSION, rfc2822, twilio_error

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
DEFAULT_PAGE_SIZE = 50  # Twilio's default; its maximum is 1000
MAX_PAGE_SIZE = 1000
BODY_LIMIT = 1600  # characters; longer bodies get 21617 at Twilio
FAULT_CODES = {429: 20429, 500: 20500, 503: 20503}
FAULT_MESSAGES = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}

# GSM 03.38: the basic set costs one septet, the extension table two (escape + char).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def count_segments(body: str) -> int:
    """SMS parts Twilio would bill: GSM-7 160 / 153 per part, otherwise UCS-2 70 / 67 (UTF-16 units)."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in body):
        units, single, part = sum(2 if c in GSM7_EXTENDED else 1 for c in body), 160, 153
    else:
        units, single, part = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)


class InLoopServer:
    """Serves an ASGI app with uvicorn inside the *current* event loop on a free 127.0.0.1 port.

    The listening socket is bound to port 0 before uvicorn starts, so there is no window in which
    another process can take the port. ``async with InLoopServer(app) as server`` → ``server.base_url``.
    """

    def __init__(self, app: Starlette, *, start_timeout: float = 10.0) -> None:
        self.app = app
        self.start_timeout = start_timeout
        self.base_url = ""
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("server already started")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
        # log_config=None: do not let uvicorn reconfigure the test process' logging.
        config = uvicorn.Config(
            self.app, lifespan="off", ws="none", log_config=None, log_level="warning", access_log=False,
            timeout_graceful_shutdown=5,
        )  # fmt: skip
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout
        while not self._server.started:
            if self._task.done():
                await self._task
                raise RuntimeError("uvicorn exited during startup")
            if loop.time() > deadline:
                raise RuntimeError("uvicorn did not start")
            await asyncio.sleep(0.005)
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class _QuietServer(uvicorn.Server):
    """uvicorn without its SIGINT/SIGTERM handlers: the test runner owns the process' signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it. ``account`` is the SID of valid Basic auth, else None."""

    method: str
    path: str
    form: dict[str, str]
    query: dict[str, str]
    account: str | None


@dataclass
class _Stored:
    resource: dict[str, Any]  # exactly what the API answers for this message
    account: str
    sent_at: datetime  # what DateSent filters compare against (see the module docstring)
    status_callback: str | None
    seq: int


@dataclass(frozen=True)
class _Fault:
    status: int
    code: int
    on: Literal["create", "any"]


class TwilioApi:
    """The fake Twilio REST API: ``async with TwilioApi() as api`` → ``api.base_url``.

    Faults and delays are consumed in order by the requests they apply to. ``clock`` decides the
    timestamps of new messages (tests may replace it to place messages in time without sleeping).
    """

    def __init__(self, *, clock: Callable[[], datetime] | None = None, timeout: float = 10.0) -> None:
        self.accounts: dict[str, str] = {}
        self.reject_numbers: set[str] = set()
        self.requests: list[RecordedRequest] = []
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._messages: list[_Stored] = []
        self._by_sid: dict[str, _Stored] = {}
        self._faults: deque[_Fault] = deque()
        self._delays: deque[float] = deque()
        self._stopping = asyncio.Event()
        messages = f"/{API_VERSION}/Accounts/{{account_sid}}/Messages"
        self.app = Starlette(
            routes=[
                Route(messages + ".json", self._messages_endpoint, methods=["GET", "POST"]),
                Route(messages + "/{sid}.json", self._fetch_endpoint, methods=["GET"]),
                Route("/{path:path}", self._not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            ]
        )
        # Seconds to wait for the server to start and for a status callback to be answered.
        self.timeout = timeout
        self._server = InLoopServer(self.app, start_timeout=timeout)
        self.telephony = Telephony(self.clock)
        for route in reversed(self.telephony.routes(self._admit, self._hold)):
            self.app.router.routes.insert(0, route)

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if not self._server.base_url:
            raise RuntimeError("TwilioApi is not started")
        return self._server.base_url

    async def start(self) -> None:
        await self._server.start()

    async def stop(self) -> None:
        self._stopping.set()  # releases answers still held by delay_next()
        await self._server.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- test controls ----------------------------------------------------------------------
    def add_account(self, sid: str, auth_token: str) -> None:
        self.accounts[sid] = auth_token

    def fail_next(
        self, n: int = 1, status: int = 429, code: int | None = None, *, on: Literal["create", "any"] = "create"
    ) -> None:
        """The next ``n`` message creates (or, with ``on="any"``, any API requests) answer ``status``.

        ``code`` defaults to Twilio's for the status (429 → 20429, 500 → 20500, 503 → 20503).
        A failed create stores nothing.
        """
        fault = _Fault(status, code if code is not None else FAULT_CODES.get(status, status), on)
        self._faults.extend([fault] * n)

    def delay_next(self, seconds: float) -> None:
        """Hold the answer to the next message create for ``seconds`` *after* storing the message."""
        self._delays.append(seconds)

    def hold_next_telephony(self, seconds: float) -> None:
        """Hold the answer to the next number or call write (buy, update, release, place a call) for
        ``seconds`` *after* applying it: a client that gives up first never hears that it was done."""
        self.telephony.held_answers.append(seconds)

    def delay_call_updates(self, seconds: float) -> None:
        """Hold the answer to every call update (``POST Calls/{sid}.json``, e.g. ``Status=canceled``)
        for ``seconds`` after applying it, as a slow Twilio would; ``0`` answers at once again."""
        self.telephony.call_update_delay = seconds

    def offer_number(
        self, phone_number: str, *, country: str = "JP", kind: str = "Local", locality: str | None = None
    ) -> None:
        """Make ``phone_number`` show up in AvailablePhoneNumbers ``country``/``kind`` (and buyable)."""
        self.telephony.offer(phone_number, country, kind, locality)

    def own_number(self, account: str, phone_number: str) -> str:
        """Give ``account`` a number it already owns (to adopt); its PN sid."""
        return self.telephony.own(account, phone_number)

    @property
    def numbers(self) -> list[dict[str, Any]]:
        """Every IncomingPhoneNumber resource the fake holds (live)."""
        return self.telephony.number_resources()

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every created Call resource, oldest first."""
        return self.telephony.call_resources()

    def set_call_status(self, sid: str, status: str) -> None:
        """Move created call ``sid`` to ``status`` (``ringing``, ``in-progress``, …) as Twilio would."""
        self.telephony.set_call_status(sid, status)

    def requests_to(self, method: str, suffix: str) -> list[RecordedRequest]:
        """Recorded requests of ``method`` whose path ends with ``suffix`` (e.g. ``/Calls.json``)."""
        return [r for r in self.requests if r.method == method and r.path.endswith(suffix)]

    @property
    def created(self) -> list[dict[str, Any]]:
        """Every stored message resource, oldest first (live: status callbacks update them)."""
        return [m.resource for m in self._messages]

    def created_to(self, number: str) -> list[dict[str, Any]]:
        return [m.resource for m in self._messages if m.resource["to"] == number]

    def status_callback_of(self, sid: str) -> str | None:
        return self._stored(sid).status_callback

    async def send_status_callback(self, sid: str, status: str, error_code: int | None = None) -> int:
        """POST a status callback for ``sid`` to its StatusCallback URL, signed as Twilio signs it.

        Also updates the stored message (as a later fetch would show). Returns the HTTP status.
        """
        stored = self._stored(sid)
        if stored.status_callback is None:
            raise ValueError(f"message {sid} was created without a StatusCallback")
        resource = stored.resource
        resource.update(status=status, error_code=error_code, date_updated=rfc2822(self.clock()))
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": stored.account,
            "To": resource["to"],
            "ApiVersion": API_VERSION,
        }
        if resource["from"]:
            params["From"] = resource["from"]
        if resource["messaging_service_sid"]:
            params["MessagingServiceSid"] = resource["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        validator = RequestValidator(self.accounts[stored.account])
        headers = {
            "X-Twilio-Signature": str(validator.compute_signature(stored.status_callback, params)),
            "I-Twilio-Idempotency-Token": uuid.uuid4().hex,
            "User-Agent": "TwilioProxy/1.1",
        }
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            response = await client.post(stored.status_callback, data=params, headers=headers)
        return response.status_code

    # -- HTTP -------------------------------------------------------------------------------
    async def _hold(self, seconds: float) -> None:
        """Wait ``seconds``, or less if the fake stops meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _stored(self, sid: str) -> _Stored:
        try:
            return self._by_sid[sid]
        except KeyError:
            raise KeyError(f"no message {sid} at the fake Twilio API") from None

    async def _admit(
        self, request: Request, kind: Literal["create", "read"]
    ) -> tuple[str | None, dict[str, str], Response | None]:
        """Record the request, then authenticate it and apply injected faults (Twilio's order)."""
        form: dict[str, str] = {}
        if request.method == "POST":
            form = {k: v for k, v in (await request.form()).multi_items() if isinstance(v, str)}
        account = self._authenticate(request)
        self.requests.append(
            RecordedRequest(request.method, request.url.path, form, dict(request.query_params), account)
        )
        if account is None:
            headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'}
            return None, form, twilio_error(401, 20003, "Authenticate", headers)
        if request.path_params.get("account_sid", account) != account:
            return account, form, _resource_not_found(request)
        if self._faults and (self._faults[0].on == "any" or kind == "create"):
            fault = self._faults.popleft()
            return account, form, twilio_error(fault.status, fault.code, FAULT_MESSAGES.get(fault.status, "Error"))
        return account, form, None

    def _authenticate(self, request: Request) -> str | None:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            sid, sep, token = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        expected = self.accounts.get(sid)
        if not sep or expected is None or not hmac.compare_digest(expected.encode(), token.encode()):
            return None
        return sid

    async def _messages_endpoint(self, request: Request) -> Response:
        account, form, refusal = await self._admit(request, "create" if request.method == "POST" else "read")
        if refusal is not None or account is None:
            return refusal or twilio_error(401, 20003, "Authenticate")
        if request.method == "POST":
            return await self._create(account, form)
        return self._list(request, account)

    async def _create(self, account: str, form: dict[str, str]) -> Response:
        to, body = form.get("To", ""), form.get("Body")
        sender, service = form.get("From") or None, form.get("MessagingServiceSid") or None
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not E164.fullmatch(to) or to in self.reject_numbers:
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if sender is None and service is None:
            return twilio_error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if not body:
            return twilio_error(400, 21602, "Message body is required.")
        if len(body) > BODY_LIMIT:
            return twilio_error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        now = self.clock().astimezone(UTC).replace(microsecond=0)
        sid = "SM" + uuid.uuid4().hex
        uri = f"/{API_VERSION}/Accounts/{account}/Messages/{sid}"
        resource: dict[str, Any] = {
            "account_sid": account,
            "api_version": API_VERSION,
            "body": body,
            "date_created": rfc2822(now),
            "date_sent": rfc2822(now),
            "date_updated": rfc2822(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": "0",
            # Twilio reports 0 segments until a Messaging Service has picked a sender.
            "num_segments": "0" if sender is None else str(count_segments(body)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if sender is not None else "accepted",
            "subresource_uris": {"media": uri + "/Media.json", "feedback": uri + "/Feedback.json"},
            "to": to,
            "uri": uri + ".json",
        }
        stored = _Stored(resource, account, now, form.get("StatusCallback") or None, len(self._messages))
        self._messages.append(stored)
        self._by_sid[sid] = stored
        if self._delays:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._delays.popleft())
        return JSONResponse(resource, status_code=201)

    def _list(self, request: Request, account: str) -> Response:
        query = request.query_params
        filters = {k: query[k] for k in ("To", "From", "DateSent", "DateSent<", "DateSent>") if k in query}
        try:
            page_size = min(max(int(query.get("PageSize", DEFAULT_PAGE_SIZE)), 1), MAX_PAGE_SIZE)
            page = max(int(query.get("Page", 0)), 0)
            bounds = {k: _parse_date_filter(v) for k, v in filters.items() if k.startswith("DateSent")}
        except ValueError as exc:
            return twilio_error(400, 20001, f"Invalid parameter: {exc}")
        matching = [
            m
            for m in self._messages
            if m.account == account
            and m.resource["to"] == filters.get("To", m.resource["to"])
            and m.resource["from"] == filters.get("From", m.resource["from"])
            and all(_date_matches(m.sent_at, op, bound) for op, bound in bounds.items())
        ]
        matching.sort(key=lambda m: (m.sent_at, m.seq), reverse=True)  # Twilio: newest DateSent first
        start = _page_start(matching, query.get("PageToken", ""), page, page_size)
        items = matching[start : start + page_size]
        path = request.url.path

        def page_uri(number: int, token: str | None) -> str:
            params = {**filters, "PageSize": str(page_size), "Page": str(number)}
            if token:
                params["PageToken"] = token
            return path + "?" + urlencode(params)

        has_next = start + page_size < len(matching)
        envelope = {
            "messages": [m.resource for m in items],
            "page": page,
            "page_size": page_size,
            "start": start,
            "end": start + max(len(items) - 1, 0),
            "uri": path + ("?" + request.url.query if request.url.query else ""),
            "first_page_uri": page_uri(0, None),
            "next_page_uri": page_uri(page + 1, "PA" + items[-1].resource["sid"]) if has_next else None,
            "previous_page_uri": page_uri(page - 1, "PB" + items[0].resource["sid"]) if page > 0 and items else None,
        }
        return JSONResponse(envelope)

    async def _fetch_endpoint(self, request: Request) -> Response:
        account, _, refusal = await self._admit(request, "read")
        if refusal is not None or account is None:
            return refusal or twilio_error(401, 20003, "Authenticate")
        stored = self._by_sid.get(request.path_params["sid"])
        if stored is None or stored.account != account:
            return _resource_not_found(request)
        return JSONResponse(stored.resource)

    async def _not_found(self, request: Request) -> Response:
        _, _, refusal = await self._admit(request, "read")
        return refusal or _resource_not_found(request)


def _resource_not_found(request: Request) -> JSONResponse:
    return twilio_error(404, 20404, f"The requested resource {request.url.path} was not found")


def _parse_date_filter(raw: str) -> date | datetime:
    """``YYYY-MM-DD`` (a GMT day, as Twilio documents) or ``YYYY-MM-DDTHH:MM:SSZ`` (as the library sends)."""
    raw = raw.lstrip("<>=")
    if len(raw) == 10:
        return date.fromisoformat(raw)
    return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _date_matches(sent_at: datetime, op: str, bound: date | datetime) -> bool:
    """``DateSent>`` means on or after, ``DateSent<`` on or before (Twilio's ``>=`` / ``<=``)."""
    if isinstance(bound, datetime):  # a full timestamp compares to the second
        value, limit = sent_at.timestamp(), bound.timestamp()
    else:  # a bare date compares GMT days
        value, limit = float(sent_at.date().toordinal()), float(bound.toordinal())
    if op == "DateSent>":
        return value >= limit
    if op == "DateSent<":
        return value <= limit
    return value == limit


def _page_start(matching: list[_Stored], token: str, page: int, page_size: int) -> int:
    """Twilio's page tokens are cursors: ``PA<sid>`` after that message, ``PB<sid>`` the page before it."""
    sids = [m.resource["sid"] for m in matching]
    if token[:2] in ("PA", "PB") and token[2:] in sids:
        at = sids.index(token[2:])
        return at + 1 if token.startswith("PA") else max(at - page_size, 0)
    return page * page_size
