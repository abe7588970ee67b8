"""What an ``imap.mail`` event means and the signal it makes. Pure: event data in, values out.

Inbox mode, in this order:

1. A delivery status notification with a bounce (5.x.x hard, 4.x.x soft) about a message we sent
   → ``email.bounced`` to the notification's sender (else the contact's owner). A *final* report
   (``Action: failed``, hard or soft) moves the notification to ``bounced`` and counts ``bounced``
   once; a ``delayed`` report (the remote MTA keeps retrying) only makes the signal, with
   ``data.final = false``, and leaves the status alone. A report about mail we did not send, or a
   success report (2.x.x), makes no signal.
2. An automatic reply (Auto-Submitted, X-Autoreply, Precedence bulk/junk/auto_reply,
   out-of-office subjects) is never a reply and makes no signal; it is counted.
3. A reply (In-Reply-To / References name a Message-ID we sent) → ``email.replied`` to the
   notification's sender (else the contact's owner); ``replied`` counted once per notification.
4. Mail from a known contact → ``email.received`` to the mailbox owner.
5. Anything else (unknown sender) → no signal, counted as unmatched.

Replies and received mail both count ``received`` in the report (once per message).

Dropbox mode (BCC copies of mail a rep sent): only mail *from* an org user's address, or one of
the (at most 5) ``extra_senders`` of a user, is taken, as that user's. Each To/Cc recipient that is
not an org user becomes an activity entry on its contact; an unknown recipient becomes a lead or a
contact (the org's ``dropbox_create``, owned by the sending user) when the org allows creation
(``allow_lead_creation``). No signal.

Sent mode (the mailbox owner's Sent folder): each To/Cc recipient that is a known contact gets the
mail as an outbound activity entry by the mailbox owner. No lead is created, no signal is made.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.routing.rules import WHO, Draft

# Recipients of one dropbox mail that are attached or turned into leads (a mass mail in the
# dropbox must not create thousands of leads).
MAX_DROPBOX_RECIPIENTS = 50
# Message-IDs looked up per reply: In-Reply-To first, then References from the newest.
MAX_REPLY_LOOKUPS = 10

Kind = Literal["dropbox", "sent", "bounce", "report", "auto", "mail"]


@dataclass(frozen=True)
class Party:
    email: str
    name: str = ""


@dataclass(frozen=True)
class MailFacts:
    mode: str
    mailbox: str
    mailbox_user: str
    sender: Party | None
    to: tuple[Party, ...]
    cc: tuple[Party, ...]
    subject: str
    snippet: str
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date: str | None
    auto_reply: str | None
    report: dict[str, Any] | None = field(default=None)


def _party(raw: Any) -> Party | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("email"), str) or not raw["email"]:
        return None
    return Party(raw["email"].strip().lower(), str(raw.get("name") or ""))


def _parties(raw: Any) -> tuple[Party, ...]:
    found = (_party(x) for x in raw) if isinstance(raw, list) else ()
    return tuple(p for p in found if p is not None)


def _ids(raw: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in raw if x) if isinstance(raw, list) else ()


def facts(data: dict[str, Any]) -> MailFacts:
    """The event's data as typed facts; missing or malformed fields become empty values."""
    report = data.get("report")
    return MailFacts(
        mode=str(data.get("mode") or "inbox"),
        mailbox=str(data.get("mailbox") or ""),
        mailbox_user=str(data.get("mailbox_user") or ""),
        sender=_party(data.get("from")),
        to=_parties(data.get("to")),
        cc=_parties(data.get("cc")),
        subject=str(data.get("subject") or ""),
        snippet=str(data.get("snippet") or ""),
        message_id=str(data["message_id"]) if data.get("message_id") else None,
        in_reply_to=_ids(data.get("in_reply_to")),
        references=_ids(data.get("references")),
        date=str(data["date"]) if data.get("date") else None,
        auto_reply=str(data["auto_reply"]) if data.get("auto_reply") else None,
        report=report if isinstance(report, dict) else None,
    )


def classify(f: MailFacts) -> Kind:
    if f.mode == "dropbox":
        return "dropbox"
    if f.mode == "sent":
        return "sent"
    if f.report is not None:
        return "bounce" if f.report.get("bounce") in ("hard", "soft") else "report"
    if f.auto_reply:
        return "auto"
    return "mail"


def reply_ids(f: MailFacts) -> list[str]:
    """Message-IDs that may name a mail we sent, most specific first."""
    ids = [*f.in_reply_to, *reversed(f.references)]
    return list(dict.fromkeys(ids))[:MAX_REPLY_LOOKUPS]


def bounce_ids(f: MailFacts) -> list[str]:
    """For a report: the original Message-ID it carries, then the report's own reply headers."""
    original = (f.report or {}).get("original_message_id")
    return list(dict.fromkeys([*([str(original)] if original else []), *reply_ids(f)]))


