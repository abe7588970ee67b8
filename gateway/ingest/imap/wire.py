"""IMAP server responses, as aioimaplib hands them over, turned into values. Pure.

aioimaplib gives a command's response as a list of lines: untagged responses without their
``* `` prefix (for SEARCH also without the ``SEARCH`` word), literals as ``bytearray`` right after
the line that announced them, and the tagged completion text last.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

Lines = Sequence[bytes | bytearray]

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.IGNORECASE)
_UIDNEXT = re.compile(rb"\[UIDNEXT (\d+)\]", re.IGNORECASE)
_EXISTS = re.compile(rb"^(?:\* )?(\d+) EXISTS\b", re.IGNORECASE)
_BYE = re.compile(rb"^(?:\* )?BYE\b", re.IGNORECASE)
_FETCH_START = re.compile(rb"^(?:\* )?\d+ FETCH \(", re.IGNORECASE)
_FETCH_UID = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.IGNORECASE)
_FETCH_DATE = re.compile(rb'\bINTERNALDATE "([^"]+)"', re.IGNORECASE)
_FETCH_BODY = re.compile(rb"\bBODY\[\](?:<\d+>)? \{\d+\}$", re.IGNORECASE)


class ProtocolError(ValueError):
    """The server answered something this client cannot use (e.g. SELECT without UIDVALIDITY)."""


@dataclass(frozen=True)
class Selected:
    uidvalidity: int
    uidnext: int | None
    exists: int


@dataclass(frozen=True)
class Fetched:
    uid: int
    internal_ms: int | None
    size: int | None
    body: bytes | None


def _text_lines(lines: Lines) -> list[bytes]:
    return [bytes(line) for line in lines if isinstance(line, bytes)]


def parse_select(lines: Lines) -> Selected:
    """UIDVALIDITY, UIDNEXT and EXISTS from a SELECT response."""
    validity: int | None = None
    uidnext: int | None = None
    exists = 0
    for line in _text_lines(lines):
        if m := _UIDVALIDITY.search(line):
            validity = int(m.group(1))
        if m := _UIDNEXT.search(line):
            uidnext = int(m.group(1))
        if m := _EXISTS.match(line):
            exists = int(m.group(1))
    if validity is None:
        raise ProtocolError("SELECT response carries no UIDVALIDITY")
    return Selected(validity, uidnext, exists)


def parse_search(lines: Lines) -> list[int]:
    """UIDs of a UID SEARCH response, ascending (the completion text is not a number list)."""
    uids: set[int] = set()
    for line in _text_lines(lines):
        tokens = line.split()
        if tokens and tokens[0].upper() == b"SEARCH":
            tokens = tokens[1:]
        if tokens and all(t.isdigit() for t in tokens):
            uids.update(int(t) for t in tokens)
    return sorted(uids)


def parse_internaldate(value: str) -> int | None:
    """``17-Jul-1996 02:44:25 -0700`` → epoch milliseconds (None when unreadable)."""
    try:
        return int(datetime.strptime(value.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp() * 1000)
    except ValueError:
        return None


def parse_fetch(lines: Lines) -> list[Fetched]:
    """One :class:`Fetched` per ``FETCH`` response that carries a UID, in server order.

    Unsolicited FETCH responses (flag changes by other clients) carry no UID and are skipped.
    """
    out: list[Fetched] = []
    head = b""
    body: bytes | None = None
    expect_body = False

    def finish() -> None:
        uid = _FETCH_UID.search(head)
        if uid is None:
            return
        size = _FETCH_SIZE.search(head)
        date = _FETCH_DATE.search(head)
        out.append(
            Fetched(
                uid=int(uid.group(1)),
                internal_ms=parse_internaldate(date.group(1).decode("ascii", "replace")) if date else None,
                size=int(size.group(1)) if size else None,
                body=body,
            )
        )

    started = False
    for line in lines:
        if isinstance(line, bytearray):
            if expect_body:
                body = bytes(line)
            expect_body = False
            continue
        if _FETCH_START.match(line):
            if started:
                finish()
            started, head, body = True, b"", None
        if started:
            head += b" " + line
            expect_body = bool(_FETCH_BODY.search(line))
    if started:
        finish()
    return out


def push_is_bye(lines: Lines) -> bool:
    """Whether the server said BYE (shutting down, or closing an idle connection)."""
    return any(_BYE.match(line) for line in _text_lines(lines))


def is_exists(line: bytes) -> bool:
    return bool(_EXISTS.match(line))
