"""Sending SMS through Twilio with the real ``twilio`` library, asynchronously.

The library is pointed at ``[twilio] api_base`` through its documented extension point, a custom
HTTP client (:class:`gateway.twilio_http.RewritingHttpClient`), so tests and staging talk to a local Twilio API while
production talks to ``https://api.twilio.com``. One aiohttp session serves every org; a
``twilio.rest.Client`` (cheap, credential-bound) is cached per account.

Sending, the hot path, takes a shorter way to the same request: the library's per-request layers
(headers rebuilt from ``platform`` each time, its request/response objects, the dict it hands to
aiohttp to form-encode) cost about as much CPU as the HTTP exchange itself. The URL (region, edge,
``api_base``), the headers and the Basic auth are taken from the account's ``Client`` once
(:class:`_Account`); each send form-encodes the library's fields (``To``, ``StatusCallback``,
``From``, ``MessagingServiceSid``, ``Body``) and posts them on the same session. The answer is
read as the library reads it: a 2xx JSON body becomes the library's ``MessageInstance``, anything
else the library's own exception (``Version.exception``), so errors map exactly as before.
Lookups (:meth:`TwilioSmsProvider.find_sent`, rare) go through the library unchanged.

Failures become :class:`ProviderError` carrying what the worker needs to decide: retry or not,
and whether Twilio may already hold the message (``ambiguous``), in which case the worker must
look with :meth:`TwilioSmsProvider.find_sent` before sending again.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, Self
from urllib.parse import urlencode

import aiohttp
import orjson
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.response import Response
from twilio.rest import Client
from twilio.rest.api.v2010.account.message import MessageInstance

from gateway.twilio_http import RewritingHttpClient, int_or_none, rewrite_url

TWILIO_API_BASE = "https://api.twilio.com"
# One Client per (account, token) in use; an org rotating its token leaves an entry behind, so
# the cache is bounded (a Client is a few small objects; rebuilding one costs no I/O).
MAX_CACHED_CLIENTS = 1024
# Reconciliation looks back minutes for one recipient: more messages than this means the window
# is wrong, not that paging on would help.
FIND_SENT_LIMIT = 1000


class ProviderError(Exception):
    """A send or lookup that did not succeed.

    ``retryable``: trying again later may succeed (429, 5xx, network). ``ambiguous``: the request
    may or may not have created a message (timeout or connection lost after sending, some 5xx).
    ``status``/``code`` are the HTTP status and Twilio's error code when Twilio answered.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        retryable: bool,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retryable = retryable
        self.ambiguous = ambiguous

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments do not survive the default exception pickling, and arq pickles
        # a job's exception into its result.
        return (_rebuild_provider_error, (self.message, self.status, self.code, self.retryable, self.ambiguous))


def _rebuild_provider_error(
    message: str, status: int | None, code: int | None, retryable: bool, ambiguous: bool
) -> ProviderError:
    return ProviderError(message, status=status, code=code, retryable=retryable, ambiguous=ambiguous)


@dataclass(frozen=True)
class SentMessage:
    """A message as Twilio holds it. ``segments`` is None while Twilio does not know it yet."""

    sid: str
    status: str
    to: str
    body: str
    segments: int | None
    date_created: datetime | None


