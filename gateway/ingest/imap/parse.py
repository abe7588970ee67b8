"""Incoming mail → the facts a signal needs. Pure: bytes in, a value out, never an exception.

:func:`parse_mail` reads one RFC 5322 message with the stdlib ``email`` package
(``policy.default``) and returns a :class:`ParsedMail` — sender, To/Cc, subject, a short text
snippet, Message-ID and the ids it replies to, whether it is an automatic reply, and for a
delivery status notification (RFC 3464, ``multipart/report; report-type=delivery-status``) the
per-recipient statuses and the Message-ID of the message that bounced — or a
:class:`ParseFailure` when there is nothing usable (garbage, no header at all).

Work is bounded: at most :data:`MAX_PARSE_BYTES` of a message are parsed (headers and the text
part come first in practice), at most :data:`MAX_PARTS` MIME parts are visited, and lists are
capped, so a hostile or huge message costs the same as a large ordinary one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any, Literal

from gateway.ingest.imap.text import decode_bytes, header_text, html_to_text, snippet, strip_quoted

# Parsing more than this gives nothing a signal needs; attachments come after the text.
MAX_PARSE_BYTES = 1 << 20
# Decoded body text looked at for the snippet (the snippet itself is much shorter).
MAX_TEXT_CHARS = 20_000
SNIPPET_CHARS = 280
SUBJECT_CHARS = 300
MAX_ADDRESSES = 50
# Replies carry the whole thread in References; the root and the newest ids are the useful ones.
MAX_REFERENCES = 20
MAX_PARTS = 200
MAX_RECIPIENT_STATUSES = 50

Bounce = Literal["hard", "soft"]


@dataclass(frozen=True)
class Address:
    email: str  # lower-case, as contacts are indexed
    name: str


@dataclass(frozen=True)
class RecipientStatus:
    """One per-recipient block of a delivery status report."""

    recipient: str
    action: str
    status: str
    diagnostic: str

    @property
    def severity(self) -> Bounce | None:
        """5.x.x is permanent (hard), 4.x.x transient (soft), 2.x.x is no bounce at all."""
        klass = self.status[:1] if self.status else {"failed": "5", "delayed": "4"}.get(self.action, "")
        if klass == "5":
            return "hard"
        if klass == "4":
            return "soft"
        return None


@dataclass(frozen=True)
class DeliveryReport:
    original_message_id: str | None
    recipients: tuple[RecipientStatus, ...]

    @property
    def bounce(self) -> Bounce | None:
        severities = {r.severity for r in self.recipients}
        return "hard" if "hard" in severities else "soft" if "soft" in severities else None

    @property
    def worst(self) -> RecipientStatus | None:
        """The recipient that decides :attr:`bounce` (the first hard one, else the first soft one)."""
        for wanted in ("hard", "soft"):
            for r in self.recipients:
                if r.severity == wanted:
                    return r
        return None


@dataclass(frozen=True)
class ParsedMail:
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    snippet: str
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date: str | None  # ISO 8601 UTC, None when missing or unreadable
    auto_reply: str | None  # why it counts as automatic; None for a personal mail
    report: DeliveryReport | None
    truncated: bool
    defects: int


@dataclass(frozen=True)
class ParseFailure:
    reason: str


# -- headers ------------------------------------------------------------------------------------
def _raw_headers(msg: Message) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        out.setdefault(name.lower(), []).append(str(value))
    return out


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name)
    return header_text(values[0]) if values else ""


def _addresses(values: list[str]) -> tuple[Address, ...]:
    found: list[Address] = []
    seen: set[str] = set()
    for name, addr in getaddresses([header_text(v) for v in values]):
        addr = addr.strip().strip("<>").lower()
        if "@" not in addr or " " in addr or addr in seen or len(addr) > 254:
            continue
        seen.add(addr)
        found.append(Address(addr, name.strip()))
        if len(found) >= MAX_ADDRESSES:
            break
    return tuple(found)


_MSGID = re.compile(r"<([^<>\s]{1,250})>")


def message_ids(value: str) -> list[str]:
    """The ids in a Message-ID / In-Reply-To / References value, without angle brackets."""
    ids = _MSGID.findall(value)
    if not ids:  # some mailers omit the brackets
        ids = [t for t in value.split() if "@" in t and len(t) <= 250]
    return ids


def _references(value: str) -> tuple[str, ...]:
    ids = list(dict.fromkeys(message_ids(value)))
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return tuple(ids)


def _date(value: str) -> str | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, ValueError):
        return None


# -- automatic replies (RFC 3834 and what mailers really send) -----------------------------------
_AUTO_SUBJECT = re.compile(
    r"(?:^(?:auto(?:matic)?[ -]?(?:reply|response|answer|antwort)|autoreply|auto:)"
    r"|out of (?:the )?office|abwesenheit|réponse automatique|respuesta automática|risposta automatica"
    r"|自動返信|自動応答|自動通知|不在)",
    re.IGNORECASE,
)


def auto_reply_reason(headers: dict[str, list[str]], subject: str) -> str | None:
    """Why a mail counts as machine-sent (so it is never a reply), or None for a personal mail."""
    submitted = _first(headers, "auto-submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return "auto-submitted"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if name in headers:
            return name
    if _first(headers, "precedence").strip().lower() in ("auto_reply", "bulk", "junk"):
        return "precedence"
    if _AUTO_SUBJECT.search(subject):
        return "subject"
    return None


# -- body ---------------------------------------------------------------------------------------
def part_text(part: Message) -> str:
    """A text part's content, decoded with its charset (or the fallbacks), capped."""
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, LookupError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    text = decode_bytes(payload[: MAX_TEXT_CHARS * 4], part.get_content_charset())
    return text[:MAX_TEXT_CHARS]


