"""Text out of real-world mail bytes: charsets, header words, HTML, quoted replies. Pure, stdlib only.

Mail in the wild declares the wrong charset, no charset, or one Python does not know; Japanese mail
adds ISO-2022-JP with Microsoft's extensions (①, ㈱) and raw Shift_JIS or UTF-8 in headers. Every
function here decodes what it can and replaces what it cannot; none raises on bad input.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from html.parser import HTMLParser

# Declared names that Python does not know or that real mailers use for a superset.
_CHARSET_ALIASES = {
    "shift_jis": "cp932",  # Windows mailers label CP932 (with NEC/IBM extensions) as Shift_JIS
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ms932": "cp932",
    "euc-jp": "euc_jis_2004",
    "x-euc-jp": "euc_jis_2004",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "us-ascii": "ascii",
    "unknown-8bit": "",
    "x-unknown": "",
    "x-user-defined": "",
}
# Tried in order when the declared charset is missing or fails: UTF-8 is strict enough to be a
# reliable test; CP932 then EUC-JP catch undeclared Japanese; then UTF-8 with replacement characters.
_FALLBACKS = ("utf-8", "cp932", "euc_jis_2004")
_ESC = 0x1B
# Designations seen in Japanese mail. JIS X 0213 plane 1 (``$(Q``, ``$(O``) shares its rows with
# JIS X 0208 and keeps NEC's row 13 (①, ㈱) where CP932 has it, so it decodes the same way.
_ISO2022JP_ESCAPES = (
    (b"$(Q", "jis"),
    (b"$(O", "jis"),
    (b"$B", "jis"),
    (b"$@", "jis"),
    (b"(B", "ascii"),
    (b"(J", "ascii"),
    (b"(I", "kana"),
)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):  # ValueError: a NUL inside the name
        return None


def _jis_to_sjis(c1: int, c2: int) -> bytes:
    """One JIS X 0208 row/cell pair as Shift_JIS bytes (CP932 then decodes NEC rows too)."""
    s1 = (c1 + 1) // 2 + (0x70 if c1 <= 0x5E else 0xB0)
    s2 = c2 + (0x1F if c1 % 2 else 0x7E)
    if c1 % 2 and s2 >= 0x7F:
        s2 += 1
    return bytes((s1, s2))


def decode_iso2022jp_ms(data: bytes) -> str:
    """ISO-2022-JP as Outlook and Japanese phones write it (CP50220-like): JIS X 0208 pairs are
    mapped through CP932, so NEC special characters (①, ㈱, Roman numerals) survive."""
    out = bytearray()
    mode = "ascii"
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == _ESC:
            for seq, new_mode in _ISO2022JP_ESCAPES:
                if data.startswith(seq, i + 1):
                    mode = new_mode
                    i += 1 + len(seq)
                    break
            else:
                i += 1  # an escape we do not know: drop it, keep the mode
            continue
        if b in (0x0A, 0x0D):
            if b == 0x0A:  # lines should end in ASCII; broken mailers forget the escape
                mode = "ascii"
            out.append(b)
            i += 1
        elif mode == "jis" and i + 1 < n and 0x21 <= b <= 0x7E and 0x21 <= data[i + 1] <= 0x7E:
            out += _jis_to_sjis(b, data[i + 1])
            i += 2
        elif mode == "kana" and 0x21 <= b <= 0x5F:
            out.append(b + 0x80)
            i += 1
        else:
            out.append(b)
            i += 1
    return out.decode("cp932", errors="replace")


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Bytes to text: the declared charset if it decodes cleanly, else well-known fallbacks."""
    codec = _codec(declared)
    if codec in ("iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_3", "iso2022_jp_ext"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            return decode_iso2022jp_ms(data)
    if codec is not None and (text := _strict(data, codec)) is not None:
        return text
    if b"\x1b$B" in data or b"\x1b$@" in data:
        return decode_iso2022jp_ms(data)
    for name in _FALLBACKS:
        # Only UTF-8 is strict enough to forgive a cut: guessing CP932 that way makes mojibake.
        if (text := _strict(data, name, forgive_cut=name == "utf-8")) is not None:
            return text
    return data.decode(codec or "utf-8", errors="replace")


def _strict(data: bytes, codec: str, forgive_cut: bool = True) -> str | None:
    """Strict decoding that may forgive a character cut in half at the very end (capped input)."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        cut = exc.end == len(data) and ("end of data" in exc.reason or "incomplete" in exc.reason)
        if not forgive_cut or not cut or exc.start < len(data) - 3:
            return None
        try:
            return data[: exc.start].decode(codec)
        except UnicodeDecodeError:
            return None


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding in "bB":
            return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
        return quopri.decodestring(payload.replace("_", " ").encode("ascii"), header=False)
    except (binascii.Error, ValueError):
        return None


def decode_words(text: str) -> str:
    """RFC 2047 encoded words, each with its own charset; a word that does not decode stays as it
    is. Adjacent words of one charset are joined as bytes first, because mailers split multibyte
    characters across words."""
    out: list[str] = []
    pending: bytearray = bytearray()
    pending_charset: str | None = None
    pos = 0
    after_word = False

    def flush() -> None:
        nonlocal pending_charset
        if pending:
            out.append(decode_bytes(bytes(pending), pending_charset))
            pending.clear()
        pending_charset = None

    for m in _ENCODED_WORD.finditer(text):
        between = text[pos : m.start()]
        decoded = _word_bytes(m.group(2), m.group(3))
        charset = m.group(1).split("*")[0]  # RFC 2231 language suffix
        if decoded is None:
            flush()
            out.append(between + m.group(0))
            after_word = False
            pos = m.end()
            continue
        if between.strip() or not after_word:
            flush()
            out.append(between)
        elif charset.lower() != (pending_charset or "").lower():
            flush()  # whitespace between two encoded words is not text (RFC 2047 section 6.2)
        pending += decoded
        pending_charset = charset
        after_word = True
        pos = m.end()
    flush()
    out.append(text[pos:])
    return "".join(out)


def header_text(raw: str) -> str:
    """A raw header value (as the bytes parser keeps it) as text.

    Raw 8-bit bytes (kept as surrogate escapes by ``email``) are decoded with the fallbacks,
    then RFC 2047 encoded words; control characters are dropped.
    """
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        raw = decode_bytes(raw.encode("utf-8", "surrogateescape"))
    raw = re.sub(r"\r?\n[ \t]+", " ", raw)
    if "=?" in raw:
        raw = decode_words(raw)
    return _CONTROL.sub("", raw).strip()


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title"})
    _BLOCK = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "table"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, block elements as line breaks; tolerant of broken markup."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # pathological markup: fall back to dropping tags
        return re.sub(r"<[^>]*>", " ", html)
    return "".join(parser.parts)


# A line that introduces the quoted original in a reply, in the forms common mailers write.
_QUOTE_HEADER = re.compile(
    r"^(?:On\s.{0,300}\swrote:"
    r"|-{2,}\s*(?:Original Message|元のメッセージ)\s*-{2,}"
    r"|_{10,}"
    r"|.{0,300}<[^<>\s]+@[^<>\s]+>\s*(?:wrote)?\s*[:：]"
    r"|.{0,200}(?:が書きました|のメッセージ)\s*[:：])\s*$",
    re.IGNORECASE,
)


def strip_quoted(text: str) -> str:
    """The new part of a reply: drops ``>`` lines and everything after a quote header."""
    kept: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if _QUOTE_HEADER.match(stripped):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line)
    new = "\n".join(kept).strip()
    return new or text


def snippet(text: str, limit: int) -> str:
    """Whitespace collapsed and cut to ``limit`` characters (an ellipsis marks the cut)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