class SmsProvider(Protocol):
    """What the SMS worker needs from a provider."""

    async def send(
        self,
        *,
        account_sid: str,
        auth_token: str,
        to: str,
        body: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
    ) -> SentMessage: ...

    async def find_sent(self, *, account_sid: str, auth_token: str, to: str, since: datetime) -> list[SentMessage]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class _Account:
    """An account's ``Client`` (lookups), its Messages list and the fixed parts of a send request,
    all computed by the library once: the Messages URL (region/edge applied, then ``api_base``)
    and the headers it sends with a POST, Basic auth included."""

    client: Any
    messages: Any
    url: str
    headers: dict[str, str]

    @classmethod
    def of(cls, account_sid: str, auth_token: str, http: RewritingHttpClient) -> _Account:
        client = Client(account_sid, auth_token, http_client=http)
        messages = client.api.v2010.accounts(account_sid).messages
        url = rewrite_url(client.get_hostname(messages._version.absolute_url(messages._uri)), http.api_base)
        headers = client.get_headers(
            "POST", {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        )
        headers["Authorization"] = aiohttp.BasicAuth(*client.get_auth(None)).encode()
        return cls(client, messages, url, headers)


class TwilioSmsProvider:
    """:class:`SmsProvider` over the twilio library's async API. Build with :meth:`create`."""

    def __init__(self, http_client: RewritingHttpClient) -> None:
        self._http = http_client
        self._clients: OrderedDict[tuple[str, str], _Account] = OrderedDict()

    @classmethod
    async def create(cls, api_base: str = TWILIO_API_BASE, timeout: float = 10.0) -> Self:  # noqa: ASYNC109
        """Open the shared HTTP session; must run inside the event loop that will use it.

        ``timeout`` (seconds) bounds each Twilio request, connect to last byte.
        """
        return cls(RewritingHttpClient(api_base, timeout))

    def warm(self) -> None:
        """Import what the library loads lazily on the first message (a few hundred ms), before jobs run."""
        _ = Client("AC" + "0" * 32, "warm-up", http_client=self._http).messages

    async def aclose(self) -> None:
        self._clients.clear()
        await self._http.close()

    async def send(
        self,
        *,
        account_sid: str,
        auth_token: str,
        to: str,
        body: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
    ) -> SentMessage:
        """Create one outbound SMS. Raises :class:`ProviderError`."""
        if not from_number and not messaging_service_sid:
            raise ValueError("a sender is needed: from_number or messaging_service_sid")
        # The library's fields, in its order, unset ones left out.
        fields = [("To", to)]
        if status_callback:
            fields.append(("StatusCallback", status_callback))
        if from_number:
            fields.append(("From", from_number))
        if messaging_service_sid:
            fields.append(("MessagingServiceSid", messaging_service_sid))
        fields.append(("Body", body))
        account = self._account(account_sid, auth_token)
        try:
            response = await self._http.post_form(account.url, urlencode(fields), account.headers)
            if not 200 <= response.status_code < 300:
                version = account.messages._version
                raise version.exception("POST", account.messages._uri, response, "Unable to create record")
        except (TwilioException, aiohttp.ClientError, TimeoutError) as exc:
            raise provider_error(exc, creates=True) from exc
        payload = orjson.loads(response.text) if response.text else {}
        return _sent_message(MessageInstance(account.messages._version, payload, account_sid=account_sid))

    async def find_sent(self, *, account_sid: str, auth_token: str, to: str, since: datetime) -> list[SentMessage]:
        """Messages to ``to`` created at or after ``since`` (to the second), newest first.

        No ``DateSent`` filter is sent: a message still queued at Twilio has no send date yet and
        would be missed, which is exactly the case reconciliation exists for. The newest
        ``FIND_SENT_LIMIT`` messages to the number are read and narrowed by ``date_created``.
        Callers should allow for clock skew in ``since``.
        """
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        floor = since.astimezone(UTC).replace(microsecond=0)  # Twilio's timestamps have no fraction
        try:
            messages = await self._account(account_sid, auth_token).messages.list_async(to=to, limit=FIND_SENT_LIMIT)
        except (TwilioException, aiohttp.ClientError, TimeoutError) as exc:
            raise provider_error(exc, creates=False) from exc
        found = [_sent_message(m) for m in messages]
        return [m for m in found if m.date_created is None or m.date_created >= floor]

    def _account(self, account_sid: str, auth_token: str) -> _Account:
        key = (account_sid, auth_token)
        account = self._clients.get(key)
        if account is None:
            account = self._clients[key] = _Account.of(account_sid, auth_token, self._http)
            if len(self._clients) > MAX_CACHED_CLIENTS:
                self._clients.popitem(last=False)
        else:
            self._clients.move_to_end(key)
        return account


def provider_error(exc: BaseException, *, creates: bool) -> ProviderError:
    """Classify a twilio/aiohttp failure. ``creates``: the request would have made a message."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        detail = exc.msg if isinstance(exc, TwilioRestException) else exc.detail or exc.title
        return _from_status(int(exc.status), int_or_none(exc.code), str(detail), creates=creates)
    if isinstance(exc, TwilioException) and len(exc.args) > 1 and isinstance(exc.args[1], Response):
        # A list page that did not answer 200 arrives as a bare TwilioException(msg, response).
        response = exc.args[1]
        code, message = _error_body(response.text)
        return _from_status(int(response.status_code), code, f"{exc.args[0]}: {message}", creates=creates)
    if isinstance(exc, aiohttp.ClientConnectorError):
        # Refused, unreachable or DNS: nothing was sent.
        return ProviderError(f"cannot reach Twilio: {exc}", retryable=True)
    if isinstance(exc, TimeoutError | aiohttp.ClientError):
        kind = "timed out" if isinstance(exc, TimeoutError) else f"failed: {type(exc).__name__}: {exc}"
        return ProviderError(f"Twilio request {kind}", retryable=True, ambiguous=creates)
    return ProviderError(f"unexpected Twilio client error: {type(exc).__name__}: {exc}", retryable=False)


def _from_status(status: int, code: int | None, message: str, *, creates: bool) -> ProviderError:
    retryable = status == 429 or status >= 500
    # 429 and 503 are refusals at Twilio's front door; another 5xx (500 from the API, 502/504
    # from its edge) may come after the message was stored, so a retry must look for it first.
    ambiguous = creates and status >= 500 and status != 503
    return ProviderError(
        f"Twilio answered {status} (code {code}): {message}",
        status=status,
        code=code,
        retryable=retryable,
        ambiguous=ambiguous,
    )


def _error_body(text: str) -> tuple[int | None, str]:
    try:
        payload = json.loads(text)
    except ValueError:
        return None, text[:200]
    if not isinstance(payload, dict):
        return None, text[:200]
    return int_or_none(payload.get("code")), str(payload.get("message", ""))


def _sent_message(message: Any) -> SentMessage:
    created = message.date_created
    return SentMessage(
        sid=str(message.sid),
        status=str(message.status),
        to=str(message.to),
        body=str(message.body or ""),
        # Twilio reports 0 segments until a Messaging Service has chosen a sender: unknown, not 0.
        segments=int_or_none(message.num_segments) or None,
        date_created=created if isinstance(created, datetime) else None,
    )
