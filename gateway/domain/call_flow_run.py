"""Running a published call flow for one call: which verbs Twilio gets now, and where it resumes. Pure.

A position in a flow is a :data:`Path`: ``(i,)`` is ``steps[i]``, ``(i, j)`` is
``steps[i].hours.closed[j]``, and so on. :func:`plan` runs steps from a position until Twilio has
to do something that ends the document — a ``<Dial>`` (its ``action`` callback resumes the flow),
a ``<Record>`` (likewise), an ``<Enqueue>`` (likewise, once the caller leaves the queue), a
hang-up, or the end of the steps (which hangs up: the ``closed`` branch of ``hours`` runs
*instead of* the rest, so its end is the end of the call). The verbs are
plain values; the ingest layer renders them with twilio's TwiML classes.

``hours`` are judged at ``now`` in the org's time zone (:func:`is_open`), so a test gives ``now``.

A ``queue`` step puts the caller in a Twilio queue of their own (:func:`queue_name`): the gateway
has Twilio call the group's members, each answering member's TwiML dials that queue (the first one
takes the caller), and while the caller waits Twilio fetches the wait document (:func:`waiting`):
hold music or a spoken message until ``max_wait``, then ``<Leave/>``. The ``<Enqueue action>``
callback goes on with the next step unless the caller was bridged or hung up (:func:`after_queue`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.domain.call_flows import DAYS

Path = tuple[int, ...]
# Steps one request may run before it must end in a verb (a flow of say/hours only is bounded by
# its size; this is the belt to those braces).
_MAX_STEPS_PER_PLAN = 500
# A <Dial> answered by the member (or still bridged when the member hung up) ends the flow; any
# other DialCallStatus (no-answer, busy, failed, canceled) goes on with the next step or member.
ANSWERED = frozenset({"completed", "answered"})
# The <Enqueue action>'s QueueResult after which the flow goes on: the caller left the queue
# (<Leave/> at max_wait), the queue was full, or Twilio failed; bridged, hangup, redirected and
# bridging-in-process end it.
QUEUE_GO_ON = frozenset({"leave", "queue-full", "error", "system-error"})
# The wait document's longest <Pause> (Twilio fetches the document again when it ends, so the wait
# is re-judged at least this often).
WAIT_PAUSE = 10
HOLD_MESSAGES = {
    "ja-JP": "ただいま電話が大変混み合っております。このままお待ちください。",
    "en": "All of our staff are busy at the moment. Please stay on the line.",
}


@dataclass(frozen=True)
class Resume:
    """Where the flow goes on when Twilio calls back: at ``path``, with the ``member``-th member
    of a sequential ring at ``path`` (0 = the step itself, from its start)."""

    path: Path
    member: int = 0


@dataclass(frozen=True)
class Say:
    text: str
    language: str


@dataclass(frozen=True)
class Dial:
    numbers: tuple[str, ...]
    timeout: int
    resume: Resume


@dataclass(frozen=True)
class Record:
    max_length: int
    user: str
    step: Path
    resume: Resume


@dataclass(frozen=True)
class Enqueue:
    """Wait in the call's queue (``step`` is the queue step, read again by the wait document) while
    ``numbers`` are called for ``timeout`` seconds each; Twilio resumes at ``resume`` afterwards."""

    numbers: tuple[str, ...]
    timeout: int
    step: Path
    resume: Resume


@dataclass(frozen=True)
class Play:
    url: str


@dataclass(frozen=True)
class Pause:
    length: int


@dataclass(frozen=True)
class Leave:
    pass


@dataclass(frozen=True)
class Hangup:
    pass


Verb = Say | Dial | Record | Enqueue | Play | Pause | Leave | Hangup


def is_open(windows: Sequence[Mapping[str, Any]], now: datetime, timezone: str) -> bool:
    """Whether ``now`` (aware) falls in one of the ``open`` windows in ``timezone`` (``to`` exclusive).

    An unknown zone reads as UTC (the org's zone is checked when it is saved)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    day, hhmm = DAYS[local.weekday()], local.strftime("%H:%M")
    return any(day in w["days"] and w["from"] <= hhmm < w["to"] for w in windows)


def _list_at(steps: list[dict[str, Any]], path: Path) -> list[dict[str, Any]]:
    """The step list holding ``path``'s last index (KeyError/IndexError/TypeError for a bad path)."""
    current = steps
    for index in path[:-1]:
        current = current[index]["hours"]["closed"]
    return current


class BadPosition(ValueError):
    """A resume position that does not exist in the flow (a token from another version)."""


def plan(
    steps: list[dict[str, Any]],
    start: Resume,
    *,
    opened: Callable[[Sequence[Mapping[str, Any]]], bool],
    phones: Callable[[Mapping[str, Any]], list[str]],
) -> list[Verb]:
    """The verbs from ``start`` on: ``opened(windows)`` judges ``hours``, ``phones(ring)`` gives
    the numbers a ``ring`` step rings, in order (members without a phone left out)."""
    if not start.path:
        raise BadPosition("empty path")
    try:
        current = _list_at(steps, start.path)
    except (KeyError, IndexError, TypeError):
        raise BadPosition(f"no step list at {start.path}") from None
    path, member = start.path, start.member
    verbs: list[Verb] = []
    for _ in range(_MAX_STEPS_PER_PLAN):
        if path[-1] >= len(current):
            break
        step = current[path[-1]]
        if "hangup" in step:
            break
        if "hours" in step and not opened(step["hours"]["open"]):
            current, path, member = step["hours"]["closed"], (*path, 0), 0
            continue
        if _run_step(step, path, member, phones, verbs):
            return verbs
        path, member = (*path[:-1], path[-1] + 1), 0
    verbs.append(Hangup())
    return verbs


def _run_step(
    step: dict[str, Any], path: Path, member: int, phones: Callable[[Mapping[str, Any]], list[str]], verbs: list[Verb]
) -> bool:
    """Add the verbs of one ``say``/``ring``/``voicemail`` step (an open ``hours`` adds none);
    True when they end the document (Twilio calls back to go on)."""
    following = Resume((*path[:-1], path[-1] + 1))
    if "say" in step:
        verbs.append(Say(step["say"], step["language"]))
    elif "ring" in step:
        numbers = phones(step["ring"])
        if step["strategy"] == "simultaneous" and numbers and member == 0:
            verbs.append(Dial(tuple(numbers), step["timeout"], following))
            return True
        if step["strategy"] == "sequential" and member < len(numbers):
            verbs.append(Dial((numbers[member],), step["timeout"], Resume(path, member + 1)))
            return True
    elif "queue" in step:
        queue = step["queue"]
        numbers = phones({"group": queue["group"]})
        if numbers:  # nobody to answer: the caller would only wait; go on at once
            verbs.append(Enqueue(tuple(numbers), queue["timeout"], path, following))
            return True
    elif "voicemail" in step:
        vm = step["voicemail"]
        if vm.get("prompt"):
            verbs.append(Say(vm["prompt"], vm["language"]))
        verbs.append(Record(vm["max_length"], vm["user"], path, following))
        return True
    return False


def after_dial(dial_status: str | None) -> bool:
    """Whether the flow goes on after a ``<Dial>`` that ended with ``dial_status``."""
    return dial_status not in ANSWERED


def after_queue(queue_result: str | None) -> bool:
    """Whether the flow goes on after an ``<Enqueue>`` whose caller left with ``queue_result``."""
    return queue_result in QUEUE_GO_ON


def queue_name(org: str, flow: str, call: str) -> str:
    """The Twilio queue of one call's wait: 34 safe characters (Twilio allows 64), the same for the
    caller's <Enqueue> and the members' <Dial><Queue>, another for every call."""
    return "sg" + hashlib.sha256(f"{org}\0{flow}\0{call}".encode()).hexdigest()[:32]


def step_at(steps: list[dict[str, Any]], path: Path) -> dict[str, Any]:
    """The step at ``path`` (:class:`BadPosition` when there is none)."""
    try:
        step = _list_at(steps, path)[path[-1]] if path else None
    except (KeyError, IndexError, TypeError):
        step = None
    if not isinstance(step, dict):
        raise BadPosition(f"no step at {path}")
    return step


def waiting(queue: Mapping[str, Any], queue_time: int) -> list[Verb]:
    """The wait document of a caller ``queue_time`` seconds in the queue of step ``queue``: hold
    music (or the message and a pause) until ``max_wait``, then ``<Leave/>`` (the flow goes on)."""
    remaining = int(queue["max_wait"]) - max(queue_time, 0)
    if remaining <= 0:
        return [Leave()]
    if queue.get("hold_music"):
        return [Play(str(queue["hold_music"]))]
    language = str(queue["language"])
    text = queue.get("message") or HOLD_MESSAGES.get(language) or HOLD_MESSAGES["en"]
    return [Say(str(text), language), Pause(min(WAIT_PAUSE, remaining))]
