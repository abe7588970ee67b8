"""Unit tests for gateway.routing.mail_signals and the grouping of mail signals: campaign types for
mass mail, the subject in the title, repeats grouped per contact and mail."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.events import Event
from gateway.domain.signals import SIGNAL_TYPE_SET
from gateway.routing.mail_signals import CAMPAIGN_TYPE, about_mail
from gateway.routing.rules import Draft, draft, group_on, title_for

YAMADA = {"id": "c-yamada", "name": "山田 太郎", "kind": "lead", "owner": "u1"}
SUBJECT = "山田様 新製品のご案内"


def _event(source: str, **data: Any) -> Event:
    return Event(id="1-0", partition=1, org="acme", source=source, at_ms=1_700_000_000_000, data=data)


def _draft(source: str, **data: Any) -> Draft:
    d = draft(_event(source, **data), None)
    assert d is not None
    return d


def test_campaign_types_exist() -> None:
    """Every type a mass mail can make is a signal type users can switch."""
    assert set(CAMPAIGN_TYPE.values()) <= SIGNAL_TYPE_SET


def test_an_open_names_the_subject() -> None:
    """An individual mail's open is email.opened titled with the contact and the subject."""
    d = about_mail(
        _draft("track.open", notification="n1", contact="c-yamada"), {"kind": "individual", "subject": SUBJECT}
    )
    assert d.type == "email.opened"
    assert title_for(d, YAMADA) == f"山田 太郎 opened “{SUBJECT}”"
    assert title_for(d, None) == f"“{SUBJECT}”"
    assert d.data == {"notification": "n1", "subject": SUBJECT}


def test_a_click_names_the_subject_and_keeps_the_url() -> None:
    """A click's title names the mail; its body and data keep the URL."""
    url = "https://example.jp/料金?plan=pro"
    d = about_mail(
        _draft("track.click", notification="n1", contact="c-yamada", url=url), {"kind": "auto", "subject": SUBJECT}
    )
    assert d.type == "email.clicked"
    assert title_for(d, YAMADA) == f"山田 太郎 clicked a link in “{SUBJECT}”"
    assert d.body == url and d.data["url"] == url and d.data["subject"] == SUBJECT


@pytest.mark.parametrize(
    ("source", "data", "signal_type"),
    [
        ("track.open", {"notification": "n1", "contact": "c"}, "campaign.opened"),
        ("track.click", {"notification": "n1", "contact": "c", "url": "https://x.example/"}, "campaign.clicked"),
        (
            "send.email_bounced",
            {"notification": "n1", "contact": "c", "bounce": "soft", "reason": "452"},
            "campaign.bounced",
        ),
    ],
)
def test_mass_mail_makes_campaign_signals(source: str, data: dict[str, Any], signal_type: str) -> None:
    """Opens, clicks and bounces of mass mail are campaign.*; a bounce keeps its hard/soft."""
    d = about_mail(_draft(source, **data), {"kind": "mass", "subject": SUBJECT})
    assert d.type == signal_type
    if source == "send.email_bounced":
        assert d.data["bounce"] == "soft"
        assert title_for(d, YAMADA) == f"Email “{SUBJECT}” to 山田 太郎 bounced"


def test_without_a_record_or_subject_the_generic_wording_stays() -> None:
    """An unknown mail keeps email.* and the generic title; a record without subject only sets the type."""
    d = _draft("track.open", notification="n1", contact="c")
    assert about_mail(d, None) == d
    bare = about_mail(d, {"kind": "mass"})
    assert bare.type == "campaign.opened" and title_for(bare, YAMADA) == "山田 太郎 opened your email"


def test_a_long_subject_is_cut_in_the_title_only() -> None:
    """The title quotes at most 120 characters; data.subject keeps it whole."""
    long = "お知らせ" * 60
    d = about_mail(_draft("track.open", notification="n1", contact="c"), {"kind": "individual", "subject": long})
    assert len(title_for(d, YAMADA)) < 140 and d.data["subject"] == long


def test_opens_group_per_contact_and_mail() -> None:
    """Two mails to one contact group apart; one mail's repeats together; other signals per contact."""
    one = _draft("track.open", notification="n1", contact="c-yamada")
    other = _draft("track.open", notification="n2", contact="c-yamada")
    assert group_on(one, YAMADA) == group_on(_draft("track.open", notification="n1"), YAMADA)
    assert group_on(one, YAMADA) != group_on(other, YAMADA)
    click = _draft("track.click", notification="n1", contact="c-yamada", url="https://x.example/")
    assert group_on(click, YAMADA) == group_on(one, YAMADA)  # distinct types group apart anyway
    survey = _draft("webhook", type="survey.answered", title="t")
    assert group_on(survey, YAMADA) == "c-yamada" and group_on(one, None) is None
