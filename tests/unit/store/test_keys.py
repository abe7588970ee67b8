"""gateway.store.keys: key names are a contract with every deployed Redis — they never change."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from gateway.domain.tenancy import ORG_ID
from gateway.store import keys

ORG, USER = "acme", "u1"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (lambda: keys.events_stream(7), "sg:{p:7}:events"),
        (lambda: keys.ingest_dedupe(ORG, "webhook", "msg_1"), "sg:{p:14}:seen:acme:webhook:msg_1"),
        (lambda: keys.ingest_dedupe_prefix(ORG), "sg:{p:14}:seen:acme:"),
        (lambda: keys.org(ORG), "sg:{acme}:org"),
        (lambda: keys.org_prefix(ORG), "sg:{acme}:"),
        (lambda: keys.users(ORG), "sg:{acme}:users"),
        (lambda: keys.contacts(ORG), "sg:{acme}:contacts"),
        (lambda: keys.contact_by_email(ORG), "sg:{acme}:contact-by-email"),
        (lambda: keys.contact_by_phone(ORG), "sg:{acme}:contact-by-phone"),
        (lambda: keys.tokens(ORG), "sg:{acme}:tokens"),
        (lambda: keys.token_times(ORG), "sg:{acme}:token-times"),
        (lambda: keys.feed(ORG, USER), "sg:{acme}:feed:u1"),
        (lambda: keys.feed_meta(ORG, USER), "sg:{acme}:feed-meta:u1"),
        (lambda: keys.signal_state(ORG, USER), "sg:{acme}:signal-state:u1"),
        (lambda: keys.unread(ORG, USER), "sg:{acme}:unread:u1"),
        (lambda: keys.archived(ORG, USER), "sg:{acme}:archived:u1"),
        (lambda: keys.snoozed(ORG, USER), "sg:{acme}:snoozed:u1"),
        (lambda: keys.away_unread(ORG, USER), "sg:{acme}:away-unread:u1"),
        (lambda: keys.signal_acted(ORG, USER), "sg:{acme}:acted:u1"),
        (lambda: keys.due(7), "sg:{p:7}:due"),
        (lambda: keys.settings(ORG, USER), "sg:{acme}:settings:u1"),
        (lambda: keys.group(ORG, USER, "sms.received", "c1"), "sg:{acme}:group:u1:sms.received:c1"),
        (lambda: keys.event_done(ORG, "p7-1-0:u1"), "sg:{acme}:done:p7-1-0:u1"),
        (lambda: keys.live_channel(ORG, USER), "sg:{acme}:live:u1"),
        (lambda: keys.stats(ORG), "sg:{acme}:stats"),
        (lambda: keys.sms_status(ORG, "SM1"), "sg:{acme}:sms:SM1"),
        (lambda: keys.sms_history(ORG, "SM1"), "sg:{acme}:sms:SM1:history"),
        (lambda: keys.calls(ORG), "sg:{acme}:calls"),
        (lambda: keys.call(ORG, "CA1"), "sg:{acme}:call:CA1"),
        (lambda: keys.call_history(ORG, "CA1"), "sg:{acme}:call:CA1:history"),
        (lambda: keys.notification(ORG, "n_1"), "sg:{acme}:notification:n_1"),
        (lambda: keys.notification_history(ORG, "n_1"), "sg:{acme}:notification:n_1:history"),
        (lambda: keys.message_id(ORG, "a@b"), "sg:{acme}:msgid:a@b"),
        (lambda: keys.templates(ORG), "sg:{acme}:templates"),
        (lambda: keys.credits(ORG), "sg:{acme}:credits"),
        (lambda: keys.credit_ledger(ORG), "sg:{acme}:credit-ledger"),
        (lambda: keys.credits_low_owed(ORG), "sg:{acme}:credits-low-owed"),
        (lambda: keys.email_usage(ORG, "2026-11-30"), "sg:{acme}:email-usage:2026-11-30"),
        (lambda: keys.report_day(ORG, "2026-11-30"), "sg:{acme}:report:2026-11-30"),
        (lambda: keys.report_seen(ORG, "2026-11-30"), "sg:{acme}:report-seen:2026-11-30"),
        (lambda: keys.reminders(ORG), "sg:{acme}:reminders"),
        (lambda: keys.imap_lease(ORG, "mb"), "sg:{acme}:imap:mb:lease"),
        (lambda: keys.imap_checkpoint(ORG, "mb"), "sg:{acme}:imap:mb:checkpoint"),
        (lambda: keys.imap_state(ORG, "mb"), "sg:{acme}:imap:mb:state"),
        (lambda: keys.activity(ORG, "c1"), "sg:{acme}:activity:c1"),
        (lambda: keys.heartbeat("vm-12-ab12cd"), "sg:{node:hb}:vm-12-ab12cd"),
    ],
)
def test_key_names_are_stable(key: Callable[[], str], expected: str) -> None:
    """Each key builder gives the name deployments already hold data under."""
    assert key() == expected


def test_fixed_names_and_partitions() -> None:
    """Process-wide keys, the router group, and crc32 partitioning never move an org."""
    assert (keys.SECRETS, keys.ORGS, keys.ROUTER_GROUP, keys.PARTITIONS) == ("sg:secrets", "sg:orgs", "routers", 16)
    assert [keys.partition_of(o) for o in ("acme", "demo", "t-0")] == [14, 0, 13]


def test_every_org_key_shares_the_org_hash_tag() -> None:
    """All keys of one org sit in one Cluster slot, so every Lua script stays on one node."""
    org_keys = [keys.org(ORG), keys.feed(ORG, USER), keys.notification(ORG, "n"), keys.imap_lease(ORG, "m")]
    assert {k.split(":", 2)[1] for k in org_keys} == {"{acme}"}


def _tag(key: str) -> str:
    """The Redis Cluster hash tag of a key name (what picks its slot)."""
    return key[key.index("{") + 1 : key.index("}")]


@pytest.mark.parametrize("partition", range(keys.PARTITIONS))
def test_no_org_id_can_share_a_partition_hash_tag(partition: int) -> None:
    """Partition tags contain ':', which the org id alphabet excludes: org p9 is not partition 9."""
    tag = _tag(keys.events_stream(partition))
    assert not ORG_ID.fullmatch(tag)
    assert _tag(keys.org(f"p{partition}")) != tag
    assert not keys.events_stream(partition).startswith(keys.org_prefix(f"p{partition}"))


def test_dedupe_keys_are_per_org_in_the_org_partition() -> None:
    """Two orgs of one partition get different dedupe keys for one id, each in the stream's slot."""
    a, b = _same_partition_pair()
    key_a, key_b = keys.ingest_dedupe(a, "webhook", "msg_1"), keys.ingest_dedupe(b, "webhook", "msg_1")
    assert key_a != key_b
    stream = keys.events_stream(keys.partition_of(a))
    assert _tag(key_a) == _tag(key_b) == _tag(stream)
    assert key_a.startswith(keys.ingest_dedupe_prefix(a)) and not key_b.startswith(keys.ingest_dedupe_prefix(a))


