"""Unit tests for gateway.domain.links: record_url_template checks and filling."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.links import check_record_url_template, record_url, signal_links
from gateway.domain.tenancy import merge_org


@pytest.mark.parametrize(
    "template",
    [
        "https://crm.example.jp/{kind}s/{contact_id}",
        "http://crm.example.jp/?org={org}&id={contact_id}",
        "https://{org}.crm.example/{contact_id}",
        "https://crm.example.jp/{{literal}}/{contact_id}",
        "https://crm.example.jp/static",
    ],
)
def test_valid_templates_are_kept(template: str) -> None:
    """http(s) URLs with placeholders among {org}, {kind}, {contact_id} are accepted as given."""
    assert check_record_url_template(template) == template


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("ftp://crm.example.jp/{contact_id}", "http"),
        ("javascript:alert(1)//{contact_id}", "http"),
        ("https:///{contact_id}", "host"),
        ("crm.example.jp/{contact_id}", "http"),
        ("https://[::1/{contact_id}", "valid URL"),
        ("https://crm.example.jp/{user}", "{user}"),
        ("https://crm.example.jp/{0}", "{0}"),
        ("https://crm.example.jp/{}", "{}"),
        ("https://crm.example.jp/{contact_id.x}", "{contact_id.x}"),
        ("https://crm.example.jp/{contact_id!r}", "no conversion"),
        ("https://crm.example.jp/{contact_id:>9}", "no conversion"),
        ("https://crm.example.jp/{contact_id", "malformed"),
        ("https://crm.example.jp/a b/{contact_id}", "spaces"),
        ("https://crm.example.jp/\n{contact_id}", "spaces"),
        ("", "1 to"),
        ("https://x.jp/" + "a" * 500, "1 to"),
        (42, "URL string"),
    ],
)
def test_invalid_templates_are_400_naming_the_key(template: Any, why: str) -> None:
    """Any other scheme, placeholder or shape is 400 invalid_field naming record_url_template."""
    with pytest.raises(BadRequest) as err:
        check_record_url_template(template)
    assert err.value.code == "invalid_field"
    assert "record_url_template" in err.value.detail and why in err.value.detail


def test_values_are_url_quoted() -> None:
    """Each placeholder's value is percent-encoded (a slash or space cannot change the path)."""
    url = record_url("https://crm.example.jp/{org}/{kind}s/{contact_id}", "acme", "lead", "山田/1 a")
    assert url == "https://crm.example.jp/acme/leads/%E5%B1%B1%E7%94%B0%2F1%20a"


def test_signal_links_needs_template_and_contact() -> None:
    """links only when the org has a template and the signal a contact."""
    org = {"id": "acme", "record_url_template": "https://c.example/{contact_id}"}
    contact = {"id": "c9", "kind": "contact", "name": "x"}
    assert signal_links(org, contact) == {"record": "https://c.example/c9"}
    assert signal_links(org, None) is None
    assert signal_links({"id": "acme"}, contact) is None


def test_merge_org_stores_and_clears_the_template() -> None:
    """PUT org accepts record_url_template, keeps it on replays without it, and null clears it."""
    rec = merge_org("acme", {"record_url_template": "https://c.example/{contact_id}"}, None)
    assert rec["record_url_template"] == "https://c.example/{contact_id}"
    assert merge_org("acme", {"plan": "standard"}, rec)["record_url_template"] == "https://c.example/{contact_id}"
    assert "record_url_template" not in merge_org("acme", {"record_url_template": None}, rec)
    with pytest.raises(BadRequest):
        merge_org("acme", {"record_url_template": "https://c.example/{user}"}, rec)
