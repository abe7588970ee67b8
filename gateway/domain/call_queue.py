"""A queue step's member calls ("legs"): the whisper a member hears, who takes the caller, which
legs to hang up. Pure.

The gateway has Twilio call every member of the queue's group (:mod:`gateway.ingest.call_flows`).
A member's phone may be answered by a machine (their own voicemail), so an answered leg does not
take the caller at once: it hears a short whisper in a ``<Gather>`` and only a person pressing
:data:`ACCEPT_DIGIT` dials the caller's queue. The first leg to accept wins the caller and every
other leg is ended through Twilio's REST API (:func:`needs_completing`); the caller leaving the
queue (``QueueResult`` leave, hangup, …) settles the wait too, and every leg is ended.

The legs are ended after the answer has gone out (the caller is bridged first): a refusal Twilio
may take back (no answer, 429, 5xx) is tried again after :data:`HANG_UP_RETRY_DELAYS`
(:func:`retry_hang_up`); a leg that stays up rings out on its own and can never take the caller,
since only the first accept wins.
"""

from __future__ import annotations

from dataclasses import dataclass

ACCEPT_DIGIT = "1"
# Seconds the <Gather> waits for the digit once the whisper is spoken; then the leg hangs up.
WHISPER_TIMEOUT = 10
WHISPERS = {
    "ja": "お客様からのお電話です。1を押すと応答します。",
    "en": "You have a caller waiting. Press 1 to answer.",
}
# Said to a member who accepts too late: another member took the caller, or the caller left.
TOO_LATE = {
    "ja": "このお電話は、他の担当者が応答したか、すでに切れています。",
    "en": "This call has already been answered or has ended.",
}
# Twilio's status of a call that is answered: ``canceled`` does not end it, ``completed`` does.
IN_PROGRESS = "in-progress"
# Seconds between the tries to end one leg: three tries in all, the last 2.5 s after the first.
HANG_UP_RETRY_DELAYS = (0.5, 2.0)


@dataclass(frozen=True)
class Spoken:
    text: str
    language: str


def _spoken(texts: dict[str, str], language: str) -> Spoken:
    """``texts`` in the step's language: Japanese for ``ja-*``, else English (in the step's voice
    when it is an English one, ``en-US`` otherwise)."""
    if language.lower().startswith("ja"):
        return Spoken(texts["ja"], language)
    return Spoken(texts["en"], language if language.lower().startswith("en") else "en-US")


def whisper(language: str, text: str | None = None) -> Spoken:
    """What an answered leg hears before it may take the caller: the queue step's own ``whisper``
    text in the step's language when it has one, else the fixed one (:data:`WHISPERS`)."""
    if text is not None:
        return Spoken(text, language)
    return _spoken(WHISPERS, language)


def too_late(language: str) -> Spoken:
    """What a leg that accepted after the wait was settled hears before it hangs up."""
    return _spoken(TOO_LATE, language)


def accepted(digits: str | None) -> bool:
    """Whether the ``Digits`` a member pressed take the caller (exactly :data:`ACCEPT_DIGIT`)."""
    return digits == ACCEPT_DIGIT


def needs_completing(status_after_cancel: str) -> bool:
    """Whether a leg still lives after ``Status=canceled`` (Twilio cancels only a queued or ringing
    call): an answered one must be ended with ``Status=completed``."""
    return status_after_cancel == IN_PROGRESS


def retry_hang_up(attempt: int, status: int | None) -> float | None:
    """Seconds to wait before trying again to end a leg whose ``attempt``-th try (1-based) failed
    with Twilio's HTTP ``status`` (``None``: no answer, e.g. a timeout); ``None``: give up. Only a
    failure that may pass is retried (no answer, 429, 5xx), and at most
    ``len(HANG_UP_RETRY_DELAYS)`` times; any other 4xx (the call is gone, ...) will not change."""
    transient = status is None or status == 429 or status >= 500
    if not transient or attempt > len(HANG_UP_RETRY_DELAYS):
        return None
    return HANG_UP_RETRY_DELAYS[attempt - 1]
