"""gateway.live.protocol: client frames, server frames, close codes and the replay/live seam."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gateway.domain.signals import Placement
from gateway.live.protocol import (
    CLIENT_RULE,
    RETRYABLE,
    CloseCode,
    Hello,
    LiveFilter,
    ProtocolError,
    missed_history,
    parse_frame,
    parse_hello,
    parse_read,
    signal_frame,
    state_frame,
    unread_frame,
    welcome_frame,
)


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


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        ({"type": "hello", "token": "sgu.a.b"}, Hello("sgu.a.b", None)),
        ({"type": "hello", "token": "t", "after": "1700000000000-0"}, Hello("t", "1700000000000-0")),
        ({"type": "hello", "token": "t", "after": None}, Hello("t", None)),
    ],
)
def test_parse_hello_good(msg: dict[str, Any], expected: Hello) -> None:
    """A hello carries a token and optionally the cursor to resume after."""
    assert parse_hello(msg) == expected


@pytest.mark.parametrize(
    "msg",
    [
        {"type": "ping", "token": "t"},
        {"type": "hello"},
        {"type": "hello", "token": 5},
        {"type": "hello", "token": "t", "after": "yesterday"},
        {"type": "hello", "token": "t", "after": 17},
    ],
    ids=["not-hello", "no-token", "token-int", "after-word", "after-int"],
)
def test_parse_hello_bad(msg: dict[str, Any]) -> None:
    """A first frame that is not a hello with a token (and a valid cursor) is a protocol error."""
    with pytest.raises(ProtocolError):
        parse_hello(msg)


# The seam, as centrifuge tests its MergePublications: the last cursor the replay sent, then the
# cursors of the live frames buffered meanwhile (and after), and which of them reach the client.
@pytest.mark.parametrize(
    ("replayed_last", "live", "sent"),
    [
        (None, ["5-0", "6-0"], ["5-0", "6-0"]),
        ("5-0", ["4-0", "5-0", "6-0"], ["6-0"]),
        ("5-0", ["5-0", "5-1", "5-2"], ["5-1", "5-2"]),
        ("5-3", ["5-2", "6-0", "6-0", "7-0"], ["6-0", "7-0"]),
        ("9-0", ["3-0", "8-9"], []),
        ("5-0", ["", "4-0", "", "6-0"], ["", "", "6-0"]),
        ("1700000000000-999", ["1700000000000-1000", "1700000000001-0"], ["1700000000000-1000", "1700000000001-0"]),
    ],
    ids=["no-replay", "overlap", "same-ms", "repeat", "all-seen", "unread-frames", "seq-above-999"],
)
def test_live_filter_no_gap_no_duplicate(replayed_last: str | None, live: list[str], sent: list[str]) -> None:
    """Buffered live frames already replayed are dropped; every newer one is sent once, in order."""
    seam = LiveFilter(replayed_last)
    assert [cursor for cursor in live if seam.admit(cursor)] == sent


@pytest.mark.parametrize(
    ("after", "last_trimmed", "missed"),
    [
        ("5-0", None, False),
        ("5-0", "5-0", False),  # the client saw the last entry trimmed: nothing lost
        ("5-0", "6-0", True),
        ("5-1", "5-0", False),
        ("4-9", "5-0", True),
        ("0-0", "1-0", True),
        ("1700000000000-1000", "1700000000000-999", False),
    ],
)
def test_missed_history(after: str, last_trimmed: str | None, missed: bool) -> None:
    """A resume from below the newest trimmed id gets a gap frame; from it or above, none."""
    assert missed_history(after, last_trimmed) is missed


def test_server_frames_are_the_documented_json() -> None:
    """Welcome, signal, state and unread frames parse as the JSON the README documents."""
    assert orjson.loads(welcome_frame("acme", "u1", 3)) == {"type": "welcome", "org": "acme", "user": "u1", "unread": 3}
    body = orjson.dumps({"type": "sms.received", "title": "こんにちは", "data": {"n": 1}}).decode()
    assert orjson.loads(signal_frame("9-1", "7-0", 4, body, read=True)) == {
        "type": "signal",
        "cursor": "9-1",
        "signal": {
            "id": "7-0",
            "count": 4,
            "read": True,
            "archived": False,
            "snoozed_until": None,
            "type": "sms.received",
            "title": "こんにちは",
            "data": {"n": 1},
        },
    }
    replayed = orjson.loads(signal_frame("9-1", "7-0", 1, body, False, Placement(True, "2026-01-01T00:00:00.000Z")))
    assert (replayed["signal"]["archived"], replayed["signal"]["snoozed_until"]) == (True, "2026-01-01T00:00:00.000Z")
    assert orjson.loads(unread_frame(12)) == {"type": "unread", "count": 12}
    assert orjson.loads(state_frame(["7-0"], {"archived": True})) == {"type": "state", "ids": ["7-0"], "archived": True}


def test_every_close_code_has_a_client_rule() -> None:
    """Each close code says what a client does; only a bad token must not be retried."""
    assert set(CLIENT_RULE) == set(CloseCode)
    assert all(rule for rule in CLIENT_RULE.values())
    assert set(CloseCode) - RETRYABLE == {CloseCode.BAD_TOKEN}
    assert {int(c) for c in CloseCode} == {1001, 1008, 1009, 1011, 1013, 4401, 4408}
