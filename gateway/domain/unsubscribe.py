"""One-click unsubscribe (RFC 8058): the signed token in ``List-Unsubscribe`` and the page. Pure.

The URL is ``<public_url>/u/<token>``; the token ``<payload>.<mac>`` like a tracking token
(:mod:`gateway.domain.tracking`), but its MAC is HMAC-SHA256 under ``[gateway] secret_key`` of
``"signalgate/unsubscribe/v1\\n" + payload``: the domain prefix makes a tracking token useless
here and the other way round, though both use the one key. The payload is URL-safe base64 of
``{"o": org, "c": contact or absent, "a": address}``. Anything altered → :class:`BadToken` (404).

The confirmation page is in the org's language: Japanese when the org's ``country`` is JP,
otherwise English. It has no script and no style (the page's CSP allows neither), only a form
that POSTs ``List-Unsubscribe=One-Click`` back to the same URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from gateway.domain import signed_token
from gateway.domain.tracking import BadToken

_DOMAIN = b"signalgate/unsubscribe/v1\n"
MAX_TOKEN_LENGTH = 1024
ONE_CLICK = "List-Unsubscribe=One-Click"
PAGE_CSP = "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"


@dataclass(frozen=True)
class UnsubscribeClaim:
    org: str
    contact: str | None
    address: str


def sign(secret: bytes, claim: UnsubscribeClaim) -> str:
    body = {"o": claim.org, "a": claim.address} | ({"c": claim.contact} if claim.contact is not None else {})
    return signed_token.seal(secret, _DOMAIN, body)


def verify(secret: signed_token.Keys, token: str) -> UnsubscribeClaim:
    body = signed_token.unseal(secret, _DOMAIN, token, max_length=MAX_TOKEN_LENGTH, error=BadToken)
    if not isinstance(body, dict) or not isinstance(body.get("o"), str) or not isinstance(body.get("a"), str):
        raise BadToken("incomplete payload")
    contact = body.get("c")
    return UnsubscribeClaim(body["o"], contact if isinstance(contact, str) else None, body["a"])


def url(public_url: str, secret: bytes, claim: UnsubscribeClaim) -> str:
    return f"{public_url.rstrip('/')}/u/{sign(secret, claim)}"


def headers(unsubscribe_url: str) -> dict[str, str]:
    """The two RFC 8058 headers of a marketing mail."""
    return {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": ONE_CLICK}


_TEXT = {
    "ja": {
        "title": "配信停止",
        "ask": "{address} へのお知らせメールの配信を停止しますか？",
        "button": "配信を停止する",
        "done": "{address} へのお知らせメールの配信を停止しました。",
    },
    "en": {
        "title": "Unsubscribe",
        "ask": "Stop marketing email to {address}?",
        "button": "Unsubscribe",
        "done": "{address} will no longer receive marketing email.",
    },
}


def language(org: dict[str, object] | None) -> str:
    """``ja`` for an org in Japan, else ``en``."""
    return "ja" if org is not None and org.get("country") == "JP" else "en"


def page(lang: str, address: str, *, done: bool) -> str:
    """The confirmation page (``done=False``: a form that POSTs the one-click body) or the result."""
    text = _TEXT[lang]
    message = escape(text["done" if done else "ask"].format(address=address))
    form = (
        ""
        if done
        else '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button type="submit">{escape(text["button"])}</button></form>'
    )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(text['title'])}</title></head>"
        f"<body><main><h1>{escape(text['title'])}</h1><p>{message}</p>{form}</main></body></html>"
    )
