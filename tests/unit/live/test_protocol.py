"""Unit tests for the pure parts of gateway.live.endpoint: client frame and read-request parsing."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.live.protocol import ProtocolError, parse_frame, parse_read


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type":"ping"}', {"type": "ping"}),
        ('{"type":"hello","token":"t","after":"1-0"}', {"type": "hello", "token": "t", "after": "1-0"}),
        ('{"type":"read","ids":["1-0","2-0"]}', {"type": "read", "ids": ["1-0", "2-0"]}),
        ('{"type":"既読"}', {"type": "既読"}),
    ],
)
def test_parse_frame_good(text: str, expected: dict[str, Any]) -> None:
    """A JSON object with a string type is returned as a dict."""
    assert parse_frame(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "ping",
        "{",
        "[]",
        '"ping"',
        "1",
        "null",
        "{}",
        '{"type":1}',
        '{"type":null}',
        '{"Type":"ping"}',
        "\ud800",
    ],
    ids=repr,
)
def test_parse_frame_bad(text: str | None) -> None:
    """Binary frames, non-JSON, non-objects and objects without a string type raise ProtocolError."""
    with pytest.raises(ProtocolError):
        parse_frame(text)


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        ({"type": "read", "up_to": "1700000000000-3"}, (None, "1700000000000-3")),
        ({"type": "read", "up_to": "1-0", "ids": "ignored"}, (None, "1-0")),
        ({"type": "read", "ids": ["1-0", "1700000000000-3"]}, (["1-0", "1700000000000-3"], None)),
        ({"type": "read", "ids": []}, ([], None)),
        ({"ids": [f"{i}-0" for i in range(1000)]}, ([f"{i}-0" for i in range(1000)], None)),
    ],
    ids=["up_to", "up_to-wins", "ids", "empty-ids", "1000-ids"],
)
def test_parse_read_good(msg: dict[str, Any], expected: tuple[list[str] | None, str | None]) -> None:
    """A read request carries either up_to or a list of at most 1000 signal ids."""
    assert parse_read(msg) == expected


@pytest.mark.parametrize(
    "msg",
    [
        {"type": "read"},
        {"type": "read", "up_to": None},
        {"type": "read", "up_to": 5},
        {"type": "read", "up_to": "latest"},
        {"type": "read", "up_to": "1-0\n"},
        {"type": "read", "ids": None},
        {"type": "read", "ids": "1-0"},
        {"type": "read", "ids": {"1-0": True}},
        {"type": "read", "ids": ["1-0", "nope"]},
        {"type": "read", "ids": ["1-0", 2]},
        {"type": "read", "ids": [f"{i}-0" for i in range(1001)]},
    ],
    ids=[
        "nothing",
        "up_to-null",
        "up_to-int",
        "up_to-word",
        "up_to-newline",
        "ids-null",
        "ids-str",
        "ids-dict",
        "ids-bad",
        "ids-int",
        "1001-ids",
    ],
)
def test_parse_read_bad(msg: dict[str, Any]) -> None:
    """Missing or invalid up_to/ids raise ProtocolError."""
    with pytest.raises(ProtocolError):
        parse_read(msg)
