"""The outgoing email as bytes-ready ``EmailMessage``: text and HTML parts, tracking. Pure.

Every mail is ``multipart/alternative`` with a text/plain part derived from the HTML, because
spam filters penalise HTML-only mail and some readers (and the text preview of many clients)
show only text. The text part is derived from the *original* HTML, so it carries the real
links and no pixel: a reader who sees only the text gets honest URLs.

Tracking, when the org has it on, rewrites every http(s) ``href`` of ``<a>`` and ``<area>`` to
the click redirect (``TrackingPlan.link``) and appends a 1×1 open pixel. Only the rewritten
start tags change; every other byte of the HTML is kept as written. ``mailto:``, ``tel:`` and
``#anchors`` are never rewritten (they are not clicks we can redirect). A link with any other
scheme (``javascript:``, ``data:``, ``vbscript:`` …) loses its ``href``, tracked or not, and is
left out of the text part: it is neither tracked nor kept.

Attribute values are read with HTML5 attribute rules (``&timestamp=1`` in a URL stays as is),
not with ``html.parser``'s own unescaping, which would turn it into ``×tamp=1``.

Japanese mail: with ``charset="iso-2022-jp"`` (still expected by some Japanese clients) the
subject is an RFC 2047 encoded word in ISO-2022-JP and both parts are ISO-2022-JP, 7bit. Text
that ISO-2022-JP cannot carry (emoji, half-width katakana, ①) falls back to UTF-8 for that header
or part rather than failing the send; a part whose encoded lines exceed SMTP's 998 octets is
sent base64 in ISO-2022-JP.
"""

from __future__ import annotations

import functools
import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.contentmanager import _encode_text  # type: ignore[attr-defined]
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from html.entities import html5 as _HTML5_ENTITIES
from html.parser import HTMLParser
from typing import Any

# RFC 5322 §2.1.1: a line must not exceed 998 characters (without CRLF).
MAX_LINE_OCTETS = 998
_ISO_2022_JP = "iso-2022-jp"

_TAG_NAME = re.compile(r"<[A-Za-z][^\s/>]*")
_ATTRIBUTE = re.compile(r"""[\s/]*([^\s/>"'=][^\s/>=]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]*))?""")
_CHAR_REF = re.compile(r"&(#[0-9]+;?|#[xX][0-9A-Fa-f]+;?|[A-Za-z][A-Za-z0-9]*;?)")
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


@dataclass(frozen=True)
class TrackingPlan:
    """Open pixel URL and the function that turns an original URL into its click redirect."""

    pixel_url: str
    link: Callable[[str], str]


def make_message_id(domain: str) -> str:
    """A fresh ``<random@domain>`` Message-ID (128 random bits; no host name, pid or time).

    An internationalised domain is written in its ASCII (punycode) form, as headers require.
    """
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{domain!r} is not a domain name for a Message-ID") from None
    if not _DOMAIN.fullmatch(ascii_domain):
        raise ValueError(f"{domain!r} is not a domain name for a Message-ID")
    return f"<{secrets.token_hex(16)}@{ascii_domain}>"


def build_email(
    *,
    from_addr: str,
    to_addr: str,
    subject: str,
    html: str,
    message_id: str,
    tracking: TrackingPlan | None,
    charset: str = "utf-8",
    date: datetime | None = None,
    extra_headers: dict[str, str] | None = None,
) -> EmailMessage:
    """The complete message: headers, a text part from the original HTML, the (tracked) HTML.

    ``date`` defaults to the current time; pass it for reproducible output.
    """
    msg = EmailMessage(policy=SMTP)
    _set_header(msg, "From", from_addr, _BARE_ADDRESS)
    _set_header(msg, "To", to_addr, _BARE_ADDRESS)
    _set_subject(msg, subject, charset)
    msg.set_raw("Date", format_datetime(date or datetime.now(UTC)))
    _set_header(msg, "Message-ID", message_id, _PLAIN_MESSAGE_ID)
    msg.set_raw("MIME-Version", "1.0")
    for name, value in (extra_headers or {}).items():  # our own values (e.g. List-Unsubscribe): ASCII
        if not value.isascii() or any(c in value for c in "\r\n"):
            raise ValueError(f"header {name} must be one line of ASCII")
        msg.set_raw(name, value)
    # multipart/alternative with its boundary chosen now (random, so no part can contain it):
    # what make_alternative() and the generator would do, with one header parse instead of four.
    msg["Content-Type"] = f'multipart/alternative; boundary="{_boundary()}"'
    body = add_tracking(html, tracking) if tracking is not None else drop_unsafe_links(html)
    msg.attach(_text_part(html_to_text(html), "plain", charset))
    msg.attach(_text_part(body, "html", charset))
    return msg


