"""Live delivery over WebSockets (``/ws``).

Leaves first: :mod:`protocol` (sans I/O: close codes, frames, the replay/live seam), :mod:`hub`
(this node's connections fed from Redis pub/sub, bounded queues), :mod:`endpoint` (one
connection: hello, replay, live).
"""
