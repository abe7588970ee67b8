"""The Twilio SMS adapter over real sockets against the local Twilio API (gateway/devtools/twilio_api.py)."""

from __future__ import annotations

import pickle
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from gateway.devtools.twilio_api import InLoopServer, TwilioApi
from gateway.twilio_http import RewritingHttpClient, rewrite_url
from tests.support.timing import FACTOR
from workers.providers.twilio_sms import (
    ProviderError,
    SentMessage,
    SmsProvider,
    TwilioSmsProvider,
    provider_error,
)

SID = "AC" + "1" * 32
TOKEN = secrets.token_hex(16)
OURS = "+815012345678"
YAMADA = "+819012345678"
SMITH = "+14155550134"
CALLBACK = "https://gw.example.test/webhooks/twilio/t-org/sms-status"


@pytest.fixture
async def api() -> AsyncIterator[TwilioApi]:
    async with TwilioApi(timeout=10 * FACTOR) as fake:
        fake.add_account(SID, TOKEN)
        yield fake


@pytest.fixture
async def provider(api: TwilioApi) -> AsyncIterator[TwilioSmsProvider]:
    p = await TwilioSmsProvider.create(api.base_url, timeout=5 * FACTOR)
    yield p
    await p.aclose()


async def send(provider: SmsProvider, to: str = YAMADA, body: str = "Your quote is ready", **kw: Any) -> SentMessage:
    kw.setdefault("from_number", OURS)
    return await provider.send(account_sid=SID, auth_token=kw.pop("auth_token", TOKEN), to=to, body=body, **kw)


async def send_error(provider: SmsProvider, **kw: Any) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await send(provider, **kw)
    return info.value


async def test_create_reaches_twilio_with_fields_auth_and_status_callback(
    api: TwilioApi, provider: TwilioSmsProvider
) -> None:
    """A send posts To/From/Body/StatusCallback with Basic auth and returns the queued Message."""
    sent = await send(provider, status_callback=CALLBACK)
    request = api.requests[-1]
    assert (request.method, request.path, request.account) == ("POST", f"/2010-04-01/Accounts/{SID}/Messages.json", SID)
    assert request.form == {"To": YAMADA, "From": OURS, "Body": "Your quote is ready", "StatusCallback": CALLBACK}
    [stored] = api.created
    assert sent == SentMessage(stored["sid"], "queued", YAMADA, "Your quote is ready", 1, sent.date_created)
    assert sent.sid.startswith("SM") and len(sent.sid) == 34
    assert sent.date_created is not None and abs(datetime.now(UTC) - sent.date_created) < timedelta(minutes=1)
    assert api.status_callback_of(sent.sid) == CALLBACK


async def test_messaging_service_send_is_accepted_with_segments_unknown(
    api: TwilioApi, provider: TwilioSmsProvider
) -> None:
    """With a Messaging Service and no From, Twilio answers `accepted` and 0 segments (reported as None)."""
    service = "MG" + "2" * 32
    sent = await send(provider, from_number=None, messaging_service_sid=service)
    assert api.requests[-1].form == {"To": YAMADA, "Body": "Your quote is ready", "MessagingServiceSid": service}
    assert (sent.status, sent.segments) == ("accepted", None)


async def test_japanese_body_round_trips_as_ucs2(api: TwilioApi, provider: TwilioSmsProvider) -> None:
    """A Japanese body arrives byte-exact and is billed as UCS-2 (70 chars = 1 part, 71 = 2)."""
    one = ("山田様、お見積もりの準備ができました。ご確認ください。" * 3)[:70]
    assert len(one) == 70
    first = await send(provider, body=one)
    second = await send(provider, body=one + "。")
    assert [m["body"] for m in api.created] == [one, one + "。"]
    assert (first.body, first.segments, second.segments) == (one, 1, 2)


@pytest.mark.parametrize(
    ("status", "code", "ambiguous"), [(429, 20429, False), (500, 20500, True), (503, 20503, False)]
)
async def test_throttling_and_server_errors_are_retryable(
    api: TwilioApi, provider: TwilioSmsProvider, status: int, code: int, ambiguous: bool
) -> None:
    """429/5xx raise a retryable error with Twilio's code, and the next call succeeds."""
    api.fail_next(1, status=status)
    error = await send_error(provider)
    assert (error.status, error.code, error.retryable, error.ambiguous) == (status, code, True, ambiguous)
    assert api.created == []
    sent = await send(provider)
    assert [m["sid"] for m in api.created] == [sent.sid]


