"""Ingest: where events come in. Each accepted event is durable in Redis before we answer.

:mod:`twilio` (signed Twilio callbacks), :mod:`webhooks` (Standard Webhooks from other tools),
:mod:`tracking` (open pixel and click redirect), :mod:`imap` (IMAP IDLE listeners and the mail
parser). Ingest appends raw events to the partition streams and never routes or delivers.
"""
