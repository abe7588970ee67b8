"""The summary line and exit code of ``signalgate reseal``."""

from __future__ import annotations

from gateway.domain.reseal import ResealSummary


def test_nothing_to_do_is_exit_0() -> None:
    summary = ResealSummary()
    assert summary.line() == "resealed 0 values in 0 orgs; 0 values open under no key"
    assert summary.exit_code == 0


def test_counts_values_and_orgs_and_names_what_opens_under_no_key() -> None:
    summary = ResealSummary()
    summary.add("acme", 2, [])
    summary.add("acme", 1, [])
    summary.add("beta", 0, ["twilio.auth_token"])
    summary.add("gamma", 1, ["mailbox.m1.password"])
    assert summary.line() == (
        "resealed 4 values in 2 orgs; 2 values open under no key: beta/twilio.auth_token, gamma/mailbox.m1.password"
    )
    assert summary.exit_code == 1
