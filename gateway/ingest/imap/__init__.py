"""IMAP IDLE ingest: one supervised listener per ``[[imap]]`` mailbox turns new mail into events.

Layers, leaves first: :mod:`~gateway.ingest.imap.wire` (server responses → values),
:mod:`~gateway.ingest.imap.rules` (checkpoint and backoff decisions), :mod:`~gateway.ingest.imap.text`
and :mod:`~gateway.ingest.imap.parse` (a message → the facts we keep) are pure;
:mod:`~gateway.ingest.imap.client` is the thin aioimaplib adapter; the per-mailbox lease and
checkpoint live in Redis (:mod:`gateway.store.mailboxes`); :mod:`~gateway.ingest.imap.listener`
runs one connection; :mod:`~gateway.ingest.imap.service` supervises every mailbox of a process.
"""
