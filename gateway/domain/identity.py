"""Sending identity: which address an email goes out ``From`` and where replies go. Pure.

An org may list up to :data:`MAX_SENDERS` ``senders`` (addresses it may send from) and may have its
own ``smtp`` server (then its mail goes through that server, never the config's). Email sent for a
user (the notification's ``sender``) goes out:

* ``From`` the user's own address when the org allows it: the address is one of the org's
  ``senders``, or the org set ``user_from: true``, has its own ``smtp`` (whose server decides what
  its login may send as) and the address is on the domain of one of its ``senders``;
* else ``From`` the org's sender (the first of ``senders``, else the config's
  ``smtp.from_address``) with ``Reply-To`` the user's address, so replies still reach the rep.

Only plain ``local@domain`` addresses ever reach a header (:data:`PLAIN_ADDRESS`): a user's address
that is not one is never used for ``From`` or ``Reply-To``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_SENDERS = 10
# A bare addr-spec safe to write into From / Reply-To as is (no display name, no quoting, a dot in
# the domain): what an org may list as a sender.
PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+"
)


@dataclass(frozen=True)
class Identity:
    from_addr: str
    reply_to: str | None = None


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _plain(address: Any) -> str | None:
    if not isinstance(address, str):
        return None
    address = address.strip().lower()
    return address if len(address) <= 254 and PLAIN_ADDRESS.fullmatch(address) else None


def may_send_as(org: dict[str, Any], address: str) -> bool:
    """Whether mail of ``org`` may go out ``From`` ``address`` (a user's own address)."""
    senders = [s.lower() for s in org.get("senders") or []]
    if address in senders:
        return True
    own_smtp = isinstance(org.get("smtp"), dict) and bool(org["smtp"].get("host"))
    return bool(org.get("user_from")) and own_smtp and _domain(address) in {_domain(s) for s in senders}


def choose_identity(org: dict[str, Any], user: dict[str, Any] | None, default_from: str) -> Identity:
    """From and Reply-To of a mail ``org`` sends for ``user`` (None: no user, the org's sender)."""
    senders = org.get("senders") or []
    org_from = str(senders[0]) if senders else default_from
    own = _plain((user or {}).get("email"))
    if own is None:
        return Identity(org_from)
    if may_send_as(org, own):
        return Identity(own)
    return Identity(org_from, None if own == org_from.lower() else own)
