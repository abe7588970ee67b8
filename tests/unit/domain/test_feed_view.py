"""gateway.domain.feed_view: list filters, views, paging bounds and snooze times (pure)."""

from __future__ import annotations

import pytest

from gateway.domain.feed_view import (
    MAX_SNOOZE_MS,
    BadFeedRequest,
    Filters,
    SignalState,
    parse_filters,
    parse_page,
    parse_until,
)

NOW = 1_764_000_000_000  # 2025-11-24T16:00:00Z


def test_defaults_are_the_inbox_unfiltered() -> None:
    assert parse_filters({}) == Filters("inbox", None, None, None)
    page = parse_page({}, 50)
    assert (page.after, page.before, page.limit, page.newest_first) == (None, None, 50, True)


def test_filters_parse_types_unread_contact_view() -> None:
    f = parse_filters({"type": "sms.received, desk.ticket", "unread": "false", "contact": "c9", "view": "all"})
    assert f == Filters("all", frozenset({"sms.received", "desk.ticket"}), False, "c9")
    assert parse_page({"after": "1-0", "before": "9-0"}, 5).newest_first is False


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"type": "sms.received,bogus"}, "unknown_type"),
        ({"type": ""}, "unknown_type"),
        ({"view": "INBOX"}, "invalid_parameter"),
        ({"unread": "1"}, "invalid_parameter"),
        ({"contact": ""}, "invalid_parameter"),
        ({"contact": "x" * 201}, "invalid_parameter"),
    ],
)
def test_bad_filters(params: dict[str, str], code: str) -> None:
    with pytest.raises(BadFeedRequest) as exc:
        parse_filters(params)
    assert exc.value.code == code


@pytest.mark.parametrize("name", ["after", "before"])
def test_bad_page_bounds(name: str) -> None:
    with pytest.raises(BadFeedRequest):
        parse_page({name: "12"}, 10)


def test_matching_by_body_and_state() -> None:
    body = {"type": "sms.received", "contact": {"id": "c1"}}
    assert Filters(types=frozenset({"sms.received"}), contact="c1").matches_body(body)
    assert not Filters(contact="c2").matches_body(body)
    assert not Filters(contact="c1").matches_body({"type": "sms.received", "contact": None})
    assert not Filters(types=frozenset({"desk.ticket"})).matches_body(body)
    inbox_unread = SignalState(unread=True, archived=False, snoozed=False)
    snoozed = SignalState(unread=False, archived=False, snoozed=True)
    assert Filters().matches_state(inbox_unread) and not Filters().matches_state(snoozed)
    assert Filters(view="snoozed").matches_state(snoozed)
    assert Filters(view="all", unread=True).matches_state(inbox_unread)
    assert not Filters(view="all", unread=True).matches_state(snoozed)
    assert SignalState(unread=True, archived=True, snoozed=False).view == "archived"


def test_until_with_offsets_and_null() -> None:
    assert parse_until("2025-11-24T17:00:00Z", NOW) == NOW + 3_600_000
    assert parse_until("2025-11-25T02:00:00+09:00", NOW) == NOW + 3_600_000
    assert parse_until(None, NOW) is None
    assert parse_until("2026-02-22T16:00:00+00:00", NOW) == NOW + MAX_SNOOZE_MS


@pytest.mark.parametrize(
    "value",
    [
        "2025-11-24T17:00:00",  # no offset
        "2025-11-24T16:00:00Z",  # now, not after it
        "2025-11-24T15:00:00Z",
        "2026-02-22T16:00:00.001+00:00",  # more than 90 days
        "soon",
        "",
        17,
        ["2025-11-24T17:00:00Z"],
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
    ],
)
def test_until_refused(value: object) -> None:
    with pytest.raises(BadFeedRequest) as exc:
        parse_until(value, NOW)
    assert exc.value.code == "invalid_until"
