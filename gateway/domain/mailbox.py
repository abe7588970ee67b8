"""Where an IMAP mailbox's listener stands: the checkpoint value, its id and its reported state. Pure.

The rules that read and move it are in :mod:`gateway.ingest.imap.rules`; Redis keeps it per
mailbox (:mod:`gateway.store.mailboxes`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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
# Longest error text kept: server answers are echoed into it, and nothing bigger needs showing.
MAX_ERROR_CHARS = 300


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
        "last_error": state.get("error") or None,
        "last_error_ms": _int_or_none(state.get("error_ms")),
        "last_uid": _int_or_none(checkpoint.get("uid")),
        "uidvalidity": _int_or_none(checkpoint.get("uidvalidity")),
    }
