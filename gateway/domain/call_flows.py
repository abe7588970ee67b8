"""Call flows: the draft an admin saves, checked step by step. Pure.

A flow is ``{"name", "description", "number", "enabled", "steps": [...]}``; the steps run in order
(SPEC "Telephony"): ``say`` (+ ``language``), ``hours`` (``open`` windows in the org's time zone,
``closed`` steps that run instead of the rest), ``ring`` (``users`` or ``group``, ``strategy``,
``timeout``), ``queue`` (``group``, ``hold_music``, ``max_wait``, ``timeout``, ``message``,
``whisper``, ``language``: the caller waits in a Twilio queue while the group's members are called,
and a member who answers hears ``whisper``, or a fixed text in the step's language, before pressing 1),
``voicemail`` (``user``, ``prompt``, ``max_length``) and ``hangup``.

:func:`validate_flow` returns the normalised draft (defaults filled in, ``strategy``/``timeout`` of a
``ring`` always beside it) or raises :class:`InvalidFlow` whose detail starts with the path of the
offending value (``steps[2].ring.group``, ``steps[0].hours.open[1].from``).
:func:`check_references` then checks the users, groups and number it names against a
:class:`Known`, so this module does not care where they come from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gateway.domain.errors import BadRequest
from gateway.domain.phones import InvalidPhone, to_e164
from gateway.domain.tenancy import RECORD_ID

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Twilio <Say> languages (the languages of its standard voices); a flow speaks one of them.
LANGUAGES = frozenset(
    (
        "ca-ES", "da-DK", "de-DE", "en-AU", "en-CA", "en-GB", "en-IN", "en-US", "es-ES", "es-MX",
        "fi-FI", "fr-CA", "fr-FR", "it-IT", "ja-JP", "ko-KR", "nb-NO", "nl-NL", "pl-PL", "pt-BR",
        "pt-PT", "ru-RU", "sv-SE", "zh-CN", "zh-HK", "zh-TW",
    )
)  # fmt: skip
DEFAULT_LANGUAGE = "ja-JP"
STRATEGIES = ("simultaneous", "sequential")
STEP_TYPES = ("say", "hours", "ring", "queue", "voicemail", "hangup")
DEFAULT_TIMEOUT = 20
TIMEOUT_RANGE = (5, 600)  # seconds a ring waits (per member when sequential)
DEFAULT_MAX_LENGTH = 120
MAX_LENGTH_RANGE = (1, 3600)  # seconds of a voicemail (Twilio's <Record maxLength> allows up to 4 h)
DEFAULT_MAX_WAIT = 300
MAX_WAIT_RANGE = (10, 1800)  # seconds a caller waits in a queue before the flow goes on
MAX_URL = 1024  # a queue's hold music (an https URL Twilio <Play>s)
# Twilio reads at most 4,096 characters in one <Say>.
MAX_TEXT = 4096
# What a queue member hears before pressing 1: said inside a <Gather> that waits only a few seconds
# after it, so a short sentence, not a message.
MAX_WHISPER = 300
# Bounds that keep one flow (and the TwiML of one request) small.
MAX_STEPS = 50
MAX_DEPTH = 4  # hours inside a closed branch inside a closed branch ...
MAX_MEMBERS = 50
MAX_WINDOWS = 20
MAX_NAME = 200
MAX_DESCRIPTION = 2000
_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
_FLOW_KEYS = frozenset({"name", "description", "number", "enabled", "steps"})


class InvalidFlow(BadRequest):
    """A draft the gateway refuses: ``detail`` starts with the path of the offending value."""

    code = "invalid_flow"

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class Known:
    """What a flow may name: the org's user ids, group ids and numbers (E.164)."""

    users: frozenset[str]
    groups: frozenset[str]
    numbers: frozenset[str]


@dataclass(frozen=True)
class FlowInput:
    """A validated PUT body: the draft to store and the live switch (None: leave it as it is)."""

    draft: dict[str, Any]
    enabled: bool | None


