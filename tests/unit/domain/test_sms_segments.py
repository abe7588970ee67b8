"""Unit tests for gateway.domain.sms_segments: GSM-7 / UCS-2 detection and SMS segment counting."""

from __future__ import annotations

import pytest

from gateway.domain.sms_segments import SegmentInfo, count_segments, encoding

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"
JAPANESE = "ご予約ありがとうございます"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", SegmentInfo("GSM-7", 0, 1, 160), id="empty-costs-one"),
        pytest.param("Hello", SegmentInfo("GSM-7", 5, 1, 160), id="short"),
        pytest.param("a" * 160, SegmentInfo("GSM-7", 160, 1, 160), id="gsm-160"),
        pytest.param("a" * 161, SegmentInfo("GSM-7", 161, 2, 153), id="gsm-161"),
        pytest.param("a" * 306, SegmentInfo("GSM-7", 306, 2, 153), id="gsm-306"),
        pytest.param("a" * 307, SegmentInfo("GSM-7", 307, 3, 153), id="gsm-307"),
        pytest.param("a" * 459, SegmentInfo("GSM-7", 459, 3, 153), id="gsm-459"),
        pytest.param("a" * 460, SegmentInfo("GSM-7", 460, 4, 153), id="gsm-460"),
        pytest.param("€", SegmentInfo("GSM-7", 2, 1, 160), id="euro-two-septets"),
        pytest.param("[", SegmentInfo("GSM-7", 2, 1, 160), id="bracket-two-septets"),
        pytest.param("Price: 5€", SegmentInfo("GSM-7", 10, 1, 160), id="euro-in-text"),
        pytest.param("a" * 158 + "€", SegmentInfo("GSM-7", 160, 1, 160), id="escape-fills-160"),
        pytest.param("a" * 159 + "€", SegmentInfo("GSM-7", 161, 2, 153), id="escape-tips-over-160"),
        pytest.param("[]" * 80, SegmentInfo("GSM-7", 320, 3, 153), id="all-escapes"),
        pytest.param("a" * 152 + "€" + "a" * 151, SegmentInfo("GSM-7", 305, 2, 153), id="escape-at-153-fits-2"),
        pytest.param("a" * 152 + "€" + "a" * 152, SegmentInfo("GSM-7", 306, 3, 153), id="escape-at-153-moves"),
        pytest.param("a" * 151 + "€" + "a" * 153, SegmentInfo("GSM-7", 306, 2, 153), id="escape-at-152-fits"),
        pytest.param("Ça va? Øresund, Straße", SegmentInfo("GSM-7", 22, 1, 160), id="gsm-accents"),
        pytest.param("あ" * 70, SegmentInfo("UCS-2", 70, 1, 70), id="ucs2-70"),
        pytest.param("あ" * 71, SegmentInfo("UCS-2", 71, 2, 67), id="ucs2-71"),
        pytest.param("あ" * 134, SegmentInfo("UCS-2", 134, 2, 67), id="ucs2-134"),
        pytest.param("あ" * 135, SegmentInfo("UCS-2", 135, 3, 67), id="ucs2-135"),
        pytest.param("😀", SegmentInfo("UCS-2", 2, 1, 70), id="emoji-two-units"),
        pytest.param("😀" * 35, SegmentInfo("UCS-2", 70, 1, 70), id="emoji-fills-70"),
        pytest.param("😀" * 36, SegmentInfo("UCS-2", 72, 2, 67), id="emoji-72"),
        pytest.param("a" * 69 + "😀", SegmentInfo("UCS-2", 71, 2, 67), id="emoji-tips-over-70"),
        pytest.param("あ" * 66 + "😀" + "あ" * 66, SegmentInfo("UCS-2", 134, 3, 67), id="surrogate-at-67-moves"),
        pytest.param("あ" * 65 + "😀" + "あ" * 67, SegmentInfo("UCS-2", 134, 2, 67), id="surrogate-at-66-fits"),
        pytest.param(JAPANESE, SegmentInfo("UCS-2", 13, 1, 70), id="japanese"),
        pytest.param("Hello 世界", SegmentInfo("UCS-2", 8, 1, 70), id="mixed-latin-cjk"),
        pytest.param("a" * 159 + "あ", SegmentInfo("UCS-2", 160, 3, 67), id="one-cjk-makes-all-ucs2"),
        pytest.param("Code: 1234 😀", SegmentInfo("UCS-2", 13, 1, 70), id="mixed-ascii-emoji"),
        pytest.param("ça va", SegmentInfo("UCS-2", 5, 1, 70), id="lowercase-c-cedilla-not-gsm"),
    ],
)
def test_count_segments(text: str, expected: SegmentInfo) -> None:
    """Encoding, units, segments and per-part capacity match the carrier's counting."""
    assert count_segments(text) == expected


def test_whole_basic_alphabet_is_gsm7() -> None:
    """All 127 characters of the default alphabet are GSM-7, one septet each."""
    assert len(set(GSM_BASIC)) == 127
    assert count_segments(GSM_BASIC) == SegmentInfo("GSM-7", 127, 1, 160)


@pytest.mark.parametrize("char", list(GSM_EXTENSION))
def test_extension_characters_count_double(char: str) -> None:
    """Each basic-extension character is GSM-7 and costs two septets (escape + character)."""
    assert encoding(char) == "GSM-7"
    assert count_segments(char * 80).units == 160
    assert count_segments(char * 80).segments == 1
    assert count_segments("a" + char * 80).segments == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain ASCII text", "GSM-7"),
        ("{curly} [square] ~tilde~ |pipe| ^caret^ \\backslash", "GSM-7"),
        ("line\nfeed\rcarriage\fform feed", "GSM-7"),
        ("tab\tis not GSM", "UCS-2"),
        ("`backtick`", "UCS-2"),
        ("“smart quotes”", "UCS-2"),
        (JAPANESE, "UCS-2"),
        ("ｶﾀｶﾅ", "UCS-2"),
        ("😀", "UCS-2"),
        ("", "GSM-7"),
    ],
)
def test_encoding(text: str, expected: str) -> None:
    """Only text entirely in the GSM-7 alphabet (basic + extension) is GSM-7."""
    assert encoding(text) == expected


@pytest.mark.parametrize("length", range(140, 320))
def test_plain_gsm_counts_agree_with_division(length: int) -> None:
    """Without escape characters, filled parts equal the textbook 160 / ceil(n / 153) rule."""
    expected = 1 if length <= 160 else -(-length // 153)
    assert count_segments("x" * length).segments == expected


@pytest.mark.parametrize("length", range(60, 150))
def test_bmp_ucs2_counts_agree_with_division(length: int) -> None:
    """Without surrogate pairs, filled parts equal the textbook 70 / ceil(n / 67) rule."""
    expected = 1 if length <= 70 else -(-length // 67)
    assert count_segments("予" * length).segments == expected
