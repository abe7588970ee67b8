"""Unit tests for gateway.ingest.imap: wire (server responses), rules (listener decisions), mailbox config."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.domain.mailbox import Checkpoint
from gateway.ingest.imap.rules import (
    REBASELINE_MAX,
    Start,
    backoff_delay,
    batches,
    mailbox_id,
    new_uids,
    plan_start,
    rebaseline_pick,
    top_uid,
    uid_set,
)
from gateway.ingest.imap.service import mailboxes
from gateway.ingest.imap.wire import (
    Fetched,
    ProtocolError,
    Selected,
    is_exists,
    parse_fetch,
    parse_internaldate,
    parse_search,
    parse_select,
    push_is_bye,
)

# Lines exactly as aioimaplib returned them from Dovecot 2.3 (untagged "* " stripped).
SELECT_LINES = [
    b"FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
    b"OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.",
    b"3 EXISTS",
    b"1 RECENT",
    b"OK [UNSEEN 1] First unseen.",
    b"OK [UIDVALIDITY 1795618630] UIDs valid",
    b"OK [UIDNEXT 4] Predicted next UID",
    b"[READ-WRITE] Select completed (0.001 + 0.000 secs).",
]


def test_parse_select() -> None:
    """UIDVALIDITY, UIDNEXT and EXISTS come out of a Dovecot SELECT response."""
    assert parse_select(SELECT_LINES) == Selected(1795618630, 4, 3)


def test_parse_select_without_uidnext_or_uidvalidity() -> None:
    """UIDNEXT may be missing (handled by the listener); UIDVALIDITY may not."""
    lines = [line for line in SELECT_LINES if b"UIDNEXT" not in line]
    assert parse_select(lines).uidnext is None
    with pytest.raises(ProtocolError):
        parse_select([line for line in SELECT_LINES if b"UIDVALIDITY" not in line])


@pytest.mark.parametrize(
    ("lines", "uids"),
    [
        ([b"1", b"Search completed (0.001 + 0.000 secs)."], [1]),
        ([b"7 3 5", b"Search completed."], [3, 5, 7]),
        ([b"", b"Search completed."], []),
        ([b"SEARCH 2 4", b"Search completed."], [2, 4]),
        ([b"Search completed 4 you."], []),
    ],
)
def test_parse_search(lines: list[bytes], uids: list[int]) -> None:
    """UID SEARCH results ascending; the completion line is never read as numbers."""
    assert parse_search(lines) == uids


def test_parse_fetch_two_messages_and_an_unsolicited_flag_update() -> None:
    """Each FETCH with a UID and a BODY literal becomes a Fetched; a flags-only FETCH is skipped."""
    lines: list[bytes | bytearray] = [
        b'1 FETCH (UID 1 INTERNALDATE "25-Nov-2026 14:57:10 +0000" RFC822.SIZE 109 BODY[]<0> {5}',
        bytearray(b"hello"),
        b")",
        b"2 FETCH (FLAGS (\\Seen))",
        b'3 FETCH (UID 7 RFC822.SIZE 2000000 INTERNALDATE "01-Jan-2024 09:00:00 +0900" BODY[]<0> {3}',
        bytearray(b"abc"),
        b")",
        b"Fetch completed (0.001 + 0.000 secs).",
    ]
    assert parse_fetch(lines) == [
        Fetched(1, 1795618630000, 109, b"hello"),
        Fetched(7, 1704067200000, 2000000, b"abc"),
    ]


def test_parse_fetch_uid_after_literal_and_dates_only() -> None:
    """UID may follow the literal; a fetch of UID INTERNALDATE only has no body."""
    lines: list[bytes | bytearray] = [
        b"1 FETCH (BODY[] {2}",
        bytearray(b"hi"),
        b" UID 9)",
        b'2 FETCH (UID 10 INTERNALDATE "bogus date")',
        b"Fetch completed.",
    ]
    assert parse_fetch(lines) == [Fetched(9, None, None, b"hi"), Fetched(10, None, None, None)]


def test_parse_internaldate() -> None:
    """INTERNALDATE with its zone becomes epoch ms; garbage is None."""
    assert parse_internaldate("17-Jul-1996 02:44:25 -0700") == 837596665000  # 1996-07-17T09:44:25Z
    assert parse_internaldate(" 1-Jan-2024 00:00:00 +0000") == 1704067200000
    assert parse_internaldate("yesterday") is None


@pytest.mark.parametrize(
    ("lines", "mail", "bye"),
    [
        ([b"2 EXISTS", b"2 RECENT"], True, False),
        ([b"OK Still here"], False, False),
        ([b"1 EXPUNGE"], False, False),
        ([b"BYE Server shutting down."], False, True),
        ([b"* 5 EXISTS"], True, False),
        ([bytearray(b"BYE in a message literal")], False, False),
    ],
)
def test_idle_pushes(lines: list[bytes], mail: bool, bye: bool) -> None:
    """IDLE pushes: EXISTS means new mail, BYE means the session is over (literals never count)."""
    assert any(is_exists(line) for line in lines if isinstance(line, bytes)) is mail
    assert push_is_bye(lines) is bye


# --- rules ---------------------------------------------------------------------------------------

SEL = Selected(uidvalidity=100, uidnext=51, exists=50)


@pytest.mark.parametrize(
    ("checkpoint", "expected"),
    [
        (None, Start("baseline", 50)),
        (Checkpoint(100, 42), Start("resume", 42)),
        (Checkpoint(100, 50), Start("resume", 50)),
        (Checkpoint(99, 42, 1_700_000_000_000), Start("rebaseline", 50)),
    ],
    ids=["first-start", "resume", "nothing-new", "uidvalidity-changed"],
)
def test_plan_start(checkpoint: Checkpoint | None, expected: Start) -> None:
    """First start baselines at UIDNEXT-1, same UIDVALIDITY resumes, a new one re-baselines."""
    assert plan_start(checkpoint, SEL, top_uid(SEL, None)) == expected


def test_top_uid_without_uidnext() -> None:
    """Without UIDNEXT the highest existing UID is the top (0 for an empty folder)."""
    assert top_uid(Selected(1, None, 3), 17) == 17
    assert top_uid(Selected(1, None, 0), None) == 0
    assert top_uid(Selected(1, 1, 0), None) == 0


def test_rebaseline_pick() -> None:
    """After a UIDVALIDITY change only mail newer than the old high-water mark is replayed, capped."""
    hw = 1_000_000
    candidates = [(1, hw - 5000), (2, hw), (3, hw + 1000), (4, None), (5, hw + 2000)]
    assert rebaseline_pick(candidates, hw) == [3, 5]
    assert rebaseline_pick(candidates, None) == []
    flood = [(uid, hw + uid) for uid in range(1, 1000)]
    assert rebaseline_pick(flood, hw) == list(range(1000 - REBASELINE_MAX, 1000))


@pytest.mark.parametrize(
    ("found", "after", "expected"),
    [([5], 5, []), ([5], 7, []), ([6, 7], 5, [6, 7]), ([9, 6, 6], 5, [6, 9]), ([], 0, [])],
)
def test_new_uids(found: list[int], after: int, expected: list[int]) -> None:
    """`UID SEARCH UID n:*` returns the last message even when nothing is new; only UIDs above count."""
    assert new_uids(found, after) == expected


def test_uid_set_and_batches() -> None:
    """Runs collapse into ranges; batches keep order and size."""
    assert uid_set([1, 2, 3, 7, 9, 10]) == "1:3,7,9:10"
    assert uid_set([5]) == "5"
    assert batches(list(range(1, 24)), 10) == [list(range(1, 11)), list(range(11, 21)), [21, 22, 23]]


@pytest.mark.parametrize(
    ("attempt", "rand", "expected"),
    [
        (0, 0.0, 0.5),
        (0, 0.999999, 1.0),
        (1, 0.0, 1.0),
        (3, 0.5, 6.0),
        (10, 0.0, 30.0),
        (10, 1.0, 60.0),
        (10_000, 0.5, 45.0),
    ],
)
def test_backoff_delay(attempt: int, rand: float, expected: float) -> None:
    """Exponential from the initial delay, capped, jittered within [base/2, base]."""
    assert backoff_delay(attempt, 1.0, 60.0, rand) == pytest.approx(expected, abs=1e-5)


def test_mailbox_id_is_stable_and_opaque() -> None:
    """Same mailbox, same id (host case-insensitive); different folder, different id; no user name."""
    a = mailbox_id("acme", "IMAP.example.jp", 993, "sato@example.jp", "INBOX")
    assert a == mailbox_id("acme", "imap.example.jp", 993, "sato@example.jp", "INBOX")
    assert a != mailbox_id("acme", "imap.example.jp", 993, "sato@example.jp", "Sent")
    assert a.startswith("mb-") and "sato" not in a


# --- configuration -------------------------------------------------------------------------------

ENV = {
    "SIGNALGATE_IMAP_0_ORG": "acme",
    "SIGNALGATE_IMAP_0_USER": "u1",
    "SIGNALGATE_IMAP_0_HOST": "imap.example.jp",
    "SIGNALGATE_IMAP_0_USERNAME": "sato@example.jp",
    "SIGNALGATE_IMAP_0_PASSWORD": "hunter2-secret",
}


def test_imap_entries_from_environment() -> None:
    """SIGNALGATE_IMAP_<n>_<KEY> builds or overrides the n-th mailbox, numbers in any env order."""
    env = {
        **ENV,
        "SIGNALGATE_IMAP_1_HEARTBEAT_SECONDS": "5",
        "SIGNALGATE_IMAP_1_ORG": "acme",
        "SIGNALGATE_IMAP_1_USER": "u2",
        "SIGNALGATE_IMAP_1_HOST": "h",
    }
    cfg = load_config(None, dict(reversed(list(env.items()))))
    assert [b.user for b in cfg.imap] == ["u1", "u2"]
    assert cfg.imap[0].password == "hunter2-secret" and cfg.imap[0].idle_renew_seconds == 1740.0
    assert cfg.imap[1].heartbeat_seconds == 5.0


def test_imap_environment_fills_a_toml_entry(tmp_path: Path) -> None:
    """The password of a [[imap]] table can come from SIGNALGATE_IMAP_0_PASSWORD."""
    path = tmp_path / "c.toml"
    path.write_text('[[imap]]\norg = "acme"\nuser = "u1"\nhost = "h"\nusername = "x"\n')
    cfg = load_config(path, {"SIGNALGATE_IMAP_0_PASSWORD": "pw"})
    assert (cfg.imap[0].username, cfg.imap[0].password) == ("x", "pw")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SIGNALGATE_IMAP_X_HOST": "h"}, "SIGNALGATE_IMAP_X_HOST"),
        ({"SIGNALGATE_IMAP_0": "h"}, "SIGNALGATE_IMAP_0"),
        ({**ENV, "SIGNALGATE_IMAP_2_HOST": "h"}, "without gaps"),
        ({**ENV, "SIGNALGATE_IMAP_0_COLOR": "red"}, "imap[0].color"),
        ({**ENV, "SIGNALGATE_IMAP_0_IDLE_RENEW_SECONDS": "1800"}, "imap[0].idle_renew_seconds must be at most 1740"),
        ({**ENV, "SIGNALGATE_IMAP_0_HEARTBEAT_SECONDS": "0"}, "imap[0].heartbeat_seconds must be positive"),
        ({**ENV, "SIGNALGATE_IMAP_0_LEASE_SECONDS": "-1"}, "imap[0].lease_seconds must be positive"),
        ({**ENV, "SIGNALGATE_IMAP_0_BACKOFF_MAX_SECONDS": "0.5"}, "backoff_max_seconds must be >="),
        ({**ENV, "SIGNALGATE_IMAP_0_PORT": "0"}, "imap[0].port must be 1-65535"),
        (
            {**ENV, **{k.replace("_0_", "_1_"): v for k, v in ENV.items()}},
            "imap[1] is the same mailbox as an earlier entry",
        ),
    ],
)
def test_bad_imap_settings_are_refused(env: dict[str, str], message: str) -> None:
    """Bad IMAP settings stop start-up with one line naming the key."""
    with pytest.raises(ConfigError) as exc:
        load_config(None, env)
    assert message in str(exc.value)


@pytest.mark.parametrize(
    ("drop", "extra", "message"),
    [
        ("SIGNALGATE_IMAP_0_PASSWORD", {}, "imap[0].password is required"),
        ("SIGNALGATE_IMAP_0_USERNAME", {}, "imap[0].username is required"),
        (None, {"SIGNALGATE_IMAP_0_ORG": "Not An Org"}, "imap[0].org must match"),
        (None, {"SIGNALGATE_IMAP_0_ID": "bad id!"}, "imap[0].id must match"),
    ],
)
def test_mailboxes_need_what_listening_needs(drop: str | None, extra: dict[str, str], message: str) -> None:
    """`signalgate up`/`imap` refuse a mailbox without credentials or with bad ids before starting."""
    env = {k: v for k, v in ENV.items() if k != drop} | extra
    with pytest.raises(ConfigError) as exc:
        mailboxes(load_config(None, env))
    assert message in str(exc.value)


def test_mailbox_resolution_and_no_password_in_reprs() -> None:
    """A mailbox gets its derived (or configured) id; the password appears in no repr."""
    cfg = load_config(None, ENV)
    [box] = mailboxes(cfg)
    assert box.id == mailbox_id("acme", "imap.example.jp", 993, "sato@example.jp", "INBOX")
    assert box.endpoint.password == "hunter2-secret"
    for obj in (cfg, cfg.imap[0], box, box.endpoint):
        assert "hunter2" not in repr(obj)
    [named] = mailboxes(load_config(None, {**ENV, "SIGNALGATE_IMAP_0_ID": "sales-inbox"}))
    assert named.id == "sales-inbox"
