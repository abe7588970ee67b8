"""Unit tests for gateway.domain.unsubscribe: the signed token, its domain separation, the page."""

from __future__ import annotations

import re

import pytest

from gateway.domain import tracking, unsubscribe
from gateway.domain.tracking import BadToken, TrackingClaim
from gateway.domain.unsubscribe import UnsubscribeClaim

KEY = b"k" * 32
CLAIM = UnsubscribeClaim("acme", "c-yamada", "yamada@example.jp")


def test_round_trip_with_and_without_contact() -> None:
    assert unsubscribe.verify(KEY, unsubscribe.sign(KEY, CLAIM)) == CLAIM
    bare = UnsubscribeClaim("acme", None, "someone@example.jp")
    assert unsubscribe.verify(KEY, unsubscribe.sign(KEY, bare)) == bare


def test_altered_or_foreign_tokens_are_refused() -> None:
    token = unsubscribe.sign(KEY, CLAIM)
    payload, mac = token.split(".")
    other = unsubscribe.sign(KEY, UnsubscribeClaim("acme", "c-suzuki", "suzuki@example.jp")).split(".")[0]
    for bad in (
        f"{other}.{mac}",
        f"{payload}.{mac[:-1]}A" if mac[-1] != "A" else f"{payload}.{mac[:-1]}B",
        unsubscribe.sign(b"x" * 32, CLAIM),
        token + ".",
        "",
        "a" * 2000,
    ):
        with pytest.raises(BadToken):
            unsubscribe.verify(KEY, bad)


def test_tracking_tokens_are_not_unsubscribe_tokens_and_back() -> None:
    """Same key, different domains: neither kind of token passes for the other."""
    track = tracking.sign(KEY, TrackingClaim("acme", "n1", "c-yamada"))
    with pytest.raises(BadToken):
        unsubscribe.verify(KEY, track)
    with pytest.raises(BadToken):
        tracking.verify(KEY, unsubscribe.sign(KEY, CLAIM))


def test_headers_follow_rfc_8058() -> None:
    url = unsubscribe.url("https://gw.example.jp/", KEY, CLAIM)
    assert url.startswith("https://gw.example.jp/u/")
    assert unsubscribe.headers(url) == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_page_language_form_and_no_inline_script_or_style() -> None:
    assert unsubscribe.language({"country": "JP"}) == "ja"
    assert unsubscribe.language({"country": "US"}) == unsubscribe.language(None) == "en"
    ja = unsubscribe.page("ja", "<yamada@example.jp>", done=False)
    assert 'lang="ja"' in ja and "配信を停止する" in ja and '<form method="post">' in ja
    assert "&lt;yamada@example.jp&gt;" in ja  # escaped
    done = unsubscribe.page("en", "a@example.jp", done=True)
    assert "<form" not in done and "no longer receive" in done
    for page in (ja, done):
        assert not re.search(r"<script|<style|\sstyle=|\son[a-z]+=", page)
