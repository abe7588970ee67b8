"""Shape of a host name or IP literal given through the API (an org's SMTP server, a mailbox's
IMAP server). Pure: only the shape is checked here; nothing is resolved or connected to while a
request is answered."""

from __future__ import annotations

import ipaddress
import re

MAX_HOST = 253
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")


def is_host(value: object) -> bool:
    """A DNS name (letters, digits, hyphens; labels of 1-63) or an IPv4/IPv6 literal."""
    if not isinstance(value, str) or not value or len(value) > MAX_HOST:
        return False
    if _HOST_NAME.fullmatch(value):
        return True
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


# -- which addresses a tenant may make us connect to ----------------------------------------------
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# A connection a tenant asked for (an API mailbox) that would reach one of our own or an internal
# address: the text its state shows instead of anything the host could have said.
PRIVATE_HOST_ERROR = "host resolves to a non-public address (set [mailboxes] allow_private_hosts to allow)"
# The numeric parts inet_aton (and so getaddrinfo) accepts: 0x hex, 0-prefixed octal, decimal.
_NUMERIC_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address of the old numeric forms resolvers still accept (``2130706433``,
    ``0x7f.1``, ``0177.0.0.1``, ``127.1``), or None when ``host`` is not one."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.fullmatch(p) for p in parts):
        return None
    values = [int(p[2:] or "0", 16) if p[:2] in ("0x", "0X") else int(p, 8 if p.startswith("0") else 10) for p in parts]
    *head, last = values
    tail_bits = 8 * (4 - len(head))
    if any(v > 255 for v in head) or last >= 1 << tail_bits:
        return None
    number = 0
    for v in head:
        number = number << 8 | v
    return ipaddress.IPv4Address(number << tail_bits | last)


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` denotes without asking DNS: an IPv4 or IPv6 literal (a zone is kept),
    or an old numeric IPv4 form; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return _inet_aton(host)


def is_public_address(address: IPAddress | str) -> bool:
    """Only global unicast addresses: not loopback, private (RFC 1918, ULA), link-local (cloud
    metadata at 169.254.169.254), shared (100.64/10), reserved, unspecified or multicast. An IPv6
    address carrying an IPv4 one (mapped, 6to4, NAT64, the old compatible form) is judged by that
    one too. A string that is no address is not public."""
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address)
        except ValueError:
            return False
    if isinstance(address, ipaddress.IPv6Address):
        if address in _IPV4_COMPATIBLE:
            return False  # deprecated; ::1 and :: are in it too
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(embedded):
            return False
    return address.is_global and not address.is_multicast


def non_public(addresses: list[str]) -> list[str]:
    """Those of ``addresses`` (resolver answers) that may not be connected to; all of them must be
    public for a host to be used (a name with one private address among public ones is refused)."""
    return [a for a in addresses if not is_public_address(a)]
