"""Which addresses a tenant's host may reach (pure): only global unicast ones."""

from __future__ import annotations

import ipaddress

import pytest

from gateway.domain.hosts import is_public_address, literal_address, non_public

REFUSED = [
    "127.0.0.1",  # loopback (our Redis)
    "127.8.9.10",
    "::1",
    "0.0.0.0",  # unspecified
    "::",
    "10.1.2.3",  # RFC 1918
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "fc00::1",  # ULA
    "fd12:3456::1",
    "169.254.169.254",  # link-local: cloud metadata
    "fe80::1",
    "fe80::1%eth0",
    "100.64.0.1",  # shared (carrier-grade NAT)
    "100.127.255.254",
    "224.0.0.1",  # multicast: is_global alone lets these through
    "239.255.255.250",
    "ff02::1",
    "ff0e::1",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "2001:db8::1",
    "::ffff:127.0.0.1",  # IPv6 carrying a private IPv4
    "::ffff:169.254.169.254",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "::127.0.0.1",  # the old IPv4-compatible form
    "not an address",
    "",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(address)
    if address and " " not in address:
        assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_global_unicast_addresses_are_public(address: str) -> None:
    assert is_public_address(address)
    assert is_public_address(ipaddress.ip_address(address))


def test_one_private_answer_among_public_ones_refuses_the_name() -> None:
    assert non_public(["8.8.8.8", "2001:4860:4860::8888"]) == []
    assert non_public(["8.8.8.8", "10.0.0.5", "::1"]) == ["10.0.0.5", "::1"]


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("2130706433", "127.0.0.1"),  # forms inet_aton (and so getaddrinfo) still accepts
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("169.254.43518", "169.254.169.254"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("0", "0.0.0.0"),
    ],
)
def test_literal_addresses_include_the_old_numeric_forms(host: str, address: str) -> None:
    assert literal_address(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["imap.example.jp", "localhost", "256.1", "1.2.3.4.5", "08", "0x7f.example"])
def test_names_are_not_literals(host: str) -> None:
    assert literal_address(host) is None
