"""When an inbound call a call flow handled is a missed call. Pure.

A flow answers every call to its number with TwiML, so Twilio's final status of such a call is
``completed`` even when no rep ever spoke to the caller. Such a call is **missed** when it ends and
nobody took it: no ``<Dial>`` of a ``ring`` step was answered (``DialCallStatus``
completed/answered), no queue member accepted the caller, and no voicemail was left (a voicemail
already makes ``call.voicemail``; it does not also make ``call.missed``).

The gateway marks "someone took it" per call when it happens (:func:`dial_taken`,
:func:`voicemail_left`, a queue accept); the router reads the mark at the call's final status
(:func:`flow_call_ended`) and, when there is none, marks the log row ``missed`` and sends
``call.missed`` to the caller's contact's owner, like any missed call.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.domain.call_flow_run import ANSWERED

# What the mark says (one word per way of taking the call, for whoever reads Redis).
TAKEN_BY_DIAL = "dial"
TAKEN_BY_QUEUE = "queue"
TAKEN_BY_VOICEMAIL = "voicemail"


def dial_taken(dial_status: str | None) -> bool:
    """Whether a ring step's ``<Dial action>`` says a rung member answered."""
    return dial_status in ANSWERED


def voicemail_left(params: Mapping[str, str]) -> bool:
    """Whether a ``<Record>`` callback (its action, or the recording status callback) says a
    message was recorded: a recording URL, not an empty one, not a failed or absent recording."""
    if not params.get("RecordingUrl"):
        return False
    if params.get("RecordingStatus", "completed") != "completed":
        return False
    return params.get("RecordingDuration") != "0"


def flow_call_ended(params: Mapping[str, str]) -> bool:
    """Whether a ``voice-status`` callback is the final status of an inbound call that a flow may
    have answered (``completed``: any other end is a missed call by the status alone)."""
    return params.get("Direction", "inbound") == "inbound" and params.get("CallStatus") == "completed"