# --- headers and parts --------------------------------------------------------------------


def _encodable(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _set_subject(msg: EmailMessage, subject: str, charset: str) -> None:
    if "\r" in subject or "\n" in subject:
        raise ValueError("subject must be a single line")
    if charset.lower() != _ISO_2022_JP or subject.isascii() or not _encodable(subject, _ISO_2022_JP):
        msg["Subject"] = subject  # the policy writes UTF-8 encoded words where needed
        return
    # Folded here, within 78 columns, so the policy stores it untouched instead of re-encoding
    # it as UTF-8.
    folded = Header(subject, charset=_ISO_2022_JP, header_name="Subject").encode(linesep="\r\n", maxlinelen=78)
    msg.set_raw("Subject", folded)


# Header values written as they are (no parse, no refold) when they are this plain; anything else
# (a display name, non-ASCII) goes through the policy's header classes.
_BARE_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,200}[A-Za-z0-9])?")
_PLAIN_MESSAGE_ID = re.compile(
    r"<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,200}[A-Za-z0-9])?>"
)


def _set_header(msg: EmailMessage, name: str, value: str, plain: re.Pattern[str]) -> None:
    if plain.fullmatch(value):
        msg.set_raw(name, value)
    else:
        msg[name] = value


@functools.lru_cache(maxsize=16)
def _parsed_header(name: str, value: str) -> Any:
    """The policy's header object for a constant value, parsed once per process (header objects
    are immutable; a message stores one as it is, and reads it back without parsing again)."""
    return SMTP.header_factory(name, value)


def _boundary() -> str:
    return "=" * 15 + secrets.token_hex(16) + "=="


def _text_part(content: str, subtype: str, charset: str) -> EmailMessage:
    part = EmailMessage(policy=SMTP)
    if charset.lower() == "utf-8":
        # What set_content() writes for UTF-8 text (the same transfer encoding, chosen by the same
        # stdlib function), without parsing the headers it sets back in.
        cte, payload = _encode_text(content, "utf-8", None, SMTP)
        part["Content-Type"] = _parsed_header("Content-Type", f'text/{subtype}; charset="utf-8"')
        part["Content-Transfer-Encoding"] = _parsed_header("Content-Transfer-Encoding", cte)
        part.set_payload(payload)
        return part
    if charset.lower() == _ISO_2022_JP and _encodable(content, _ISO_2022_JP):
        lines = content.encode(_ISO_2022_JP).splitlines()
        fits = all(len(line) <= MAX_LINE_OCTETS for line in lines)
        part.set_content(content, subtype=subtype, charset=_ISO_2022_JP, cte="7bit" if fits else "base64")
    elif charset.lower() == _ISO_2022_JP or not _encodable(content, charset):
        part.set_content(content, subtype=subtype, charset="utf-8")
    else:
        part.set_content(content, subtype=subtype, charset=charset)
    del part["MIME-Version"]  # set_content adds it; it belongs on the top-level message only
    return part


# --- HTML attributes ----------------------------------------------------------------------


