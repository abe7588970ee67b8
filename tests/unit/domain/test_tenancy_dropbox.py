"""Unit tests for the dropbox fields of gateway.domain.tenancy: a user's extra senders, the org's
choice of what an unknown recipient becomes."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.tenancy import MAX_EXTRA_SENDERS, merge_org, merge_user

ORG = {"id": "acme", "country": "JP"}


def test_extra_senders_are_lower_cased_and_deduplicated() -> None:
    """Up to five aliases, stored lower-case, repeats once, order kept; an empty list clears them."""
    rec = merge_user(
        ORG, "u1", {"extra_senders": ["Sato.H@Alias.example", "sato@home.example", "sato.h@alias.example"]}, None
    )
    assert rec["extra_senders"] == ["sato.h@alias.example", "sato@home.example"]
    assert merge_user(ORG, "u1", {"name": "佐藤"}, rec)["extra_senders"] == rec["extra_senders"]
    assert merge_user(ORG, "u1", {"extra_senders": []}, rec)["extra_senders"] == []


@pytest.mark.parametrize(
    "value",
    [
        [f"a{i}@x.example" for i in range(MAX_EXTRA_SENDERS + 1)],
        ["not-an-address"],
        "a@x.example",
        [42],
        None,
    ],
)
def test_bad_extra_senders_are_refused(value: Any) -> None:
    """A sixth address, a non-address or a non-list answers 400."""
    with pytest.raises(BadRequest):
        merge_user(ORG, "u1", {"extra_senders": value}, None)


def test_dropbox_create_is_lead_or_contact() -> None:
    """The org's choice defaults to lead; contact is kept; anything else answers 400."""
    rec = merge_org("acme", {"allow_lead_creation": True}, None)
    assert rec["dropbox_create"] == "lead"
    assert merge_org("acme", {"dropbox_create": "contact"}, rec)["dropbox_create"] == "contact"
    for bad in ("none", "deal", None, True):
        with pytest.raises(BadRequest, match="dropbox_create"):
            merge_org("acme", {"dropbox_create": bad}, rec)
