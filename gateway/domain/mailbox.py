"""Where an IMAP mailbox's listener stands: the checkpoint value, its id and its reported state. Pure.

The rules that read and move it are in :mod:`gateway.ingest.imap.rules`; Redis keeps it per
mailbox (:mod:`gateway.store.mailboxes`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.domain.errors import BadRequest
from gateway.domain.hosts import is_host, is_public_address, literal_address
from gateway.domain.tenancy import RECORD_ID


@dataclass(frozen=True)
class Checkpoint:
    """Every message of ``uidvalidity`` up to ``uid`` is handled; ``high_water_ms`` is the newest
    INTERNALDATE among them (None until something was processed)."""

    uidvalidity: int
    uid: int
    high_water_ms: int | None = None


# What a mailbox's listener is doing, as ``GET /api/v1/orgs/{org}/mailboxes`` shows it (SPEC
# "Mailboxes"): ``connecting`` (a session is starting, or nothing was recorded yet), ``idle`` (caught
# up, waiting in IDLE), ``auth_failed`` (LOGIN refused), ``tls_failed`` (the TLS handshake or
# certificate check failed), ``backoff`` (any other failure; reconnecting after a delay).
MAILBOX_STATES = ("idle", "connecting", "auth_failed", "tls_failed", "backoff")
# Longest error text kept and shown: server answers are echoed into it, so it is an excerpt only.
MAX_ERROR_CHARS = 200
# Anything but printable text: C0/C1 controls, line and paragraph separators, format characters.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+")


def error_excerpt(text: str) -> str:
    """``text`` (an error that may quote what a server said) as a short, printable, single line:
    control characters become spaces, runs of spaces one, at most :data:`MAX_ERROR_CHARS`."""
    line = " ".join(_UNPRINTABLE.sub(" ", text).split())
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"


def mailbox_id(org: str, host: str, port: int, username: str, folder: str) -> str:
    """Stable id of a mailbox: the same entry in any process (or after a restart) gets the same
    lease and checkpoint. Hashing keeps user names and hosts out of Redis key names."""
    digest = hashlib.sha256(f"{org}\0{host.lower()}\0{port}\0{username}\0{folder}".encode()).hexdigest()
    return "mb-" + digest[:16]


def _int_or_none(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() else None


def mailbox_status(state: Mapping[str, str], checkpoint: Mapping[str, str]) -> dict[str, Any]:
    """The listener's recorded state hash and checkpoint hash as the API shows them: ``state``,
    ``state_since_ms``, ``last_error`` and ``last_error_ms`` (None until a failure), ``last_uid`` and
    ``uidvalidity`` (None until the first checkpoint)."""
    name = state.get("state", "")
    return {
        "state": name if name in MAILBOX_STATES else "connecting",
        "state_since_ms": _int_or_none(state.get("since_ms")),
        "last_error": error_excerpt(state.get("error") or "") or None,
        "last_error_ms": _int_or_none(state.get("error_ms")),
        "last_uid": _int_or_none(checkpoint.get("uid")),
        "uidvalidity": _int_or_none(checkpoint.get("uidvalidity")),
    }


# -- mailboxes added through the API (SPEC "Mailboxes") ------------------------------------------
MODES = ("inbox", "sent", "dropbox")
TLS_MODES = ("implicit", "starttls", "none")
DEFAULT_PORT = {"implicit": 993, "starttls": 143, "none": 143}
# Mailboxes one org may add through the API (each is a connection held open by some process).
MAX_API_MAILBOXES = 20
_MAILBOX_FIELDS = {"user", "host", "port", "tls", "username", "password", "folder", "mode"}
_SETTING_FIELDS = ("user", "host", "port", "tls", "username", "folder", "mode")
# What names a mailbox's UID space: a checkpoint never carries over a change of any of these.
IDENTITY_FIELDS = ("host", "port", "username", "folder")
# A folder name sent in SELECT as a quoted string: printable ASCII without quote or backslash.
_FOLDER = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,200}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def new_mailbox_id(random_hex: str) -> str:
    """Id of a mailbox added through the API (``mbx-``: never one of the ``mb-`` config ids)."""
    return "mbx-" + random_hex[:16]


def _text(body: Mapping[str, Any], key: str, max_len: int) -> str:
    value = body[key]
    if not isinstance(value, str) or not value or len(value) > max_len or _CONTROL.search(value):
        raise BadRequest(
            f"'{key}' must be a string of 1-{max_len} characters without control characters", code="invalid_field"
        )
    return value


def _check_shape(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object", code="invalid_body")
    unknown = sorted(set(body) - _MAILBOX_FIELDS)
    if unknown:
        raise BadRequest(f"unknown mailbox field(s): {', '.join(unknown)}", code="unknown_field")
    return body


def _settings(body: Mapping[str, Any], *, allow_private: bool) -> dict[str, Any]:
    """The checked settings of ``body`` (every key but ``password`` is present, defaults applied;
    ``password`` only when ``body`` has one)."""
    user = body["user"]
    if not isinstance(user, str) or not RECORD_ID.fullmatch(user):
        raise BadRequest(f"'user' must be a user id matching {RECORD_ID.pattern}", code="invalid_field")
    if not is_host(body["host"]):
        raise BadRequest("'host' must be a host name or an IP address", code="invalid_field")
    literal = literal_address(body["host"])
    if not allow_private and literal is not None and not is_public_address(literal):
        raise BadRequest(
            f"'host' {body['host']} is not a public address (loopback, private, link-local, shared or reserved "
            "addresses are refused; the operator may allow them with [mailboxes] allow_private_hosts)",
            code="invalid_field",
        )
    tls = body.get("tls", "implicit")
    if tls not in TLS_MODES:
        raise BadRequest(f"'tls' must be one of {', '.join(TLS_MODES)}", code="invalid_field")
    port = body.get("port", DEFAULT_PORT[tls])
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise BadRequest("'port' must be an integer from 1 to 65535", code="invalid_field")
    mode = body.get("mode", "inbox")
    if mode not in MODES:
        raise BadRequest(f"'mode' must be one of {', '.join(MODES)}", code="invalid_field")
    folder = body.get("folder", "INBOX")
    if not isinstance(folder, str) or not _FOLDER.fullmatch(folder):
        raise BadRequest(
            "'folder' must be 1-200 printable ASCII characters without quotes or backslashes", code="invalid_field"
        )
    out = {
        "user": user,
        "host": str(body["host"]).lower(),
        "port": port,
        "tls": tls,
        "username": _text(body, "username", 254),
        "folder": folder,
        "mode": mode,
    }
    if "password" in body:
        out["password"] = _text(body, "password", 256)
    return out


def validate_mailbox(
    org: str, mailbox: str, body: Any, created_ms: int, *, allow_private: bool = False
) -> dict[str, Any]:
    """A ``POST .../mailboxes`` body as the stored record (with its password; see :func:`public_mailbox`).

    Only the shape is checked (host name or IP literal, port, TLS mode, mode, folder): nothing is
    connected to here. The listener that takes the mailbox connects, and a host that does not
    answer leaves it in ``backoff``. ``user`` must be checked to exist by the caller.

    Unless ``allow_private`` (``[mailboxes] allow_private_hosts``), a host that is an address
    (IP literal or an old numeric IPv4 form) must be a public one
    (:func:`gateway.domain.hosts.is_public_address`); a name is checked when the listener resolves it."""
    body = _check_shape(body)
    for key in ("user", "host", "username", "password"):
        if key not in body:
            raise BadRequest(f"'{key}' is required", code="invalid_field")
    return {"id": mailbox, "org": org, **_settings(body, allow_private=allow_private), "created_ms": created_ms}


def patch_mailbox(rec: Mapping[str, Any], body: Any, *, allow_private: bool = False) -> tuple[dict[str, Any], bool]:
    """A stored API mailbox with a ``PATCH .../mailboxes/{id}`` body applied: (the new record, whether
    its UID space moved). Any of the POST fields may be given; the result is checked exactly as a
    POST of the whole mailbox would be (so a host that is a non-public address is refused unless
    ``allow_private``). A ``password`` in ``body`` replaces the stored one (in plain text here: the
    store seals it); without one the stored value is kept.

    The UID space is the server's folder as this login sees it (:data:`IDENTITY_FIELDS`): when one
    of those changes, the old checkpoint means nothing there. The record's ``epoch`` then moves on,
    and the listener trusts only a checkpoint written in the same epoch (and names its events'
    dedupe ids with it), so the new folder is started fresh — its existing mail is history, as for a
    new mailbox — and no UID of the old folder is ever taken for one of the new."""
    body = _check_shape(body)
    stored = {key: rec[key] for key in _SETTING_FIELDS if key in rec}
    settings = _settings(stored | body, allow_private=allow_private)
    new = dict(rec) | settings
    moved = any(new.get(key) != rec.get(key) for key in IDENTITY_FIELDS)
    if moved:
        new["epoch"] = mailbox_epoch(rec) + 1
    return new, moved


def mailbox_epoch(rec: Mapping[str, Any]) -> int:
    """How often the mailbox's UID space moved (0: never; records older than PATCH have none)."""
    epoch = rec.get("epoch", 0)
    return epoch if isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 0 else 0


def public_mailbox(rec: Mapping[str, Any]) -> dict[str, Any]:
    """What an org admin sees of a stored API mailbox: never its password."""
    return {
        "id": rec["id"],
        "user": rec["user"],
        "host": rec["host"],
        "port": rec["port"],
        "tls": rec["tls"],
        "username": rec["username"],
        "folder": rec["folder"],
        "mode": rec["mode"],
        "source": "api",
        "password_set": bool(rec.get("password")),
    }