@pytest.mark.parametrize("number", ["+1234", "819012345678", "+81 90 1234 5678", "+15005550001"])
async def test_invalid_number_is_permanent_21211(api: TwilioApi, provider: TwilioSmsProvider, number: str) -> None:
    """A number Twilio refuses (not E.164, or refused by Twilio) fails for good with code 21211."""
    api.reject_numbers.add("+15005550001")
    error = await send_error(provider, to=number)
    assert (error.status, error.code, error.retryable, error.ambiguous) == (400, 21211, False, False)
    assert number in str(error)
    assert api.created == []


async def test_wrong_auth_token_is_401_and_not_retryable(api: TwilioApi, provider: TwilioSmsProvider) -> None:
    """A wrong auth token gets Twilio's 401/20003; the token never appears in the error."""
    wrong = secrets.token_hex(16)
    error = await send_error(provider, auth_token=wrong)
    assert (error.status, error.code, error.retryable) == (401, 20003, False)
    assert wrong not in str(error) and TOKEN not in str(error)
    assert api.requests[-1].account is None and api.created == []


async def test_find_sent_filters_by_recipient_and_since(api: TwilioApi, provider: TwilioSmsProvider) -> None:
    """find_sent returns only messages to that number created at or after `since`, newest first."""
    t0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)
    at = t0

    def clock() -> datetime:
        return at

    api.clock = clock
    await send(provider, body="earlier")
    at = t0 + timedelta(minutes=30)
    recent = await send(provider, body="first")
    await send(provider, to=SMITH, body="someone else")
    at = t0 + timedelta(minutes=31)
    newest = await send(provider, body="second")
    found = await provider.find_sent(account_sid=SID, auth_token=TOKEN, to=YAMADA, since=t0 + timedelta(minutes=30))
    assert [m.sid for m in found] == [newest.sid, recent.sid]
    assert found[0].date_created == t0 + timedelta(minutes=31)
    # Filtered by recipient only: a message still queued at Twilio has no DateSent yet.
    query = api.requests[-1].query
    assert query["To"] == YAMADA
    assert not any(k.startswith("DateSent") for k in query)


async def test_find_sent_counts_messages_in_the_same_second_as_since(
    api: TwilioApi, provider: TwilioSmsProvider
) -> None:
    """Twilio's timestamps have no fraction: a message at 09:00:00 is found for since=09:00:00.900."""
    t0 = datetime(2025, 3, 1, 9, 0, 0, 500_000, tzinfo=UTC)
    api.clock = lambda: t0
    sent = await send(provider)
    found = await provider.find_sent(account_sid=SID, auth_token=TOKEN, to=YAMADA, since=t0 + timedelta(seconds=0.4))
    assert [m.sid for m in found] == [sent.sid]


async def test_library_follows_the_fakes_paging(api: TwilioApi) -> None:
    """The twilio library walks next_page_uri across pages and gets every message once, newest first."""
    http = RewritingHttpClient(api.base_url, timeout=5 * FACTOR)
    try:
        client = Client(SID, TOKEN, http_client=http)
        for i in range(5):
            await client.messages.create_async(to=YAMADA, from_=OURS, body=f"m{i}")
        listed = await client.messages.list_async(to=YAMADA, page_size=2)
    finally:
        await http.close()
    assert [m.body for m in listed] == ["m4", "m3", "m2", "m1", "m0"]
    pages = [r.query for r in api.requests if r.method == "GET"]
    assert [q.get("Page") for q in pages] == [None, "1", "2"]
    assert all(q["PageSize"] == "2" and q["To"] == YAMADA for q in pages)


