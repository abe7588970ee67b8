"""A queue member's whisper, the accept digit, and when a cancelled leg must be completed."""

from __future__ import annotations

import pytest

from gateway.domain.call_queue import (
    HANG_UP_RETRY_DELAYS,
    Spoken,
    accepted,
    needs_completing,
    retry_hang_up,
    too_late,
    whisper,
)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ja-JP", Spoken("お客様からのお電話です。1を押すと応答します。", "ja-JP")),
        ("en-GB", Spoken("You have a caller waiting. Press 1 to answer.", "en-GB")),
        ("fr-FR", Spoken("You have a caller waiting. Press 1 to answer.", "en-US")),  # no French text: English
    ],
)
def test_the_whisper_speaks_the_steps_language_or_english(language: str, expected: Spoken) -> None:
    assert whisper(language) == expected


def test_the_steps_own_whisper_replaces_the_fixed_one_in_the_steps_language() -> None:
    assert whisper("ja-JP", "サポート窓口のお客様です。1を押してください。") == Spoken(
        "サポート窓口のお客様です。1を押してください。", "ja-JP"
    )
    assert whisper("fr-FR", "Un client attend. Appuyez sur 1.") == Spoken("Un client attend. Appuyez sur 1.", "fr-FR")


def test_too_late_is_said_in_the_same_language() -> None:
    assert too_late("ja-JP").language == "ja-JP" and "他の担当者" in too_late("ja-JP").text
    assert too_late("de-DE") == Spoken("This call has already been answered or has ended.", "en-US")


@pytest.mark.parametrize(("digits", "taken"), [("1", True), ("2", False), ("11", False), ("", False), (None, False)])
def test_only_1_takes_the_caller(digits: str | None, taken: bool) -> None:
    assert accepted(digits) is taken


@pytest.mark.parametrize(
    ("status", "complete"),
    [("in-progress", True), ("canceled", False), ("completed", False), ("ringing", False), ("no-answer", False)],
)
def test_only_an_answered_leg_needs_completing_after_a_cancel(status: str, complete: bool) -> None:
    assert needs_completing(status) is complete


@pytest.mark.parametrize("status", [None, 429, 500, 502, 503])
def test_a_leg_that_twilio_did_not_end_for_a_passing_reason_is_tried_again_a_bounded_number_of_times(
    status: int | None,
) -> None:
    assert [retry_hang_up(attempt, status) for attempt in (1, 2, 3, 4)] == [*HANG_UP_RETRY_DELAYS, None, None]
    assert len(HANG_UP_RETRY_DELAYS) == 2 and all(d > 0 for d in HANG_UP_RETRY_DELAYS)


@pytest.mark.parametrize("status", [400, 401, 404])
def test_a_refusal_that_will_not_change_is_not_retried(status: int) -> None:
    assert retry_hang_up(1, status) is None
