"""Redis: the only package that sends Redis commands.

Leaves first: :mod:`keys` (every key and channel name, nowhere else), :mod:`scripts` (loads every
Lua script in ``lua/``), :mod:`batching` (auto-pipelined script calls), :mod:`errors` (what
callers catch); then one repository per aggregate — :mod:`tenancy` (orgs, users, contacts,
tokens), :mod:`event_log` (partition streams), :mod:`feed` (per-user feeds), :mod:`live`
(pub/sub of live frames), :mod:`notifications`, :mod:`messages` (SMS and calls by provider sid),
:mod:`credits`, :mod:`email_usage`, :mod:`reports`, :mod:`activity`, :mod:`reminders`,
:mod:`templates`, :mod:`stats`, :mod:`mailboxes` (IMAP lease and checkpoint),
:mod:`credentials` (process secrets), :mod:`due` (per-partition due sets: snooze returns) — and
:mod:`jobs`, the arq job contract.
"""
