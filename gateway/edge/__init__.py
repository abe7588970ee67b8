"""The process's network edge, in front of the ASGI app.

Layers, leaves first: :mod:`responses` (raw HTTP answers written before any app runs),
:mod:`limits` (the uvicorn protocol that bounds header time and open connections),
:mod:`headers` (security headers on every response), :mod:`access_log` (one line per request),
:mod:`metrics` (``/metrics``, its bearer check and its optional listener of its own), and
:mod:`server` (the uvicorn configuration and the file descriptor limit) — what ``cli`` starts.
"""
