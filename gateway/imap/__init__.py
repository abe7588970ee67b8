"""IMAP IDLE ingest: one supervised listener per ``[[imap]]`` mailbox turns new mail into events.

Layers, leaves first: :mod:`~gateway.imap.wire` (server responses → values) and
:mod:`~gateway.imap.rules` (checkpoint and backoff decisions) are pure; :mod:`~gateway.imap.client`
is the thin aioimaplib adapter; :mod:`~gateway.imap.lease` and :mod:`~gateway.imap.checkpoint` keep
per-mailbox state in Redis; :mod:`~gateway.imap.listener` runs one connection;
:mod:`~gateway.imap.service` supervises every mailbox of a process.
"""
