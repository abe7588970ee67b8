"""Unit tests for gateway.ingest.imap.parse and gateway.ingest.imap.text on a corpus of real-world shaped mail."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.ingest.imap.parse import (
    MAX_PARSE_BYTES,
    SNIPPET_CHARS,
    ParsedMail,
    ParseFailure,
    RecipientStatus,
    message_ids,
    parse_mail,
    summary,
)
from gateway.ingest.imap.text import decode_bytes, decode_iso2022jp_ms, header_text, html_to_text, snippet, strip_quoted

CORPUS = Path(__file__).parents[3] / "data" / "mail_corpus"


def _parse(name: str) -> ParsedMail:
    result = parse_mail((CORPUS / name).read_bytes())
    assert isinstance(result, ParsedMail), result
    return result


# (file, sender, subject, snippet (prefix), message id, auto_reply)
CASES: list[tuple[str, str | None, str, str, str | None, str | None]] = [
    (
        "plain_utf8_ja.eml",
        "yamada@client.example.jp",
        "お見積もりのご依頼について",
        "佐藤様 いつもお世話になっております。",
        "CAF1234567890abcdef@mail.client.example.jp",
        None,
    ),
    (
        "alternative.eml",
        "jane@acme.example.com",
        "Re: pricing",
        "Hi, the plain part wins — thanks!",
        "alt-1@acme.example.com",
        None,
    ),
    (
        "html_only.eml",
        "news@shop.example.com",
        "Café invitation",
        "Hello there & welcome Second!",
        "html-only@shop.example.com",
        None,
    ),
    (
        "attachment.eml",
        "suzuki@partner.example.com",
        "資料送付",
        "資料を添付いたします。ご確認ください。",
        "att-1@partner.example.com",
        None,
    ),
    (
        "iso2022jp_nec.eml",
        "tanaka@client.example.jp",
        "【ご確認】①見積書",
        "株式会社テスト ①お見積もり ②ご請求書 ㈱ﾃｽﾄ よろしくお願いいたします。",
        "jis-1@client.example.jp",
        None,
    ),
    (
        "split_encoded_words.eml",
        "order@shop.example.jp",
        "ご注文ありがとうございます",
        "ok",
        "split-1@shop.example.jp",
        None,
    ),
    (
        "shift_jis.eml",
        "takahashi@client.example.jp",
        "①納期の件",
        "納期は①１月末 ②２月中旬 のどちらでしょうか。～",
        "sjis-1@client.example.jp",
        None,
    ),
    (
        "raw_8bit_headers_utf8.eml",
        "ito@client.example.jp",
        "打ち合わせの日程",
        "来週の火曜日はいかがでしょうか。",
        "raw8-1@client.example.jp",
        None,
    ),
    (
        "raw_8bit_headers_sjis.eml",
        "watanabe@client.example.jp",
        "請求書の送付",
        "請求書を送付します",
        "raw8-2@client.example.jp",
        None,
    ),
    ("unknown_charset.eml", "kato@client.example.jp", "test", "本文はUTF-8です", "bogus-1@client.example.jp", None),
    (
        "mislabeled_ascii.eml",
        "kobayashi@client.example.jp",
        "mislabeled",
        "実はUTF-8の本文",
        "mis-1@client.example.jp",
        None,
    ),
    ("no_date_no_id.eml", "minimal@client.example.jp", "no date", "A message without Date or Message-ID.", None, None),
    (
        "reply_quoted.eml",
        "jane@acme.example.com",
        "Re: Our proposal",
        "Sounds good, let's talk on Friday.",
        "reply-1@acme.example.com",
        None,
    ),
    (
        "reply_ja_gmail.eml",
        "yamada@client.example.jp",
        "Re: ご提案の件",
        "承知しました。金曜日で大丈夫です。",
        "reply-2@client.example.jp",
        None,
    ),
    (
        "ooo_auto_submitted.eml",
        "jane@acme.example.com",
        "Automatic reply: Our proposal",
        "I am out of the office until Monday.",
        "ooo-1@acme.example.com",
        "auto-submitted",
    ),
    (
        "ooo_ja_subject.eml",
        "yamada@client.example.jp",
        "【自動返信】不在のお知らせ",
        "1月20日まで不在にしております。",
        "ooo-2@client.example.jp",
        "subject",
    ),
    (
        "x_autoreply.eml",
        "vacation@client.example.jp",
        "Re: hello",
        "I'm away.",
        "xauto-1@client.example.jp",
        "x-autoreply",
    ),
    (
        "precedence_bulk.eml",
        "updates@client.example.jp",
        "Weekly digest",
        "Digest.",
        "bulk-1@client.example.jp",
        "precedence",
    ),
    (
        "broken_multipart.eml",
        "broken@client.example.jp",
        "broken multipart",
        "The text before the cut",
        "broken-1@client.example.jp",
        None,
    ),
    (
        "multipart_no_boundary.eml",
        "noboundary@client.example.jp",
        "no boundary",
        "Just some text without any boundary.",
        "nob-1@client.example.jp",
        None,
    ),
    ("broken_base64.eml", "b64@client.example.jp", "broken base64", "日本語", "b64-1@client.example.jp", None),
    (
        "bad_encoded_words.eml",
        "weird@client.example.jp",
        "oké =?utf-8?B?not-base64?=",
        "text",
        "bew-1@client.example.jp",
        None,
    ),
    ("missing_from.eml", None, "who sent this", "no sender", "nofrom-1@client.example.jp", None),
    (
        "forwarded_attachment.eml",
        "jane@acme.example.com",
        "Fwd: invoice",
        "See the forwarded mail below.",
        "fwd-1@acme.example.com",
        None,
    ),
    ("bad_date.eml", "date@client.example.jp", "bad date", "text", "date-1@client.example.jp", None),
]


@pytest.mark.parametrize(("name", "sender", "subject", "text", "message_id", "auto"), CASES, ids=[c[0] for c in CASES])
def test_corpus_message(
    name: str, sender: str | None, subject: str, text: str, message_id: str | None, auto: str | None
) -> None:
    """Each corpus message yields its sender, decoded subject, text snippet, Message-ID and auto-reply verdict."""
    mail = _parse(name)
    assert (mail.sender.email if mail.sender else None) == sender
    assert mail.subject == subject
    assert mail.snippet.startswith(text), mail.snippet
    assert mail.message_id == message_id
    assert mail.auto_reply == auto
    assert mail.report is None
    json.dumps(summary(mail), ensure_ascii=False)  # the event payload is plain JSON


def test_every_corpus_file_is_covered() -> None:
    """The table above and the DSN/recipient tests below cover every file in the corpus."""
    covered = {c[0] for c in CASES} | {c[0] for c in DSN_CASES} | {"many_recipients.eml", "garbage.bin"}
    assert covered == {p.name for p in CORPUS.iterdir()}


def test_display_names_and_dates() -> None:
    """Encoded display names decode; Date becomes ISO 8601 UTC; a missing or absurd Date is None."""
    mail = _parse("plain_utf8_ja.eml")
    assert mail.sender is not None and mail.sender.name == "山田 太郎"
    assert mail.date == "2024-01-10T01:00:00Z"
    assert mail.to[0].name == "佐藤 花子"
    assert _parse("iso2022jp_nec.eml").sender.name == "田中"  # type: ignore[union-attr]
    assert _parse("no_date_no_id.eml").date is None
    assert _parse("bad_date.eml").date is None


def test_recipients_are_lower_cased_deduplicated_and_valid() -> None:
    """To/Cc: addresses lower-cased, names decoded, invalid entries dropped, duplicates within a list removed."""
    mail = _parse("many_recipients.eml")
    assert mail.sender is not None and mail.sender.email == "sales@example.test"
    assert [a.email for a in mail.to] == [
        "yamada@client.example.jp",
        "jane@acme.example.com",
        "suzuki@partner.example.com",
    ]
    assert [a.name for a in mail.to] == ["Yamada, Taro", "", "鈴木 美咲"]
    assert [a.email for a in mail.cc] == ["new.lead@prospect.example.org", "jane@acme.example.com"]
    assert mail.cc[0].name == "新規 顧客"


def test_reply_ids() -> None:
    """In-Reply-To and References ids come without brackets, in order, also when brackets are missing."""
    mail = _parse("reply_quoted.eml")
    assert mail.in_reply_to == ("n_abc123@mail.example.test",)
    assert mail.references == ("root-0@mail.example.test", "n_abc123@mail.example.test")
    assert _parse("reply_ja_gmail.eml").in_reply_to == ("n_def456@mail.example.test",)


def test_references_are_capped_keeping_root_and_newest() -> None:
    """A thread of 100 references keeps the root and the 19 newest ids."""
    refs = " ".join(f"<r{i}@x.example>" for i in range(100))
    mail = parse_mail(f"From: a@b.example\r\nReferences: {refs}\r\n\r\nx".encode())
    assert isinstance(mail, ParsedMail)
    assert mail.references[0] == "r0@x.example"
    assert mail.references[1:] == tuple(f"r{i}@x.example" for i in range(81, 100))


# (file, bounce, recipient, status, action, original message id)
DSN_CASES = [
    ("dsn_hard_headers.eml", "hard", "nobody@client.example.jp", "5.1.1", "failed", "n_hard1@mail.example.test"),
    ("dsn_soft_failed_rfc822.eml", "soft", "full@client.example.jp", "4.2.2", "failed", "n_soft2@mail.example.test"),
    ("dsn_delayed.eml", "soft", "slow@client.example.jp", "4.4.1", "delayed", "n_delay3@mail.example.test"),
    ("dsn_multi_recipient.eml", "hard", "hard@client.example.jp", "5.7.1", "failed", "n_multi4@mail.example.test"),
    ("dsn_success.eml", None, None, None, None, "n_ok5@mail.example.test"),
]


@pytest.mark.parametrize(("name", "bounce", "recipient", "status", "action", "original"), DSN_CASES)
def test_delivery_status_notifications(
    name: str, bounce: str | None, recipient: str | None, status: str | None, action: str | None, original: str
) -> None:
    """RFC 3464 reports: 5.x.x hard, 4.x.x soft, 2.x.x none; the bounced Message-ID from either original part."""
    mail = _parse(name)
    assert mail.report is not None
    assert mail.auto_reply == "delivery-status"  # a DSN is never a reply
    assert mail.report.bounce == bounce
    assert mail.report.original_message_id == original
    report = summary(mail)["report"]
    assert (report["recipient"], report["status"], report["action"]) == (recipient, status, action)


def test_dsn_diagnostic_is_unfolded() -> None:
    """The diagnostic code loses its type prefix and line folding."""
    worst = _parse("dsn_hard_headers.eml").report.worst  # type: ignore[union-attr]
    assert worst is not None
    assert worst.diagnostic == (
        "550 5.1.1 <nobody@client.example.jp>: Recipient address rejected: User unknown in local recipient table"
    )


@pytest.mark.parametrize(
    ("status", "action", "severity"),
    [
        ("5.1.1", "failed", "hard"),
        ("5.0.0", "", "hard"),
        ("4.4.7", "failed", "soft"),
        ("4.2.2", "delayed", "soft"),
        ("2.0.0", "delivered", None),
        ("", "failed", "hard"),
        ("", "delayed", "soft"),
        ("", "relayed", None),
        ("", "", None),
    ],
)
def test_recipient_severity(status: str, action: str, severity: str | None) -> None:
    """Severity comes from the Status class, else from Action."""
    assert RecipientStatus("r@x.example", action, status, "").severity == severity


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \r\n", (CORPUS / "garbage.bin").read_bytes(), b"\x00" * 100, b"just one line of text"],
    ids=["empty", "blank", "garbage", "nul", "no-header"],
)
def test_garbage_is_a_parse_failure(raw: bytes) -> None:
    """Input without any header is a ParseFailure, never an exception."""
    assert isinstance(parse_mail(raw), ParseFailure)


def test_huge_body_is_capped_and_fast() -> None:
    """A 6 MiB message is parsed from its first MiB only, flagged truncated, in bounded time."""
    text = ("大きな本文です。" * 50 + "\r\n") * 20
    raw = (
        b"From: big@client.example.jp\r\nSubject: big\r\nMessage-ID: <big@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
        + text.encode()
        + b"\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b"QUFBQUFBQUFB\r\n" * (6 * 1024 * 1024 // 14)
        + b"--b--\r\n"
    )
    assert len(raw) > 6 * MAX_PARSE_BYTES
    started = time.perf_counter()
    mail = parse_mail(raw)
    elapsed = time.perf_counter() - started
    assert isinstance(mail, ParsedMail)
    assert mail.truncated is True
    assert mail.snippet.startswith("大きな本文です。")
    assert len(mail.snippet) == SNIPPET_CHARS
    assert elapsed < 2.0


@pytest.mark.parametrize("declared", ["utf-8", None])
def test_text_cut_inside_a_character_still_decodes(declared: str | None) -> None:
    """A text part longer than the scan cap is cut mid-character; it still decodes as what it is."""
    header = f"Content-Type: text/plain; charset={declared}\r\n" if declared else ""
    raw = f"From: a@b.example\r\nSubject: s\r\n{header}\r\n".encode() + ("日本語の長い本文。" * 20000).encode()
    mail = parse_mail(raw)
    assert isinstance(mail, ParsedMail)
    assert mail.snippet.startswith("日本語の長い本文。日本語の長い本文。")
    assert decode_bytes("日本語".encode()[:-1]) == "日本"


def test_size_beyond_fetched_prefix_marks_truncated() -> None:
    """When the listener fetched only a prefix, the full size marks the result truncated."""
    raw = b"From: a@b.example\r\nSubject: s\r\n\r\nbody"
    mail = parse_mail(raw, size=len(raw) + 10)
    assert isinstance(mail, ParsedMail) and mail.truncated
    mail = parse_mail(raw, size=len(raw))
    assert isinstance(mail, ParsedMail) and not mail.truncated


def test_mutated_corpus_never_raises() -> None:
    """Random byte flips, cuts and splices of every corpus message never make the parser (or JSON) raise."""
    rng = random.Random(4)
    files = [p.read_bytes() for p in sorted(CORPUS.iterdir())]
    for _ in range(600):
        raw = bytearray(rng.choice(files))
        for _ in range(rng.randint(1, 12)):
            op = rng.random()
            pos = rng.randrange(len(raw) or 1)
            if op < 0.5 and raw:
                raw[pos] = rng.randrange(256)
            elif op < 0.7:
                raw = raw[:pos]
            else:
                raw[pos:pos] = rng.choice([b"=?", b"?=", b"\r\n\r\n", b"--", b"\x1b$B", b":", b"<", b"\xff\xfe"])
        result = parse_mail(bytes(raw))
        assert isinstance(result, ParsedMail | ParseFailure)
        if isinstance(result, ParsedMail):
            orjson.dumps(summary(result))  # the event append never chokes on what was parsed


# --- text helpers ------------------------------------------------------------------------------


def _jis(text: str) -> bytes:
    """ISO-2022-JP as Outlook writes it (via CP932, so NEC characters are included)."""
    out = bytearray()
    jis = False
    for ch in text:
        b = ch.encode("cp932")
        if len(b) == 1:
            if jis:
                out += b"\x1b(B"
                jis = False
            out += b
            continue
        if not jis:
            out += b"\x1b$B"
            jis = True
        c1, c2 = b
        c1 = (c1 - 0x40 if c1 >= 0xE0 else c1) - 0x81
        c1 = c1 * 2 + 0x21
        if c2 >= 0x9F:
            c1, c2 = c1 + 1, c2 - 0x7E
        else:
            c2 = (c2 - 1 if c2 >= 0x80 else c2) - 0x1F
        out += bytes((c1, c2))
    if jis:
        out += b"\x1b(B"
    return bytes(out)


@pytest.mark.parametrize("text", ["こんにちは", "①②③ ㈱テスト Ⅳ", "漢字とカタカナとABC", "髙橋 﨑"])
def test_iso2022jp_with_nec_extensions(text: str) -> None:
    """ISO-2022-JP with NEC/IBM characters decodes through CP932."""
    assert decode_iso2022jp_ms(_jis(text)) == text
    assert decode_bytes(_jis(text), "ISO-2022-JP") == text


def test_iso2022jp_half_width_kana_and_missing_reset() -> None:
    """ESC ( I half-width kana decodes; a line that forgot to return to ASCII does not garble the next."""
    assert decode_iso2022jp_ms(b"\x1b(I5=D\x1b(B") == "ｵｽﾄ"
    assert decode_iso2022jp_ms(b'\x1b$B$"\nabc') == "あ\nabc"


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        ("日本語".encode(), "utf-8", "日本語"),
        ("日本語".encode(), None, "日本語"),
        ("日本語".encode(), "us-ascii", "日本語"),
        ("日本語".encode(), "x-no-such-charset", "日本語"),
        ("①日本".encode("cp932"), "Shift_JIS", "①日本"),
        ("①日本".encode("cp932"), None, "①日本"),
        ("日本語".encode("euc_jp"), "EUC-JP", "日本語"),
        ("Café".encode("latin-1"), "iso-8859-1", "Café"),
        ("中文".encode("gb2312"), "gb2312", "中文"),
        (b"\xff\xfe\xfa", None, "\ufffd\ufffd\ufffd"),
        (b"abc", "utf\x00-8", "abc"),
    ],
)
def test_decode_bytes(data: bytes, declared: str | None, expected: str) -> None:
    """The declared charset when it decodes, else UTF-8 / CP932 / EUC-JP, else replacement characters."""
    assert decode_bytes(data, declared) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("=?UTF-8?B?5pel5pys?=", "日本"),
        ("=?utf-8?q?caf=C3=A9_time?=", "café time"),
        ("a =?utf-8?q?x?=  =?utf-8?q?y?= b", "a xy b"),
        ("=?x-bogus?B?AAAA?= test", "test"),
        ("=?utf-8?B?!!!?= kept", "=?utf-8?B?!!!?= kept"),
        ("folded\r\n line", "folded line"),
        ("日本".encode().decode("ascii", "surrogateescape"), "日本"),
        ("件名".encode("cp932").decode("ascii", "surrogateescape"), "件名"),
    ],
)
def test_header_text(raw: str, expected: str) -> None:
    """Encoded words, raw 8-bit bytes, folding and control characters in header values."""
    assert header_text(raw) == expected


def test_html_to_text() -> None:
    """Scripts, styles and the head are dropped; entities decoded; blocks become line breaks."""
    html = "<head><title>t</title></head><script>x()</script><p>A&amp;B</p><div>C&#12354;</div>"
    assert " ".join(html_to_text(html).split()) == "A&B Cあ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new\n> old\n> older", "new"),
        ("new\n\nOn Mon, Jan 1, 2024 at 9:00 AM A <a@b.example> wrote:\n> old", "new"),
        ("new\n-----Original Message-----\nFrom: x", "new"),
        ("new\n________________________________\n差出人: x", "new"),
        ("新しい本文\n2024年1月1日(月) 9:00 山田 <y@x.example>:\n> 古い", "新しい本文"),
        ("> only quoted", "> only quoted"),
    ],
)
def test_strip_quoted(text: str, expected: str) -> None:
    """The snippet of a reply is its new text, not the quoted original (unless nothing else is there)."""
    assert strip_quoted(text).strip() == expected


def test_snippet_and_message_ids() -> None:
    """snippet collapses and cuts; message_ids accepts bracketed and bare ids."""
    assert snippet("a  b\n c", 10) == "a b c"
    assert snippet("abcdef", 4) == "abc…"
    assert message_ids("<a@b> <c@d>") == ["a@b", "c@d"]
    assert message_ids("a@b") == ["a@b"]
    assert message_ids("nothing") == []


def test_summary_shape() -> None:
    """The event summary holds exactly the fields routing reads."""
    s: dict[str, Any] = summary(_parse("dsn_hard_headers.eml"))
    assert set(s) == {
        "from", "to", "cc", "subject", "snippet", "message_id", "in_reply_to", "references", "date",
        "auto_reply", "truncated", "report",
    }  # fmt: skip
    assert s["report"]["bounce"] == "hard"
    assert s["from"] == {"email": "mailer-daemon@mx.client.example.jp", "name": "Mail Delivery System"}