async def test_fetch_of_unknown_message_is_404_20404(api: TwilioApi) -> None:
    """Fetching a Message SID the account does not have answers Twilio's 404 with code 20404."""
    http = RewritingHttpClient(api.base_url, timeout=5 * FACTOR)
    try:
        client = Client(SID, TOKEN, http_client=http)
        created = await client.messages.create_async(to=YAMADA, from_=OURS, body="hello")
        fetched = await client.messages(created.sid).fetch_async()
        with pytest.raises(TwilioRestException) as info:
            await client.messages("SM" + "0" * 32).fetch_async()
    finally:
        await http.close()
    assert (fetched.sid, fetched.body, fetched.status) == (created.sid, "hello", "queued")
    assert (info.value.status, info.value.code) == (404, 20404)


async def test_find_sent_errors_are_retryable_and_never_ambiguous(api: TwilioApi, provider: TwilioSmsProvider) -> None:
    """A throttled lookup raises a retryable error that cannot have created anything."""
    api.fail_next(1, status=503, on="any")
    with pytest.raises(ProviderError) as info:
        await provider.find_sent(account_sid=SID, auth_token=TOKEN, to=YAMADA, since=datetime.now(UTC))
    assert (info.value.status, info.value.code, info.value.retryable, info.value.ambiguous) == (503, 20503, True, False)


async def test_timeout_is_ambiguous_and_the_message_exists(api: TwilioApi) -> None:
    """An answer slower than the client timeout is an ambiguous, retryable error — yet Twilio has the message."""
    provider = await TwilioSmsProvider.create(api.base_url, timeout=0.3 * FACTOR)
    try:
        api.delay_next(30 * FACTOR)
        error = await send_error(provider)
        assert (error.status, error.retryable, error.ambiguous) == (None, True, True)
        [stored] = api.created_to(YAMADA)  # which is why a retry must reconcile before sending again
        found = await provider.find_sent(
            account_sid=SID, auth_token=TOKEN, to=YAMADA, since=datetime.now(UTC) - timedelta(minutes=1)
        )
        assert [m.sid for m in found] == [stored["sid"]]
    finally:
        await provider.aclose()


async def test_unreachable_twilio_is_retryable_and_not_ambiguous(api: TwilioApi) -> None:
    """A refused connection sent nothing: retryable, not ambiguous."""
    closed = InLoopServer(api.app, start_timeout=10 * FACTOR)
    async with closed:
        base_url = closed.base_url
    provider = await TwilioSmsProvider.create(base_url, timeout=5 * FACTOR)
    try:
        error = await send_error(provider)
    finally:
        await provider.aclose()
    assert (error.status, error.retryable, error.ambiguous) == (None, True, False)


async def test_status_callback_is_signed_as_twilio_signs_it(api: TwilioApi, provider: TwilioSmsProvider) -> None:
    """The fake's status callback carries Twilio's form fields and a signature RequestValidator accepts."""
    received: list[tuple[str, dict[str, str], str]] = []

    async def receiver(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).multi_items() if isinstance(v, str)}
        received.append((str(request.url), form, request.headers.get("x-twilio-signature", "")))
        return PlainTextResponse("", status_code=204)

    receiver_app = Starlette(routes=[Route("/status", receiver, methods=["POST"])])
    async with InLoopServer(receiver_app, start_timeout=10 * FACTOR) as server:
        url = server.base_url + "/status?org=t-1"
        sent = await send(provider, status_callback=url)
        assert await api.send_status_callback(sent.sid, "undelivered", error_code=30003) == 204
    [(got_url, params, signature)] = received
    assert got_url == url
    assert params == {
        "MessageSid": sent.sid,
        "SmsSid": sent.sid,
        "MessageStatus": "undelivered",
        "SmsStatus": "undelivered",
        "AccountSid": SID,
        "From": OURS,
        "To": YAMADA,
        "ApiVersion": "2010-04-01",
        "ErrorCode": "30003",
    }
    assert RequestValidator(TOKEN).validate(url, params, signature)
    assert not RequestValidator(secrets.token_hex(16)).validate(url, params, signature)
    assert (api.created[0]["status"], api.created[0]["error_code"]) == ("undelivered", 30003)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json", "http://127.0.0.1:9/2010-04-01/Accounts/AC1/Messages.json"),
        ("https://api.dublin.ie1.twilio.com/2010-04-01/x.json?Page=1", "http://127.0.0.1:9/2010-04-01/x.json?Page=1"),
        ("https://example.com/2010-04-01/x.json", "https://example.com/2010-04-01/x.json"),
        ("https://nottwilio.com/x", "https://nottwilio.com/x"),
        ("http://api.twilio.com/x", "http://api.twilio.com/x"),
    ],
)  # fmt: skip
def test_rewrite_url_sends_only_twilio_hosts_to_the_base(url: str, expected: str) -> None:
    """Only https://*.twilio.com is redirected; path and query are kept."""
    assert rewrite_url(url, "http://127.0.0.1:9/") == expected