def bounce_kind(f: MailFacts) -> str:
    return str((f.report or {}).get("bounce") or "")


def bounce_is_final(f: MailFacts) -> bool:
    """``Action: delayed`` means the remote MTA still retries: a warning, not a bounce yet."""
    return (f.report or {}).get("action") != "delayed"


def title_of(f: MailFacts) -> str:
    return f.subject or (f.sender.email if f.sender else "")


def _from(f: MailFacts) -> dict[str, Any]:
    return {
        "from": f.sender.email if f.sender else None,
        "from_name": f.sender.name if f.sender else None,
        "subject": f.subject,
        "message_id": f.message_id,
    }


def received_draft(f: MailFacts) -> Draft:
    return Draft("email.received", title_of(f), f.snippet, {**_from(f), "mailbox": f.mailbox})


def replied_draft(f: MailFacts, notification: str) -> Draft:
    return Draft(
        "email.replied",
        title_of(f),
        f.snippet,
        {**_from(f), "notification": notification, "in_reply_to": f.in_reply_to[0] if f.in_reply_to else None},
    )


def bounced_draft(f: MailFacts, notification: str) -> Draft:
    r = f.report or {}
    status, diagnostic = str(r.get("status") or ""), str(r.get("diagnostic") or "")
    recipient = str(r.get("recipient") or "")
    return Draft(
        "email.bounced",
        f"Email to {recipient} bounced" if recipient else "Email bounced",
        " ".join(x for x in (status, diagnostic) if x),
        {
            "bounce": r.get("bounce"),
            "final": bounce_is_final(f),
            "status": status or None,
            "action": r.get("action"),
            "recipient": r.get("recipient"),
            "diagnostic": diagnostic or None,
            "notification": notification,
            "message_id": r.get("original_message_id"),
        },
        headline=f"Email to {WHO} bounced",
    )


def bounce_reason(f: MailFacts) -> str:
    """The note kept in the notification's history, e.g. ``hard 5.1.1 550 ... User unknown``."""
    r = f.report or {}
    return " ".join(str(x) for x in (r.get("bounce"), r.get("status"), r.get("diagnostic")) if x)[:200]


def dropbox_recipients(f: MailFacts, exclude: set[str]) -> list[Party]:
    """To and Cc without duplicates, the sender and org users (``exclude``), capped."""
    out: list[Party] = []
    seen = set(exclude) | ({f.sender.email} if f.sender else set())
    for p in (*f.to, *f.cc):
        if p.email in seen:
            continue
        seen.add(p.email)
        out.append(p)
    return out[:MAX_DROPBOX_RECIPIENTS]


def sender_addresses(users: list[dict[str, Any]]) -> dict[str, str]:
    """Address -> user for the addresses the dropbox accepts mail from: each user's own address
    and their ``extra_senders`` (at most 5). A user's own address wins over another's alias."""
    out: dict[str, str] = {}
    for u in users:
        for alias in u.get("extra_senders") or ():
            out.setdefault(str(alias).lower(), u["id"])
    for u in users:
        if u.get("email"):
            out[str(u["email"]).lower()] = u["id"]
    return out


def creation_kind(org: dict[str, Any]) -> str | None:
    """What an unknown dropbox recipient becomes: the org's ``dropbox_create`` (``lead`` or
    ``contact``) when it allows creation (``allow_lead_creation``), else None (nothing)."""
    if not org.get("allow_lead_creation"):
        return None
    return "contact" if org.get("dropbox_create") == "contact" else "lead"


def created_id(email: str, kind: str = "lead") -> str:
    """Deterministic, so a replayed event finds the record it created instead of making another."""
    return f"{kind}-" + hashlib.sha256(email.encode()).hexdigest()[:16]


def created_body(p: Party, owner: str | None, kind: str = "lead") -> dict[str, Any]:
    """The PUT-contact body for a lead (or contact) made from a dropbox recipient (validated by
    merge_contact)."""
    return {"kind": kind, "name": (p.name or p.email)[:200], "emails": [p.email], "owner": owner}


def activity_entry(event_key: str, at: str, f: MailFacts, direction: str, user: str | None) -> dict[str, Any]:
    """One mail on a contact's activity list; the same event always gives the same entry."""
    return {
        "id": event_key,
        "type": "email",
        "direction": direction,
        "at": at,
        "date": f.date,
        "subject": f.subject,
        "snippet": f.snippet,
        "from": f.sender.email if f.sender else None,
        "to": [p.email for p in f.to],
        "cc": [p.email for p in f.cc],
        "message_id": f.message_id,
        "user": user,
        "mailbox": f.mailbox,
    }