def _body_part(msg: EmailMessage) -> Message | None:
    try:
        found = msg.get_body(preferencelist=("plain", "html"))
    except (KeyError, ValueError, AttributeError, LookupError, TypeError):
        found = None
    if found is not None:
        return found
    for i, part in enumerate(msg.walk()):  # e.g. text only inside an unusual multipart
        if i >= MAX_PARTS:
            break
        if part.get_content_maintype() == "text" and not part.is_attachment():
            return part
    return None


def body_snippet(msg: EmailMessage) -> str:
    part = _body_part(msg)
    if part is None and isinstance(msg.get_payload(), str):
        part = msg  # e.g. multipart without a boundary: the body is plain text after all
    if part is None:
        return ""
    text = part_text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return snippet(strip_quoted(text), SNIPPET_CHARS)


# -- delivery status notifications (RFC 3464) ---------------------------------------------------
def _typed(value: str) -> str:
    """``rfc822; user@host`` → ``user@host``; ``smtp; 550 ...`` → ``550 ...``."""
    _, sep, rest = value.partition(";")
    return (rest if sep else value).strip()


def _recipient_statuses(report_part: Message) -> tuple[RecipientStatus, ...]:
    blocks = report_part.get_payload()
    if not isinstance(blocks, list):  # unparsed: read the blocks ourselves
        text = blocks if isinstance(blocks, str) else ""
        blocks = [HeaderParser().parsestr(b.strip() + "\n") for b in re.split(r"\r?\n\s*\r?\n", text) if b.strip()]
    out: list[RecipientStatus] = []
    for block in blocks:
        if not isinstance(block, Message):
            continue
        fields = {k.lower(): header_text(str(v)) for k, v in block.raw_items()}
        recipient = fields.get("final-recipient") or fields.get("original-recipient")
        if not recipient:
            continue  # the per-message block (Reporting-MTA, Arrival-Date)
        status = re.match(r"\s*([245])\.(\d{1,3})\.(\d{1,3})", fields.get("status", ""))
        out.append(
            RecipientStatus(
                recipient=_typed(recipient).strip("<>").lower(),
                action=fields.get("action", "").strip().lower(),
                status=".".join(status.groups()) if status else "",
                diagnostic=" ".join(_typed(fields.get("diagnostic-code", "")).split())[:SNIPPET_CHARS],
            )
        )
        if len(out) >= MAX_RECIPIENT_STATUSES:
            break
    return tuple(out)


