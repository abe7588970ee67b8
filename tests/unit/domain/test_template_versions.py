"""The template version state machine (pure): edits, submit/approve/reject, history, the API view."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.errors import BadRequest
from gateway.domain.template_versions import act, edit, history, is_live, public
from gateway.domain.templates import Conflict, new_template, parse_edit


def _sms(status: str = "approved", **extra: Any) -> dict[str, Any]:
    rec = new_template("t1", {"channel": "sms", "name": "n", "module": "deals", "body": "v1"})
    return rec | {"status": status} | extra


def test_an_edit_of_an_approved_template_is_a_draft_version_and_the_live_one_stays() -> None:
    stored = _sms(dlt_template_id="1" * 19)
    rec = edit(stored, {"body": "v2"}, None, submit=False)
    assert (rec["status"], rec["version"], rec["body"], rec["dlt_template_id"]) == ("approved", 1, "v1", "1" * 19)
    assert rec["candidate"] == {"body": "v2", "version": 2, "status": "draft"}
    assert public(rec)["draft"] == rec["candidate"] and "candidate" not in public(rec)
    again = edit(rec, {"body": "v2b"}, "new name", submit=False)  # a draft is edited in place
    assert again["candidate"]["version"] == 2 and again["candidate"]["body"] == "v2b" and again["name"] == "new name"
    assert edit(rec, {"body": "v2"}, None, submit=False) == rec  # no change
    pending = edit(rec, {}, None, submit=True)
    assert pending["candidate"]["status"] == "pending" and public(pending)["pending"]["version"] == 2


def test_approving_the_new_version_makes_it_live_and_retires_the_old() -> None:
    stored = edit(_sms(dlt_template_id="1" * 19), {"body": "v2"}, None, submit=True)
    live = act(stored, "approve", dlt="2" * 19)
    assert (live["status"], live["version"], live["body"], live["dlt_template_id"]) == ("approved", 2, "v2", "2" * 19)
    assert "candidate" not in live
    assert [(v["version"], v["status"]) for v in history(stored, live)] == [(1, "retired"), (2, "approved")]
    assert is_live(live, 2) and not is_live(live, 1)


def test_a_rejected_version_leaves_the_approved_one_and_the_next_edit_is_a_new_version() -> None:
    stored = edit(_sms(), {"body": "v2"}, None, submit=True)
    rejected = act(stored, "reject", reason="wording")
    assert (rejected["status"], rejected["version"], rejected["body"]) == ("approved", 1, "v1")
    assert rejected["candidate"] == {"body": "v2", "version": 2, "status": "rejected", "reject_reason": "wording"}
    assert public(rejected)["draft"]["status"] == "rejected"
    nxt = edit(rejected, {"body": "v3"}, None, submit=False)
    assert nxt["candidate"] == {"body": "v3", "version": 3, "status": "draft"}
    assert [(v["version"], v["status"]) for v in history(rejected, nxt)] == [(1, "approved"), (2, "rejected"),
                                                                           (3, "draft")]  # fmt: skip
    resubmitted = act(rejected, "submit")  # a rejected version may be submitted again as it is
    assert resubmitted["candidate"]["status"] == "pending" and "reject_reason" not in resubmitted["candidate"]


def test_editing_a_pending_version_withdraws_it() -> None:
    stored = edit(_sms(), {"body": "v2"}, None, submit=True)
    rec = edit(stored, {"body": "v3"}, None, submit=False)
    assert rec["candidate"]["version"] == 3
    assert [(v["version"], v["status"]) for v in history(stored, rec)] == [(1, "approved"), (2, "withdrawn"),
                                                                         (3, "draft")]  # fmt: skip


def test_before_the_first_approval_the_template_itself_changes() -> None:
    draft = _sms("draft")
    rec = edit(draft, {"body": "v1b"}, None, submit=True)
    assert (rec["status"], rec["version"], rec["body"]) == ("pending", 2, "v1b") and "candidate" not in rec
    assert act(rec, "approve")["status"] == "approved"
    rejected = act(rec, "reject", reason="x")
    assert rejected["status"] == "rejected" and rejected["reject_reason"] == "x"
    assert "reject_reason" not in act(rejected, "submit")
    assert not is_live(draft, 1)


@pytest.mark.parametrize(
    ("rec", "action"),
    [
        (_sms("draft"), "approve"),
        (_sms("draft"), "reject"),
        (_sms(), "approve"),  # approved, nothing new pending
        (_sms(), "submit"),
        (edit(_sms(), {"body": "v2"}, None, submit=False), "approve"),  # the new version is a draft
        (new_template("e", {"channel": "email", "name": "n", "module": "m", "body": "b", "subject": "s"}), "submit"),
    ],
)
def test_invalid_transitions_are_conflicts(rec: dict[str, Any], action: str) -> None:
    with pytest.raises(Conflict):
        act(rec, action)


def test_submit_with_nothing_new_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        edit(_sms(), {}, None, submit=True)


def test_email_edits_are_live_at_once() -> None:
    rec = new_template("e", {"channel": "email", "name": "n", "module": "m", "body": "b1", "subject": "s"})
    new = edit(rec, {"body": "b2"}, None, submit=False)
    assert (new["version"], new["status"], new["body"]) == (2, "approved", "b2")
    assert [(v["version"], v["status"]) for v in history(rec, new)] == [(1, "retired"), (2, "approved")]
    assert is_live(new, 2)


def test_parse_edit_checks_fields() -> None:
    stored = _sms()
    assert parse_edit(stored, {"body": "x", "submit": True}).submit is True
    bad: Any
    for bad in ({"module": "other"}, {"channel": "email"}, {"subject": "s"}, {"submit": "yes"}, {"x": 1}, []):
        with pytest.raises(BadRequest):
            parse_edit(stored, bad)
