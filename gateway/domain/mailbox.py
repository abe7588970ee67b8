"""Where an IMAP mailbox's listener stands: the checkpoint value. Pure.

The rules that read and move it are in :mod:`gateway.ingest.imap.rules`; Redis keeps it per
mailbox (:mod:`gateway.store.mailboxes`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Checkpoint:
    """Every message of ``uidvalidity`` up to ``uid`` is handled; ``high_water_ms`` is the newest
    INTERNALDATE among them (None until something was processed)."""

    uidvalidity: int
    uid: int
    high_water_ms: int | None = None
