"""Unit tests for workers.email_message: the outgoing email, its text part and tracking."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from aiosmtplib.email import flatten_message

from workers.email_message import (
    TrackingPlan,
    add_tracking,
    build_email,
    drop_unsafe_links,
    html_to_text,
    make_message_id,
)

DATE = datetime(2026, 11, 25, 14, 59, 59, tzinfo=UTC)
MESSAGE_ID = "<4f1c2a9e0b7d4c3e8a6f5b2d1c0e9f8a@mail.example.jp>"
PIXEL = "https://t.example.jp/o/tok.gif"
JA_SUBJECT = "【ご予約確認】山田太郎様、ご予約ありがとうございます"
JA_HTML = (
    "<html><body><p>山田太郎様</p><p>ご予約ありがとうございます。<br>"
    "日時：１１月２５日（水）１５時</p>"
    '<p><a href="https://example.jp/予約?id=1">予約内容の確認</a></p></body></html>'
)
JA_TEXT = "山田太郎様\n\nご予約ありがとうございます。\n日時：１１月２５日（水）１５時\n\n予約内容の確認 (https://example.jp/予約?id=1)"


def redirect(url: str) -> str:
    """A stand-in click redirect that keeps the original visible for assertions."""
    return "https://t.example.jp/c?u=" + url


PLAN = TrackingPlan(pixel_url=PIXEL, link=redirect)


def build(
    html: str, *, tracking: TrackingPlan | None = None, charset: str = "utf-8", subject: str = "Hi"
) -> EmailMessage:
    """build_email with fixed addresses, Message-ID and date."""
    return build_email(
        from_addr="Sales <sales@example.jp>",
        to_addr="taro@example.com",
        subject=subject,
        html=html,
        message_id=MESSAGE_ID,
        tracking=tracking,
        charset=charset,
        date=DATE,
    )


def reparse(msg: EmailMessage) -> EmailMessage:
    """The message as a receiving client sees it: serialised to bytes and parsed back."""
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(msg: EmailMessage, subtype: str) -> str:
    """The decoded text of the text/``subtype`` part, with CRLF normalised to LF."""
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def test_structure_and_headers() -> None:
    """multipart/alternative with text then HTML; Message-ID exactly as given; Date set."""
    msg = reparse(build("<p>Hello</p>"))
    assert msg.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["Message-ID"] == MESSAGE_ID
    assert msg["MIME-Version"] == "1.0"
    assert msg["Subject"] == "Hi"
    assert msg["From"] == "Sales <sales@example.jp>"
    assert msg["To"] == "taro@example.com"
    assert msg["Date"].datetime == DATE
    assert msg.get_all("MIME-Version") == ["1.0"]


def test_wire_format_is_smtp_safe() -> None:
    """Serialised with CRLF line ends and no line longer than 998 octets."""
    raw = build("<p>" + "word " * 400 + "</p>").as_bytes()
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_date_defaults_to_now() -> None:
    """Without an explicit date the Date header is the current time."""
    before = datetime.now(UTC).replace(microsecond=0)
    msg = build_email(
        from_addr="a@example.jp",
        to_addr="b@example.jp",
        subject="s",
        html="<p>x</p>",
        message_id=MESSAGE_ID,
        tracking=None,
    )
    assert before <= reparse(msg)["Date"].datetime <= datetime.now(UTC)


def test_subject_with_line_break_is_refused() -> None:
    """A subject containing CR or LF cannot reach the headers."""
    with pytest.raises(ValueError):
        build("<p>x</p>", subject="Hi\r\nBcc: victim@example.com")


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello</p>", "Hello"),
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("Line one<br>Line two<br/>Line three", "Line one\nLine two\nLine three"),
        ("<p>a<br><br>b</p>", "a\n\nb"),
        ("<p>Tom &amp; Jerry &lt;3 &quot;x&quot; &#x41;&#66; caf&eacute;</p>", 'Tom & Jerry <3 "x" AB café'),
        ("<p>Spaces   and\n  newlines\tcollapse</p>", "Spaces and newlines collapse"),
        ("<p>a&nbsp;b</p>", "a b"),
        ('<a href="https://example.com/x">our site</a>', "our site (https://example.com/x)"),
        ('<a href="https://example.com/">https://example.com/</a>', "https://example.com/"),
        ('<a href="https://e.com/?a=1&amp;b=2">go</a>', "go (https://e.com/?a=1&b=2)"),
        ('<a href="https://e.com/?a=1&timestamp=2">go</a>', "go (https://e.com/?a=1&timestamp=2)"),
        ('<a href="https://e.com/"><img src="logo.png" alt="Logo"></a>', "https://e.com/"),
        ('<a href="mailto:info@example.jp">info@example.jp</a>', "info@example.jp"),
        ('<a href="mailto:info@example.jp">Mail us</a>', "Mail us (mailto:info@example.jp)"),
        ('<a href="tel:+81312345678">Call</a>', "Call (tel:+81312345678)"),
        ('<a href="#top">Back to top</a>', "Back to top"),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>", "a b\nc d"),
        ("<h1>Title</h1><div>Body</div>", "Title\n\nBody"),
        ("<pre>  keep\n    indent</pre>", "  keep\n    indent"),
        ("<head><title>T</title><style>p{color:red}</style></head><body><p>Visible</p></body>", "Visible"),
        ("<p>before</p><script>alert('x')</script><p>after</p>", "before\n\nafter"),
        ("<!-- comment --><p>text</p>", "text"),
        (JA_HTML, JA_TEXT),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    """The text part is readable: blocks as lines, links 'text (url)', entities decoded."""
    assert html_to_text(html) == text


LINKS_HTML = """<html><body>
<p><a href="https://example.com/a">A</a> <A HREF='http://example.com/b' class=x>B</A>
<a class="btn" href=https://example.com/c>C</a>
<a href="https://e.com/?x=1&amp;y=2&timestamp=3">D</a></p>
<map><area shape="rect" coords="0,0,1,1" href="https://example.com/map"></map>
<a href="mailto:info@example.jp">mail</a> <a href="tel:+81312345678">tel</a> <a href="#top">top</a>
<a href="/relative">rel</a> <a href="javascript:void(0)">js</a> <a name="anchor">no href</a>
<a title="href=https://not.a.link" href="https://example.com/d">E</a>
<script>var s = '<a href="https://example.com/in-script">';</script>
</body></html>"""


def hrefs(html: str) -> list[str]:
    """All href values in ``html`` as written (quoted, single-quoted or bare)."""
    return [
        m.group(1) or m.group(2) or m.group(3)
        for m in re.finditer(r"""href=(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", html, re.I)
    ]