def validate_flow(body: Any, region: str | None = None) -> FlowInput:
    """The PUT body as a draft, or :class:`InvalidFlow` naming the first bad value's path.

    Only the shape: whether the users, groups and number it names exist is
    :func:`check_references`' question (the caller looks them up)."""
    if not isinstance(body, dict):
        raise InvalidFlow("body", "must be a JSON object")
    unknown = sorted(set(body) - _FLOW_KEYS)
    if unknown:
        raise InvalidFlow(unknown[0], f"unknown field; a flow has {', '.join(sorted(_FLOW_KEYS))}")
    name = _text(body.get("name"), "name", MAX_NAME, required=True)
    description = _text(body.get("description", ""), "description", MAX_DESCRIPTION)
    number = _number(body.get("number"), region)
    enabled = body.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidFlow("enabled", "must be true or false")
    steps = _steps(body.get("steps"), "steps", 1)
    return FlowInput({"name": name, "description": description, "number": number, "steps": steps}, enabled)


def check_references(draft: dict[str, Any], known: Known) -> None:
    """Every user, group and number the draft names still exists (checked again on publish)."""
    if draft["number"] not in known.numbers:
        raise InvalidFlow("number", f"{draft['number']} is not one of the org's numbers")
    for path, kind, ref in references(draft["steps"]):
        pool = known.users if kind == "user" else known.groups
        if ref not in pool:
            raise InvalidFlow(path, f"unknown {kind} {ref!r}")


def references(steps: list[dict[str, Any]], prefix: str = "steps") -> Iterator[tuple[str, str, str]]:
    """(path, "user" | "group", id) of every user and group a (validated) step list names."""
    for i, step in enumerate(steps):
        here = f"{prefix}[{i}]"
        if "ring" in step:
            ring = step["ring"]
            if "group" in ring:
                yield f"{here}.ring.group", "group", ring["group"]
            for j, user in enumerate(ring.get("users", [])):
                yield f"{here}.ring.users[{j}]", "user", user
        elif "voicemail" in step:
            yield f"{here}.voicemail.user", "user", step["voicemail"]["user"]
        elif "queue" in step:
            yield f"{here}.queue.group", "group", step["queue"]["group"]
        elif "hours" in step:
            yield from references(step["hours"]["closed"], f"{here}.hours.closed")


