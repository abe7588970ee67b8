"""Signals about a mail we sent — opened, clicked, bounced — as the sent mail makes them. Pure.

The tracking token and the bounce name only the notification; its record (read by the router in
the round trip that finds the contact, never on the pixel request) says what the mail was:

- ``kind`` ``mass`` mail is a campaign: its opens, clicks and bounces are ``campaign.opened|
  clicked|bounced``, so a rep who switches campaign signals off is not flooded by a mailing;
  every other kind stays ``email.*``;
- ``subject`` (recorded by the email worker when it sends) names the mail: the title reads
  ``山田 太郎 opened “<subject>”`` and ``data.subject`` carries it.

Opens and clicks group per contact *and* mail (``Draft.about`` is the notification), so opens of
two different mails are two signals and repeats of one mail one signal with a count. A record
that is gone (retention) or a mail sent before subjects were recorded keeps the generic wording.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gateway.routing.rules import WHO, Draft, snippet

CAMPAIGN_KINDS = frozenset({"mass"})
# email.* type -> what the same event is for a campaign mail.
CAMPAIGN_TYPE = {
    "email.opened": "campaign.opened",
    "email.clicked": "campaign.clicked",
    "email.bounced": "campaign.bounced",
}
_SUBJECT_IN_TITLE = 120


def _quoted(subject: str) -> str:
    return f"“{snippet(subject, _SUBJECT_IN_TITLE)}”"


def _headline(signal_type: str, subject: str) -> str | None:
    q = _quoted(subject)
    if signal_type == "email.opened":
        return f"{WHO} opened {q}"
    if signal_type == "email.clicked":
        return f"{WHO} clicked a link in {q}"
    if signal_type == "email.bounced":
        return f"Email {q} to {WHO} bounced"
    return None


def about_mail(d: Draft, sent: dict[str, Any] | None) -> Draft:
    """``d`` (an ``email.opened|clicked|bounced`` draft) as the mail ``sent`` (its notification
    record, or None when unknown) makes it: campaign type for mass mail, subject in the title."""
    if sent is None or d.type not in CAMPAIGN_TYPE:
        return d
    subject = str(sent.get("subject") or "").strip()
    signal_type = CAMPAIGN_TYPE[d.type] if sent.get("kind") in CAMPAIGN_KINDS else d.type
    if not subject:
        return replace(d, type=signal_type)
    title = d.title if d.type != "email.opened" else _quoted(subject)
    return replace(
        d,
        type=signal_type,
        title=title,
        headline=_headline(d.type, subject),
        data={**d.data, "subject": subject},
    )