def test_tracking_rewrites_every_web_link() -> None:
    """Each http(s) href of <a> and <area> becomes link(original), with the original unescaped."""
    seen: list[str] = []

    def link(url: str) -> str:
        seen.append(url)
        return f"https://t.example.jp/c/{len(seen)}?k=1&v=2"

    tracked = add_tracking(LINKS_HTML, TrackingPlan(pixel_url=PIXEL, link=link))
    assert seen == [
        "https://example.com/a",
        "http://example.com/b",
        "https://example.com/c",
        "https://e.com/?x=1&y=2&timestamp=3",
        "https://example.com/map",
        "https://example.com/d",
    ]
    for n in range(1, 7):
        assert f'href="https://t.example.jp/c/{n}?k=1&amp;v=2"' in tracked
    assert '<area shape="rect" coords="0,0,1,1" href="https://t.example.jp/c/5?k=1&amp;v=2">' in tracked
    assert '<a href="https://t.example.jp/c/2?k=1&amp;v=2" class="x">B</A>' in tracked  # order kept
    assert '<a class="btn" href="https://t.example.jp/c/3?k=1&amp;v=2">C</a>' in tracked
    assert '<a title="href=https://not.a.link" href="https://t.example.jp/c/6?k=1&amp;v=2">' in tracked


def test_tracking_leaves_other_links_and_bytes_alone() -> None:
    """mailto:, tel:, #anchors, relative links, script text and all other bytes are untouched."""
    tracked = add_tracking(LINKS_HTML, PLAN)
    for kept in ('href="mailto:info@example.jp"', 'href="tel:+81312345678"', 'href="#top"', 'href="/relative"'):
        assert kept in tracked
    assert '<a href="https://example.com/in-script">\';</script>' in tracked
    assert '<a name="anchor">no href</a>' in tracked
    untracked = re.sub(r"<(a|area)\b[^>]*>", "", LINKS_HTML, flags=re.I)
    assert re.sub(r"<(a|area)\b[^>]*>", "", tracked.replace(add_pixel_tag(), ""), flags=re.I) == untracked


def add_pixel_tag() -> str:
    """The pixel exactly as the module appends it for PLAN."""
    return f'<img src="{PIXEL}" width="1" height="1" alt="" style="display:none">'


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<html><body><p>x</p></body></html>", "<html><body><p>x</p>{pixel}</body></html>"),
        ("<HTML><BODY><p>x</p></BODY></HTML>", "<HTML><BODY><p>x</p>{pixel}</BODY></HTML>"),
        ("<p>x</p>", "<p>x</p>{pixel}"),
        ("", "{pixel}"),
    ],
)
def test_pixel_before_body_end_or_at_end(html: str, expected: str) -> None:
    """The 1×1 hidden pixel goes just before </body>, or at the end when there is none."""
    assert add_tracking(html, PLAN) == expected.format(pixel=add_pixel_tag())


