"""Prometheus metrics of the IMAP listeners, registered on the process's registry.

Labelled by mailbox id (one per ``[[imap]]`` entry, so the label set stays small); the id is a
hash, never the user name or host.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class ImapMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        r = registry
        self.connected = Gauge(
            "signalgate_imap_mailboxes_connected",
            "1 while the mailbox has a live IMAP session",
            ["mailbox"],
            registry=r,
        )
        self.idle_restarts = Counter(
            "signalgate_imap_idle_restarts",
            "IDLE re-issued after its renew/heartbeat interval",
            ["mailbox"],
            registry=r,
        )
        self.reconnects = Counter(
            "signalgate_imap_reconnects", "IMAP sessions that failed or died and were retried", ["mailbox"], registry=r
        )
        self.messages = Counter(
            "signalgate_imap_messages_processed", "Messages turned into imap.mail events", ["mailbox"], registry=r
        )
        self.parse_failures = Counter(
            "signalgate_imap_parse_failures",
            "Messages skipped because they could not be parsed",
            ["mailbox"],
            registry=r,
        )