def _unescape_attribute(value: str) -> str:
    """Character references in an attribute value, decoded as HTML5 does inside attributes."""

    def replace(match: re.Match[str]) -> str:
        ref = match.group(1)
        if ref.startswith("#") or ref.endswith(";"):
            return html.unescape(match.group(0))
        # A legacy reference without ';' is decoded only when it is the whole name and not
        # followed by '=' (so "&copy" decodes but "&copy=2" and "&timestamp" stay literal).
        following = value[match.end() : match.end() + 1]
        if ref in _HTML5_ENTITIES and following != "=":
            return _HTML5_ENTITIES[ref]
        return match.group(0)

    return _CHAR_REF.sub(replace, value)


def _attributes(start_tag: str) -> list[tuple[str, str | None]]:
    """Attributes of a raw start tag, names lower-cased, values unescaped, in order."""
    name = _TAG_NAME.match(start_tag)
    pos = name.end() if name else len(start_tag)
    found: list[tuple[str, str | None]] = []
    while (match := _ATTRIBUTE.match(start_tag, pos)) is not None and match.end() > pos:
        raw = match.group(2)
        if raw is not None and raw[:1] in ("'", '"'):
            raw = raw[1:-1]
        found.append((match.group(1).lower(), None if raw is None else _unescape_attribute(raw)))
        pos = match.end()
    return found


def _first(attrs: list[tuple[str, str | None]], name: str) -> str | None:
    return next((value for key, value in attrs if key == name), None)