def test_pixel_url_is_attribute_escaped() -> None:
    """A pixel URL with '&' or quotes is escaped inside the src attribute."""
    tracked = add_tracking("<p>x</p>", TrackingPlan(pixel_url='https://t/p?a=1&b="2"', link=redirect))
    assert 'src="https://t/p?a=1&amp;b=&quot;2&quot;"' in tracked


def test_tracked_email_text_part_uses_original_html() -> None:
    """With tracking, the HTML part is rewritten and pixelled; the text part keeps real URLs."""
    html = '<html><body><p>See <a href="https://example.com/offer">the offer</a></p></body></html>'
    msg = reparse(build(html, tracking=PLAN))
    html_part, text_part = body(msg, "html"), body(msg, "plain")
    assert 'href="https://t.example.jp/c?u=https://example.com/offer"' in html_part
    assert add_pixel_tag() + "</body>" in html_part
    assert text_part.strip() == "See the offer (https://example.com/offer)"
    assert PIXEL not in text_part
    assert "t.example.jp" not in text_part


def test_untracked_email_keeps_html_as_written() -> None:
    """Without tracking the HTML part is exactly the input."""
    html = '<p>See <a href="https://example.com/offer">the offer</a></p>'
    assert body(reparse(build(html)), "html").rstrip("\n") == html


def test_make_message_id() -> None:
    """Message-IDs are <random@domain>, fresh every time."""
    ids = {make_message_id("mail.example.jp") for _ in range(100)}
    assert len(ids) == 100
    for mid in ids:
        assert re.fullmatch(r"<[0-9a-f]{32}@mail\.example\.jp>", mid)


def test_make_message_id_idn_domain() -> None:
    """An internationalised domain is written as punycode so the header stays ASCII."""
    assert re.fullmatch(r"<[0-9a-f]{32}@xn--r8jz45g\.jp>", make_message_id("例え.jp"))


@pytest.mark.parametrize("domain", ["", "exa mple.jp", "a@b", "<x>", "bad\r\ndomain", ".example.jp", "例 え.jp"])
def test_make_message_id_rejects_bad_domain(domain: str) -> None:
    """A domain that would break the header is refused."""
    with pytest.raises(ValueError):
        make_message_id(domain)


def test_message_id_header_round_trips() -> None:
    """A generated Message-ID is carried exactly as given."""
    mid = make_message_id("example.jp")
    msg = build_email(
        from_addr="a@example.jp",
        to_addr="b@example.jp",
        subject="s",
        html="x",
        message_id=mid,
        tracking=None,
        date=DATE,
    )
    assert reparse(msg)["Message-ID"] == mid


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
@pytest.mark.parametrize(
    "subject",
    [
        JA_SUBJECT,
        "ご予約ありがとうございます",
        "Re: 見積書の件（株式会社アクメ）について、ご確認のほどよろしくお願い申し上げます。" * 2,
        "Mixed English と日本語 subject",
    ],
)
def test_japanese_round_trip(charset: str, subject: str) -> None:
    """Japanese subject, text and HTML decode back unchanged in UTF-8 and ISO-2022-JP."""
    msg = reparse(build(JA_HTML, charset=charset, subject=subject))
    assert msg["Subject"] == subject
    assert body(msg, "plain") == JA_TEXT + "\n"
    assert body(msg, "html") == JA_HTML + "\n"


def test_iso_2022_jp_wire_format() -> None:
    """ISO-2022-JP: the subject is an ISO-2022-JP encoded word and the parts are 7bit."""
    raw = build(JA_HTML, charset="iso-2022-jp", subject=JA_SUBJECT).as_bytes()
    assert raw.isascii()
    headers = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert re.search(r"^Subject: =\?iso-2022-jp\?b\?", headers, re.M | re.I)
    parts = reparse(build(JA_HTML, charset="iso-2022-jp", subject=JA_SUBJECT)).iter_parts()
    for part in parts:
        assert part.get_content_charset() == "iso-2022-jp"
        assert part["Content-Transfer-Encoding"] == "7bit"


def test_iso_2022_jp_long_line_still_decodes() -> None:
    """A part whose ISO-2022-JP lines pass 998 octets is base64 and still round-trips."""
    html = "<p>" + "日本語のテキスト" * 200 + "</p>"
    msg = build(html, charset="iso-2022-jp", subject=JA_SUBJECT)
    raw = msg.as_bytes()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = reparse(msg)
    assert body(parsed, "html") == html + "\n"
    html_part = parsed.get_body(preferencelist=("html",))
    assert html_part is not None and html_part.get_content_charset() == "iso-2022-jp"