def _same_partition_pair() -> tuple[str, str]:
    first = "dup-a"
    other = next(f"dup-{i}" for i in range(1000) if keys.partition_of(f"dup-{i}") == keys.partition_of(first))
    return first, other


@pytest.mark.parametrize("bad", ["*", "zz?", "zz[12]", "", "Acme", "p:9", "a}b", "a" * 41, "acme\n"])
def test_prefixes_refuse_anything_but_an_org_id(bad: str) -> None:
    """A prefix is never built from a string that could name other orgs' or partitions' keys."""
    for build in (keys.org_prefix, keys.ingest_dedupe_prefix):
        with pytest.raises(ValueError, match="not an org id"):
            build(bad)


def test_heartbeats_share_a_hash_tag_no_org_or_partition_can_have() -> None:
    """Every heartbeat is in one slot (one MGET checks them all), and that tag is not an org id
    (org ids have no ':') nor a partition's, so deleting an org or a partition never touches it."""
    tags = {re.match(r"sg:(\{[^}]*\})", keys.heartbeat(m)).group(1) for m in ("a", "host:1:ff")}  # type: ignore[union-attr]
    assert tags == {"{node:hb}"}
    assert ORG_ID.fullmatch(keys.HEARTBEAT_TAG.strip("{}")) is None
    assert all(keys.HEARTBEAT_TAG not in keys.events_stream(p) for p in range(keys.PARTITIONS))


def test_events_of_one_org_spread_over_every_partition_by_routing_key() -> None:
    """Without a routing key an event goes to its org's partition; with one, one org's events use
    every partition, and one key always the same one (so its events stay in order)."""
    assert keys.partition_of(ORG, None) == keys.partition_of(ORG) == 14
    used = {keys.partition_of(ORG, f"id:c{i}") for i in range(200)}
    assert used == set(range(keys.PARTITIONS))
    assert keys.partition_of(ORG, "phone:+8190") == keys.partition_of(ORG, "phone:+8190")
    assert keys.partition_lease(7) == "sg:{p:7}:lease"


def test_dedupe_key_is_in_the_slot_of_the_stream_the_event_goes_to() -> None:
    """Dedupe + XADD stay one script in Cluster: the dedupe key carries the event's partition's tag."""
    partition = keys.partition_of(ORG, "id:c42")
    key = keys.ingest_dedupe(ORG, "webhook", "msg_1", partition)
    assert _tag(key) == _tag(keys.events_stream(partition))
    assert key.startswith(keys.ingest_dedupe_prefix(ORG, partition))
    assert keys.ingest_dedupe(ORG, "webhook", "msg_1") == "sg:{p:14}:seen:acme:webhook:msg_1"  # no key: as before


def test_dedupe_match_covers_every_partition_and_refuses_bad_org_ids() -> None:
    """One SCAN pattern finds the org's dedupe keys in all partitions; built only from an org id."""
    assert keys.ingest_dedupe_match(ORG) == "sg:{p:*}:seen:acme:*"
    for bad in ("*", "zz?", "p:9", "a}b"):
        with pytest.raises(ValueError, match="not an org id"):
            keys.ingest_dedupe_match(bad)
