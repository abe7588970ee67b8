"""Supervision of a process's long-running parts (HTTP server, router, worker, IMAP, hub).

Layers, leaves first: :mod:`gateway.domain.supervision` (pure: which errors are transient, the
backoff, the ``/healthz`` answer) → :mod:`.health` (the state of each part) → :mod:`.supervisor`
(runs a part: retries transient Redis errors, logs anything else once with its traceback and
restarts the part, both with capped exponential backoff) → :mod:`.listener` (``/healthz`` and
``/metrics`` for the process kinds without the HTTP server).
"""