@pytest.mark.parametrize(
    ("subject", "html"),
    [
        ("ご予約ありがとうございます 😀", JA_HTML),
        ("ｶﾀｶﾅの件名", "<p>①②③ と ｶﾀｶﾅ 😀</p>"),
    ],
)
def test_iso_2022_jp_falls_back_to_utf8_when_it_cannot_encode(subject: str, html: str) -> None:
    """Emoji, half-width katakana or circled digits switch that header or part to UTF-8, still decodable."""
    msg = reparse(build(html, charset="iso-2022-jp", subject=subject))
    assert msg["Subject"] == subject
    assert body(msg, "html") == html + "\n"
    assert body(msg, "plain") == html_to_text(html) + "\n"


UNSAFE_HTML = (
    '<p><a href="javascript:alert(1)">a</a> <a href="JavaScript:alert(2)" class="k">b</a>'
    ' <a href=" java\tscript:alert(3)">c</a> <a href="data:text/html;base64,PHNjcmlwdD4=">d</a>'
    " <a href='vbscript:msgbox(1)'>e</a> <area href=\"file:///etc/passwd\">"
    ' <a href="https://example.com/ok">ok</a> <a href="mailto:info@example.jp">m</a></p>'
)


@pytest.mark.parametrize("tracking", [True, False])
def test_unsafe_links_are_neither_tracked_nor_kept(tracking: bool) -> None:
    """javascript:, data:, vbscript:, file: hrefs are dropped (tracked or not); web links stay; text omits them."""
    seen: list[str] = []

    def link(url: str) -> str:
        seen.append(url)
        return "https://t.example.jp/c/1"

    plan = TrackingPlan(pixel_url=PIXEL, link=link) if tracking else None
    msg = build_email(
        from_addr="a@example.jp",
        to_addr="b@example.jp",
        subject="s",
        html=UNSAFE_HTML,
        message_id="<x@y>",
        tracking=plan,
    )
    html = str(msg.get_body(preferencelist=("html",)).get_content())  # type: ignore[union-attr]
    text = str(msg.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    for scheme in ("javascript", "JavaScript", "script:alert(3)", "data:", "vbscript", "file:"):
        assert scheme not in html
        assert scheme not in text
    assert '<a class="k">b</a>' in html
    assert "<area>" in html
    assert seen == (["https://example.com/ok"] if tracking else [])
    assert ('href="https://t.example.jp/c/1"' if tracking else 'href="https://example.com/ok"') in html
    assert 'href="mailto:info@example.jp"' in html


def _stdlib_build(from_addr: str, to_addr: str, subject: str, html: str) -> EmailMessage:
    """The message as the email package's generic API writes it (set_content, make_alternative)."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = from_addr, to_addr, subject
    msg["Date"], msg["Message-ID"], msg["MIME-Version"] = DATE, MESSAGE_ID, "1.0"
    msg.make_alternative()
    for content, subtype in ((html_to_text(html), "plain"), (drop_unsafe_links(html), "html")):
        part = EmailMessage(policy=email.policy.SMTP)
        part.set_content(content, subtype=subtype, charset="utf-8")
        del part["MIME-Version"]
        msg.attach(part)
    return msg


@pytest.mark.parametrize(
    ("from_addr", "to_addr", "subject", "html"),
    [
        ("sales@example.jp", "taro@example.com", "【ご予約確認】山田様", JA_HTML),
        ("Sales <sales@example.jp>", "taro@example.com", "Hi", "<p>Hello</p>"),
        ("営業 <sales@example.jp>", "taro@example.com", "Hi there", "<p>" + "word " * 400 + "</p>"),
        ("sales@example.jp", "taro@example.com", "x", "<p>" + "山田 " * 400 + "</p>"),
        ("sales@example.jp", "taro@example.com", "x", "<p>" + "café " * 30 + "</p>\n" * 20),
    ],
)
@pytest.mark.parametrize("cte_type", ["8bit", "7bit"])
def test_wire_bytes_are_what_the_email_package_writes(
    from_addr: str, to_addr: str, subject: str, html: str, cte_type: str
) -> None:
    """build_email's shortcuts (plain headers as they are, parts without set_content) change no byte."""
    ours = build_email(
        from_addr=from_addr,
        to_addr=to_addr,
        subject=subject,
        html=html,
        message_id=MESSAGE_ID,
        tracking=None,
        date=DATE,
    )
    reference = _stdlib_build(from_addr, to_addr, subject, html)
    boundary = re.compile(rb"={15}[0-9a-f]+==")
    assert boundary.sub(b"B", flatten_message(ours, cte_type=cte_type)) == boundary.sub(
        b"B", flatten_message(reference, cte_type=cte_type)
    )
