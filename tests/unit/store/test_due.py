"""gateway.store.due: entries encode to one stable sorted-set member and back."""

from __future__ import annotations

import pytest

from gateway.store import keys
from gateway.store.due import DueEntry, parse_member


def test_member_round_trip_and_partition() -> None:
    entry = DueEntry("snooze", "acme", "u1", 1_764_000_000_000)
    assert entry.member() == '["snooze","acme","u1",1764000000000,""]'
    assert parse_member(entry.member()) == entry
    assert entry.partition == keys.partition_of("acme")
    assert keys.due(entry.partition) == f"sg:{{p:{entry.partition}}}:due"


@pytest.mark.parametrize("member", ["", "nope", "[]", '["snooze","acme","u1","1",""]', '{"k":1}', '["a","b","c",1]'])
def test_malformed_members(member: str) -> None:
    assert parse_member(member) is None
