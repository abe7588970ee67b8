"""The ``/ws`` wire protocol, sans I/O: close codes, client frames, server frames, the seam.

A session: the client sends ``hello`` (token, optional ``after`` cursor) within the hello
timeout; the server answers ``welcome``, then — with ``after`` — ``gap`` if ``after`` is older
than the retained history and every feed entry after it, then ``live``, then live frames. Client
frames after the hello: ``read`` (``ids`` or ``up_to``) and ``ping`` (answered ``pong``).

Every server frame is built here. The ``apply_signal``, ``feed_state`` and ``feed_wake`` Lua scripts
publish ``signal``, ``state`` and ``unread`` frames themselves (they run inside Redis); a test pins their bytes to
:func:`signal_frame` and :func:`unread_frame`.

The replay/live seam (:class:`LiveFilter`): a connection subscribes to its user's live channel
*before* it reads history, buffers live frames meanwhile, and then drops buffered frames whose
cursor it already replayed. Cursors are feed stream ids, strictly increasing per user, so
"already sent" is "not above the last cursor sent": no gap, no duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import orjson

from gateway.domain import streamid
from gateway.domain.signals import INBOX, BadReadRequest, Placement, read_request, signal_json


class CloseCode(IntEnum):
    """Every code the server closes a WebSocket with; :data:`CLIENT_RULE` says what a client does."""

    GOING_AWAY = 1001
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009  # sent by uvicorn's protocol (gateway.edge.server sets the limit)
    INTERNAL_ERROR = 1011
    TRY_AGAIN_LATER = 1013
    BAD_TOKEN = 4401
    HELLO_TIMEOUT = 4408


# What a client does after each close: the reconnect rule, beside its code.
CLIENT_RULE: dict[CloseCode, str] = {
    CloseCode.GOING_AWAY: "this node is shutting down: reconnect (any node) with after=<last cursor>",
    CloseCode.POLICY_VIOLATION: "the client sent a malformed frame (a client bug): reconnect with after=<last cursor>",
    CloseCode.MESSAGE_TOO_BIG: (
        "the client sent a frame over the limit (the request body limit, at least 64 KiB; a client bug):"
        " reconnect with after=<last cursor>"
    ),
    CloseCode.INTERNAL_ERROR: "the server failed: reconnect with backoff and after=<last cursor>",
    CloseCode.TRY_AGAIN_LATER: (
        "slow consumer, a ping went unanswered (gateway.edge.websocket), this node lost its live feed,"
        " or Redis is away: reconnect with backoff and after=<last cursor>"
    ),
    CloseCode.BAD_TOKEN: "the token is unknown or revoked: sign in again; do not retry with this token",
    CloseCode.HELLO_TIMEOUT: "no hello in time: reconnect and send hello first",
}
# Every code but BAD_TOKEN: reconnecting (with backoff) and the same token can succeed.
RETRYABLE = frozenset(CloseCode) - {CloseCode.BAD_TOKEN}
# A close reason is at most 123 bytes; ours are short sentences.
MAX_REASON = 120


class ProtocolError(Exception):
    """The client sent something that is not a valid frame (closed with 1008)."""


# -- client frames ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hello:
    token: str
    after: str | None


def parse_frame(text: str | None) -> dict[str, Any]:
    """A client frame: a JSON object with a string ``type`` (binary frames are refused)."""
    if text is None:
        raise ProtocolError("binary frames are not accepted")
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ProtocolError("frame is not JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
        raise ProtocolError("frame must be an object with a string 'type'")
    return msg


def parse_hello(msg: dict[str, Any]) -> Hello:
    if msg["type"] != "hello" or not isinstance(msg.get("token"), str):
        raise ProtocolError("first frame must be hello with a token")
    after = msg.get("after")
    if after is not None and not streamid.is_valid(after):
        raise ProtocolError("'after' must be a signal id")
    return Hello(msg["token"], after)


def parse_read(msg: dict[str, Any]) -> tuple[list[str] | None, str | None]:
    """``(ids, None)`` or ``(None, up_to)`` from a ``read`` frame."""
    try:
        return read_request(msg)
    except BadReadRequest as exc:
        raise ProtocolError(str(exc)) from None


# -- server frames ------------------------------------------------------------------------------
GAP = '{"type":"gap"}'
LIVE = '{"type":"live"}'
PONG = '{"type":"pong"}'


def welcome_frame(org: str, user: str, unread: int) -> str:
    return orjson.dumps({"type": "welcome", "org": org, "user": user, "unread": unread}).decode()


def signal_frame(cursor: str, sid: str, count: int | str, body: str, read: bool, placement: Placement = INBOX) -> str:
    """A signal (new, a grouped update of ``sid``, or its return from a snooze) written to the
    feed at ``cursor``, with its state (a live frame's signal is always in the inbox)."""
    return f'{{"type":"signal","cursor":"{cursor}","signal":{signal_json(sid, count, body, read, placement)}}}'


def state_frame(ids: list[str], fields: dict[str, Any]) -> str:
    """Some of the user's signals changed state: ``fields`` are the ones that changed
    (``read``, ``archived``, ``snoozed_until``, ``acted``); the Lua scripts publish the same."""
    return orjson.dumps({"type": "state", "ids": ids, **fields}).decode()


def unread_frame(count: int) -> str:
    return f'{{"type":"unread","count":{int(count)}}}'


# -- the replay/live seam -----------------------------------------------------------------------
def missed_history(after: str, last_trimmed: str | None) -> bool:
    """True when entries after ``after`` were trimmed away; ``last_trimmed`` is the newest id
    retention removed. A client that saw that entry (``after == last_trimmed``) lost nothing."""
    return last_trimmed is not None and streamid.parse(after) < streamid.parse(last_trimmed)


class LiveFilter:
    """Decides which buffered live frames to send after a replay that ended at ``last``.

    A frame without a cursor (an unread count) is always sent; a frame whose cursor is not above
    the last one sent was already replayed (or sent) and is dropped.
    """

    __slots__ = ("_seen",)

    def __init__(self, last: str | None) -> None:
        self._seen = streamid.parse(last) if last else (0, 0)

    def admit(self, cursor: str) -> bool:
        if not cursor:
            return True
        pos = streamid.parse(cursor)
        if pos <= self._seen:
            return False
        self._seen = pos
        return True