# -- fields ------------------------------------------------------------------------------------
def _text(value: Any, path: str, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidFlow(path, "must be a non-empty string" if required else "must be a string")
    if len(value) > limit:
        raise InvalidFlow(path, f"must be at most {limit} characters")
    return value


def _number(value: Any, region: str | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidFlow("number", "must be one of the org's numbers (E.164)")
    try:
        return to_e164(value, region)
    except InvalidPhone:
        raise InvalidFlow("number", f"{value!r} is not a phone number") from None


def _int(value: Any, path: str, bounds: tuple[int, int]) -> int:
    lo, hi = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidFlow(path, f"must be an integer from {lo} to {hi}")
    return value


def _id(value: Any, path: str) -> str:
    if not isinstance(value, str) or not RECORD_ID.fullmatch(value):
        raise InvalidFlow(path, "must be an id")
    return value


def _object(value: Any, path: str, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidFlow(path, "must be an object")
    extra = sorted(set(value) - allowed)
    if extra:
        raise InvalidFlow(f"{path}.{extra[0]}", f"unknown field; allowed: {', '.join(sorted(allowed))}")
    return value


# -- steps -------------------------------------------------------------------------------------
def _steps(value: Any, path: str, depth: int, *, allow_empty: bool = False) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidFlow(path, "must be a list of steps")
    if not value and not allow_empty:
        raise InvalidFlow(path, "needs at least one step")
    if len(value) > MAX_STEPS:
        raise InvalidFlow(path, f"at most {MAX_STEPS} steps")
    return [_step(step, f"{path}[{i}]", depth) for i, step in enumerate(value)]


def _step(value: Any, path: str, depth: int) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise InvalidFlow(path, f"empty or malformed step; a step is one of {', '.join(STEP_TYPES)}")
    kinds = [k for k in STEP_TYPES if k in value]
    if len(kinds) != 1:
        what = "names no step type" if not kinds else f"names {len(kinds)} step types ({', '.join(kinds)})"
        raise InvalidFlow(path, f"{what}; a step is exactly one of {', '.join(STEP_TYPES)}")
    kind = kinds[0]
    if kind == "say":
        return _say(value, path)
    if kind == "hours":
        return _hours(value, path, depth)
    if kind == "ring":
        return _ring(value, path)
    if kind == "voicemail":
        return _voicemail(value, path)
    if kind == "queue":
        return _queue(value, path)
    _object(value, path, frozenset({"hangup"}))
    if value["hangup"] is not True:
        raise InvalidFlow(f"{path}.hangup", "must be true")
    return {"hangup": True}


def _language(value: Any, path: str) -> str:
    if value not in LANGUAGES:
        raise InvalidFlow(path, f"must be one of Twilio's <Say> languages ({', '.join(sorted(LANGUAGES))})")
    return str(value)


def _say(value: dict[str, Any], path: str) -> dict[str, Any]:
    _object(value, path, frozenset({"say", "language"}))
    text = _text(value["say"], f"{path}.say", MAX_TEXT, required=True)
    return {"say": text, "language": _language(value.get("language", DEFAULT_LANGUAGE), f"{path}.language")}


def _hours(value: dict[str, Any], path: str, depth: int) -> dict[str, Any]:
    _object(value, path, frozenset({"hours"}))
    hours = _object(value["hours"], f"{path}.hours", frozenset({"open", "closed"}))
    windows = hours.get("open")
    if not isinstance(windows, list) or not windows:
        raise InvalidFlow(f"{path}.hours.open", "must be a non-empty list of {days, from, to}")
    if len(windows) > MAX_WINDOWS:
        raise InvalidFlow(f"{path}.hours.open", f"at most {MAX_WINDOWS} windows")
    open_ = [_window(w, f"{path}.hours.open[{i}]") for i, w in enumerate(windows)]
    if depth >= MAX_DEPTH:
        raise InvalidFlow(f"{path}.hours", f"hours nest at most {MAX_DEPTH} deep")
    closed = _steps(hours.get("closed", []), f"{path}.hours.closed", depth + 1, allow_empty=True)
    return {"hours": {"open": open_, "closed": closed}}


def _window(value: Any, path: str) -> dict[str, Any]:
    window = _object(value, path, frozenset({"days", "from", "to"}))
    days = window.get("days")
    if not isinstance(days, list) or not days:
        raise InvalidFlow(f"{path}.days", f"must be a non-empty list of {', '.join(DAYS)}")
    for i, day in enumerate(days):
        if day not in DAYS:
            raise InvalidFlow(f"{path}.days[{i}]", f"must be one of {', '.join(DAYS)}")
    bounds = {}
    for key in ("from", "to"):
        hhmm = window.get(key)
        if not isinstance(hhmm, str) or not _HHMM.fullmatch(hhmm):
            raise InvalidFlow(f"{path}.{key}", "must be a time HH:MM from 00:00 to 23:59")
        bounds[key] = hhmm
    if bounds["from"] >= bounds["to"]:
        raise InvalidFlow(f"{path}.to", f"must be after 'from' ({bounds['from']}); 'to' is exclusive")
    return {"days": sorted(set(days), key=DAYS.index), "from": bounds["from"], "to": bounds["to"]}


_RING_OPTIONS = frozenset({"strategy", "timeout"})


def _ring(value: dict[str, Any], path: str) -> dict[str, Any]:
    """``strategy`` and ``timeout`` beside ``ring`` (SPEC's form) or inside it; stored beside it."""
    _object(value, path, frozenset({"ring"}) | _RING_OPTIONS)
    ring = _object(value["ring"], f"{path}.ring", frozenset({"users", "group"}) | _RING_OPTIONS)
    options: dict[str, tuple[str, Any]] = {}
    for key in _RING_OPTIONS:
        for where, source in ((f"{path}.{key}", value), (f"{path}.ring.{key}", ring)):
            if key in source:
                if key in options:
                    raise InvalidFlow(where, f"'{key}' is given twice (beside and inside 'ring')")
                options[key] = (where, source[key])
    if ("users" in ring) == ("group" in ring):
        raise InvalidFlow(f"{path}.ring", "must name either 'users' or 'group'")
    who: dict[str, Any]
    if "group" in ring:
        who = {"group": _id(ring["group"], f"{path}.ring.group")}
    else:
        users = ring["users"]
        if not isinstance(users, list) or not users or len(users) > MAX_MEMBERS:
            raise InvalidFlow(f"{path}.ring.users", f"must be a list of 1 to {MAX_MEMBERS} user ids")
        ids = [_id(u, f"{path}.ring.users[{i}]") for i, u in enumerate(users)]
        if len(set(ids)) != len(ids):
            raise InvalidFlow(f"{path}.ring.users", "names a user twice")
        who = {"users": ids}
    where, strategy = options.get("strategy", (f"{path}.strategy", STRATEGIES[0]))
    if strategy not in STRATEGIES:
        raise InvalidFlow(where, f"must be one of {', '.join(STRATEGIES)}")
    where, timeout = options.get("timeout", (f"{path}.timeout", DEFAULT_TIMEOUT))
    return {"ring": who, "strategy": strategy, "timeout": _int(timeout, where, TIMEOUT_RANGE)}


def _voicemail(value: dict[str, Any], path: str) -> dict[str, Any]:
    _object(value, path, frozenset({"voicemail"}))
    here = f"{path}.voicemail"
    vm = _object(value["voicemail"], here, frozenset({"user", "prompt", "max_length", "language"}))
    out: dict[str, Any] = {"user": _id(vm.get("user"), f"{here}.user")}
    if vm.get("prompt") is not None:
        out["prompt"] = _text(vm["prompt"], f"{here}.prompt", MAX_TEXT)
    out["max_length"] = _int(vm.get("max_length", DEFAULT_MAX_LENGTH), f"{here}.max_length", MAX_LENGTH_RANGE)
    out["language"] = _language(vm.get("language", DEFAULT_LANGUAGE), f"{here}.language")
    return {"voicemail": out}


_QUEUE_KEYS = frozenset({"group", "hold_music", "max_wait", "timeout", "message", "whisper", "language"})


def _queue(value: dict[str, Any], path: str) -> dict[str, Any]:
    _object(value, path, frozenset({"queue"}))
    here = f"{path}.queue"
    q = _object(value["queue"], here, _QUEUE_KEYS)
    out: dict[str, Any] = {"group": _id(q.get("group"), f"{here}.group")}
    if q.get("hold_music") is not None:
        out["hold_music"] = _https_url(q["hold_music"], f"{here}.hold_music")
    out["max_wait"] = _int(q.get("max_wait", DEFAULT_MAX_WAIT), f"{here}.max_wait", MAX_WAIT_RANGE)
    out["timeout"] = _int(q.get("timeout", DEFAULT_TIMEOUT), f"{here}.timeout", TIMEOUT_RANGE)
    if q.get("message") is not None:
        out["message"] = _text(q["message"], f"{here}.message", MAX_TEXT, required=True)
    if q.get("whisper") is not None:
        out["whisper"] = _text(q["whisper"], f"{here}.whisper", MAX_WHISPER, required=True)
    out["language"] = _language(q.get("language", DEFAULT_LANGUAGE), f"{here}.language")
    return {"queue": out}


def _https_url(value: Any, path: str) -> str:
    """An absolute https URL (what Twilio fetches to <Play>), without spaces or control characters."""
    if not isinstance(value, str) or len(value) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in value):
        raise InvalidFlow(path, f"must be an https URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise InvalidFlow(path, "must be an https URL") from None
    if parts.scheme != "https" or not parts.hostname:
        raise InvalidFlow(path, "must be an https URL")
    return value
