"""parse_urlencoded gives what starlette's request.form() gives (python-multipart), limits included."""

from __future__ import annotations

import asyncio
import random
from urllib.parse import urlencode

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

from gateway.domain.forms import MAX_FIELD_BYTES, FormError, parse_urlencoded


def starlette_form(body: bytes, max_fields: int) -> dict[str, str]:
    """What the Twilio endpoints got before: request.form(max_fields=...) on this body."""

    async def go() -> dict[str, str]:
        sent = False

        async def receive() -> dict[str, object]:
            nonlocal sent
            assert not sent
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/",
            "headers": [(b"content-type", b"application/x-www-form-urlencoded")],
            "app": object(),  # starlette turns parser errors into HTTPException(400) inside an app
        }
        form = await Request(scope, receive).form(max_fields=max_fields)
        return {k: v for k, v in form.items() if isinstance(v, str)}

    return asyncio.run(go())


CASES = [
    b"",
    b"a=1",
    b"a=1&b=2&a=3",
    b"a&b=&=c&&d=4&",
    b"&&&",
    b"=",
    b"a=b=c",
    b"Body=%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF+world&From=%2B819012345678",
    b"x=%ZZ&y=%E3%81&z=%",  # bad escapes: kept / replaced like unquote_plus does
    "raw=caf\u00e9".encode(),  # raw UTF-8 bytes, not escaped: Latin-1 decoded by both
    b"semi=1;2&plus=a+b%2Bc",
    urlencode({"Body": "見積もり 😀 & = + %", "To": "+815012345678"}).encode(),
]


@pytest.mark.parametrize("body", CASES)
def test_same_fields_as_starlette(body: bytes) -> None:
    assert parse_urlencoded(body, 200) == starlette_form(body, 200)


def _outcome(parse: object, body: bytes, max_fields: int) -> object:
    try:
        return parse(body, max_fields)  # type: ignore[operator]
    except FormError as exc:
        return ("refused", str(exc))
    except HTTPException as exc:
        return ("refused", exc.detail) if exc.status_code == 400 else exc


def test_random_bodies_parse_like_starlette() -> None:
    rng = random.Random(10)
    alphabet = [b"a", b"b", b"=", b"&", b"+", b"%", b"%2", b"%41", b"%e3%81%93", b"\xff", b" ", b";", b"z"]
    for _ in range(400):
        body = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert _outcome(parse_urlencoded, body, 5) == _outcome(starlette_form, body, 5), body


@pytest.mark.parametrize(
    "body",
    [
        b"&".join(b"f%d=1" % i for i in range(201)),
        b"&".join(b"f%d" % i for i in range(201)) + b"&&&",
        b"a=" + b"x" * MAX_FIELD_BYTES,
        b"a" * (MAX_FIELD_BYTES + 1),
    ],
)
def test_limits_refuse_with_starlettes_message(body: bytes) -> None:
    with pytest.raises(HTTPException) as theirs:
        starlette_form(body, 200)
    with pytest.raises(FormError) as ours:
        parse_urlencoded(body, 200)
    assert str(ours.value) == theirs.value.detail


@pytest.mark.parametrize(
    "body",
    [
        b"&".join(b"f%d=1" % i for i in range(200)),
        b"&".join(b"f%d=1" % i for i in range(200)) + b"&&&&",  # empty chunks are not fields
        b"a=" + b"x" * (MAX_FIELD_BYTES - 1),
    ],
)
def test_at_the_limits_is_accepted_by_both(body: bytes) -> None:
    assert parse_urlencoded(body, 200) == starlette_form(body, 200)