def _original_message_id(part: Message) -> str | None:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        original = inner[0] if isinstance(inner, list) and inner else None
        headers = _raw_headers(original) if isinstance(original, Message) else {}
    else:  # text/rfc822-headers
        headers = _raw_headers(HeaderParser().parsestr(part_text(part)))
    ids = message_ids(_first(headers, "message-id"))
    return ids[0] if ids else None


def delivery_report(msg: EmailMessage) -> DeliveryReport | None:
    """The RFC 3464 report inside ``msg``, or None when it is not a delivery status notification."""
    status_part: Message | None = None
    original_id: str | None = None
    for i, part in enumerate(msg.walk()):
        if i >= MAX_PARTS:
            break
        ctype = part.get_content_type()
        if ctype == "message/delivery-status" and status_part is None:
            status_part = part
        elif ctype in ("message/rfc822", "text/rfc822-headers") and original_id is None and status_part is not None:
            original_id = _original_message_id(part)
    if status_part is None:
        return None
    return DeliveryReport(original_id, _recipient_statuses(status_part))


# -- the whole message --------------------------------------------------------------------------
def parse_mail(raw: bytes, size: int | None = None) -> ParsedMail | ParseFailure:
    """Parse one message; ``size`` is its full size when ``raw`` may be a prefix of it."""
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        return ParseFailure("empty")
    truncated = len(raw) > MAX_PARSE_BYTES or (size is not None and size > len(raw))
    try:
        return _parse(bytes(raw[:MAX_PARSE_BYTES]), truncated)
    except Exception as exc:  # a parser bug on hostile input must never stop the listener
        return ParseFailure(f"parser error: {type(exc).__name__}")


def _parse(raw: bytes, truncated: bool) -> ParsedMail | ParseFailure:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)  # noqa: S101 - policy.default always builds these
    headers = _raw_headers(msg)
    if not any(h in headers for h in ("from", "to", "subject", "message-id", "date", "sender")):
        return ParseFailure("no headers")
    senders = _addresses(headers.get("from", []) or headers.get("sender", []))
    subject = _first(headers, "subject")[:SUBJECT_CHARS]
    ids = message_ids(_first(headers, "message-id"))
    report = delivery_report(msg)
    return ParsedMail(
        sender=senders[0] if senders else None,
        to=_addresses(headers.get("to", [])),
        cc=_addresses(headers.get("cc", [])),
        subject=subject,
        snippet=body_snippet(msg),
        message_id=ids[0] if ids else None,
        in_reply_to=_references(_first(headers, "in-reply-to")),
        references=_references(" ".join(header_text(v) for v in headers.get("references", []))),
        date=_date(_first(headers, "date")),
        auto_reply="delivery-status" if report is not None else auto_reply_reason(headers, subject),
        report=report,
        truncated=truncated,
        defects=len(msg.defects),
    )


def summary(mail: ParsedMail) -> dict[str, Any]:
    """The JSON the ``imap.mail`` event carries (small: ids, addresses, subject, snippet)."""

    def addr(a: Address) -> dict[str, str]:
        return {"email": a.email, "name": a.name}

    out: dict[str, Any] = {
        "from": addr(mail.sender) if mail.sender else None,
        "to": [addr(a) for a in mail.to],
        "cc": [addr(a) for a in mail.cc],
        "subject": mail.subject,
        "snippet": mail.snippet,
        "message_id": mail.message_id,
        "in_reply_to": list(mail.in_reply_to),
        "references": list(mail.references),
        "date": mail.date,
        "auto_reply": mail.auto_reply,
        "truncated": mail.truncated,
        "report": None,
    }
    if mail.report is not None:
        worst = mail.report.worst
        out["report"] = {
            "original_message_id": mail.report.original_message_id,
            "bounce": mail.report.bounce,
            "recipient": worst.recipient if worst else None,
            "status": worst.status if worst else None,
            "action": worst.action if worst else None,
            "diagnostic": worst.diagnostic if worst else None,
            "recipients": len(mail.report.recipients),
        }
    return out