def test_provider_error_survives_pickling() -> None:
    """arq pickles job exceptions: every field of a ProviderError comes back."""
    error = ProviderError("Twilio answered 429", status=429, code=20429, retryable=True, ambiguous=False)
    back = pickle.loads(pickle.dumps(error))
    assert (str(back), back.status, back.code, back.retryable, back.ambiguous) == (str(error), 429, 20429, True, False)


class _Recorder:
    """A Twilio stand-in that keeps each request's method, path, headers and body bytes, and answers
    with whatever the test queued (status, JSON)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.answers: list[tuple[int, bytes]] = []
        self.app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST"])])

    async def _handle(self, request: Request) -> Response:
        skip = {"host", "content-length"}
        headers = {k: v for k, v in request.headers.items() if k not in skip}
        self.requests.append((request.method, request.url.path, headers, await request.body()))
        status, body = self.answers.pop(0)
        return Response(body, status_code=status, media_type="application/json")


_RESOURCE = orjson.dumps(
    {
        "sid": "SM" + "a" * 32,
        "status": "queued",
        "to": YAMADA,
        "body": "ご予約",
        "num_segments": "1",
        "date_created": "Mon, 03 Mar 2025 09:00:00 +0000",
        "account_sid": SID,
    }
)


def _error_fields(error: ProviderError) -> tuple[object, ...]:
    return (str(error), error.status, error.code, error.retryable, error.ambiguous)


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (201, _RESOURCE),
        (400, b'{"code": 21211, "message": "The \'To\' number is not valid.", "more_info": "x", "status": 400}'),
        (429, b'{"code": 20429, "message": "Too Many Requests", "status": 429}'),
        (500, b"<html>upstream broke</html>"),
        (400, b'{"type": "https://twilio.com/x", "title": "Bad", "status": 400, "code": 21604, "detail": "To"}'),
    ],
)
async def test_send_puts_the_librarys_request_on_the_wire_and_reads_its_answer_the_same(
    status: int, answer: bytes
) -> None:
    """provider.send and the library's own messages.create_async send byte-identical requests
    (method, URL, headers with Basic auth, form body) and turn the same answer into the same
    SentMessage or the same ProviderError."""
    recorder = _Recorder()
    fields = {"to": YAMADA, "body": "ご予約 a&b=c+d%", "from_": OURS, "status_callback": CALLBACK + "?n=n_1&x=ü"}
    async with InLoopServer(recorder.app, start_timeout=10 * FACTOR) as server:
        recorder.answers = [(status, answer), (status, answer)]
        http = RewritingHttpClient(server.base_url, timeout=5 * FACTOR)
        provider = await TwilioSmsProvider.create(server.base_url, timeout=5 * FACTOR)
        try:
            library: SentMessage | ProviderError
            try:
                message = await Client(SID, TOKEN, http_client=http).messages.create_async(**fields)
                library = SentMessage(message.sid, message.status, message.to, message.body, 1, message.date_created)
            except TwilioException as exc:
                library = provider_error(exc, creates=True)
            ours: SentMessage | ProviderError
            try:
                ours = await provider.send(
                    account_sid=SID,
                    auth_token=TOKEN,
                    to=YAMADA,
                    body=fields["body"],
                    from_number=OURS,
                    status_callback=fields["status_callback"],
                )
            except ProviderError as exc:
                ours = exc
        finally:
            await http.close()
            await provider.aclose()
    via_library, via_provider = recorder.requests
    assert via_provider == via_library
    assert via_provider[1] == f"/2010-04-01/Accounts/{SID}/Messages.json"
    if isinstance(library, SentMessage):
        assert ours == library
    else:
        assert isinstance(ours, ProviderError)
        assert _error_fields(ours) == _error_fields(library)