def _is_web_url(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://"))


# Browsers ignore tabs and line breaks inside a URL and leading spaces and controls before it,
# so "java\tscript:" is javascript: too.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"[\x00-\x20]*([A-Za-z][A-Za-z0-9+.\-]*):")
KEPT_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def is_unsafe_link(url: str) -> bool:
    """A link with a scheme other than http(s), mailto and tel (javascript:, data:, vbscript: …)."""
    scheme = _SCHEME.match(_URL_IGNORED.sub("", url))
    return scheme is not None and scheme.group(1).lower() not in KEPT_SCHEMES


# --- tracking -----------------------------------------------------------------------------


class _LinkRewriter(HTMLParser):
    """Collects (start, end, replacement) edits for the start tags of tracked or unsafe links."""

    def __init__(self, source: str, link: Callable[[str], str] | None) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._link = link
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self.edits: list[tuple[int, int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._rewrite(tag, closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._rewrite(tag, closing=True)

    def _rewrite(self, tag: str, *, closing: bool) -> None:
        if tag not in ("a", "area"):
            return
        raw = self.get_starttag_text() or ""
        attrs = _attributes(raw)
        href = _first(attrs, "href")
        if href is None:
            return
        if is_unsafe_link(href):
            kept = [(key, value) for key, value in attrs if key != "href"]
        elif self._link is not None and _is_web_url(href):
            kept = _replace_href(attrs, self._link(href.strip()))
        else:
            return
        line, column = self.getpos()
        start = self._line_starts[line - 1] + column
        if self._source[start : start + len(raw)] != raw:  # parser and source disagree: leave it
            return
        self.edits.append((start, start + len(raw), _start_tag(tag, kept, closing)))


def _replace_href(attrs: list[tuple[str, str | None]], url: str) -> list[tuple[str, str | None]]:
    """The first ``href`` gets ``url`` in place; later duplicates (ignored by browsers) are dropped."""
    out: list[tuple[str, str | None]] = []
    for key, value in attrs:
        if key != "href":
            out.append((key, value))
        elif all(existing != "href" for existing, _ in out):
            out.append((key, url))
    return out


def _start_tag(tag: str, attrs: list[tuple[str, str | None]], closing: bool) -> str:
    parts = [f" {key}" if value is None else f' {key}="{html.escape(value, quote=True)}"' for key, value in attrs]
    return f"<{tag}{''.join(parts)}{' />' if closing else '>'}"


def _rewrite_links(source: str, link: Callable[[str], str] | None) -> str:
    rewriter = _LinkRewriter(source, link)
    rewriter.feed(source)
    rewriter.close()
    pieces: list[str] = []
    done = 0
    for start, end, replacement in rewriter.edits:
        pieces += [source[done:start], replacement]
        done = end
    pieces.append(source[done:])
    return "".join(pieces)


def drop_unsafe_links(source: str) -> str:
    """``source`` with the ``href`` of every ``<a>``/``<area>`` with an unsafe scheme removed."""
    return _rewrite_links(source, None)


def add_tracking(source: str, plan: TrackingPlan) -> str:
    """``source`` with http(s) links of ``<a>``/``<area>`` redirected, unsafe ones dropped, and the
    open pixel added."""
    tracked = _rewrite_links(source, plan.link)
    pixel = f'<img src="{html.escape(plan.pixel_url, quote=True)}" width="1" height="1" alt="" style="display:none">'
    body_end = tracked.lower().rfind("</body>")
    if body_end < 0:
        return tracked + pixel
    return tracked[:body_end] + pixel + tracked[body_end:]


# --- text part ----------------------------------------------------------------------------

_SKIPPED = frozenset({"script", "style", "title", "template"})
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl", "hr"})
_LINES = frozenset(
    {"div", "li", "tr", "section", "article", "header", "footer", "nav", "aside", "main", "dt", "dd"}
    | {"figure", "figcaption", "address", "form", "fieldset", "caption", "center"}
)
_CELLS = frozenset({"td", "th"})


class _TextExtractor(HTMLParser):
    """Readable plain text: blocks become lines, links ``text (url)``, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._pending = 0  # newlines owed before the next text
        self._at_line_start = True
        self._skip = 0
        self._pre = 0
        self._link: tuple[str, int] | None = None  # href and where its text starts in _out

    def text(self) -> str:
        # A no-break space (&nbsp;) is layout in HTML; in text it is just a space.
        lines = "".join(self._out).replace("\xa0", " ").split("\n")
        return "\n".join(line.rstrip(" ") for line in lines).strip("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skip = 0
        elif tag in _SKIPPED:
            self._skip += 1
        elif tag == "br":
            self._break()
        elif tag == "a":
            self._close_link()
            self._link = (_first(_attributes(self.get_starttag_text() or ""), "href") or "", len(self._out))
        else:
            self._open_block(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":  # a self-closed <a/> has no text: nothing to show
            return
        self.handle_starttag(tag, attrs)
        if tag not in _SKIPPED:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag == "a":
            self._close_link()
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
            self._newlines(2)
        elif tag in _PARAGRAPHS:
            self._newlines(2)
        elif tag in _LINES:
            self._newlines(1)
        elif tag in _CELLS:
            self._emit(" ")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self._emit(data if self._pre else _HTML_SPACE.sub(" ", data))

    def close(self) -> None:
        super().close()
        self._close_link()

    def _open_block(self, tag: str) -> None:
        if tag == "pre":
            self._pre += 1
        if tag in _PARAGRAPHS:
            self._newlines(2)
        elif tag in _LINES:
            self._newlines(1)
        if tag == "li":
            self._emit("- ")

    def _close_link(self) -> None:
        if self._link is None:
            return
        href, start = self._link
        self._link = None
        label = _HTML_SPACE.sub(" ", "".join(self._out[start:])).strip()
        target = href.strip()
        if not target or target.startswith("#") or is_unsafe_link(target):
            return
        bare = target.split(":", 1)[1] if target.lower().startswith(("mailto:", "tel:")) else target
        if label in (target, bare):
            return
        self._emit(f" ({target})" if label else target)

    def _newlines(self, count: int) -> None:
        if self._out:
            self._pending = max(self._pending, count)
            self._at_line_start = True

    def _break(self) -> None:
        self._flush_newlines()
        self._out.append("\n")
        self._at_line_start = True

    def _flush_newlines(self) -> None:
        if self._pending:
            self._out.append("\n" * self._pending)
            self._pending = 0

    def _emit(self, text: str) -> None:
        if self._at_line_start and not self._pre:
            text = text.lstrip(" ")
        if not text:
            return
        self._flush_newlines()
        self._out.append(text)
        self._at_line_start = text.endswith("\n")


def html_to_text(source: str) -> str:
    """A readable plain-text rendering of an HTML body, for the text/plain alternative."""
    extractor = _TextExtractor()
    extractor.feed(source)
    extractor.close()
    return extractor.text()
