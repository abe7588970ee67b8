"""How the gateway's HTTP server is configured: the bounded protocol, the descriptor limit, logs.

``cli`` builds its server from :func:`uvicorn_config` after calling :func:`raise_nofile_limit`.
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from gateway.config import GatewayConfig
from gateway.edge.limits import SHED_MAX_LINGERING, edge_protocol
from gateway.edge.websocket import LeanWebSocketProtocol
from gateway.logfilter import install_repeat_filter

log = logging.getLogger("signalgate.edge")
# Linux cannot go past fs.nr_open (1,048,576 by default) even when the hard limit is "unlimited".
_NOFILE_CEILING = 1 << 20
# Descriptors kept for what is not an open client connection (see connection_budget).
_PROCESS_FILES = (96, 640)  # min, max: the process's own files and its Redis pool (up to 512)
_ACCEPT_BATCH = (16, 1024)  # min, max: sockets asyncio accepts in one go (the listen backlog)
# The largest client WebSocket frame is the request body limit, but never below this (close 1009).
WS_MIN_FRAME_LIMIT = 64 * 1024


def raise_nofile_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; the resulting soft limit.

    Distributions start processes with a soft limit of 1,024 while allowing far more: a gateway
    holding one descriptor per WebSocket needs the hard limit, and asking costs nothing."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _NOFILE_CEILING if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:  # e.g. above fs.nr_open
            log.warning("cannot raise the open file limit from %d to %d: %s", soft, target, exc)
    return _NOFILE_CEILING if soft == resource.RLIM_INFINITY else soft


@dataclass(frozen=True)
class ConnectionBudget:
    connections: int  # open client connections (HTTP and WebSocket) served at once
    backlog: int  # the listen backlog, which is also how many sockets asyncio accepts in one batch


def connection_budget(configured: int, nofile: int) -> ConnectionBudget:
    """What fits under ``nofile`` descriptors, at most ``configured`` connections.

    asyncio accepts up to ``backlog`` sockets before any of them reaches the protocol (which
    answers 503 past the cap), and refused connections linger briefly for their 503: both, and the
    process's own files, must fit beside the connections, or accept() fails with EMFILE — and
    asyncio then retries once per failed socket, which stalls the listener (CPython's
    selector_events)."""
    backlog = min(_ACCEPT_BATCH[1], max(_ACCEPT_BATCH[0], nofile // 16))
    process = min(_PROCESS_FILES[1], max(_PROCESS_FILES[0], nofile // 8))
    reserve = process + SHED_MAX_LINGERING + backlog
    return ConnectionBudget(max(1, min(configured, nofile - reserve)), backlog)


def uvicorn_config(app: ASGIApp, gw: GatewayConfig, *, nofile: int) -> uvicorn.Config:
    """The main listener: bounded header time and connections, no uvicorn access log or banner."""
    budget = connection_budget(gw.max_connections, nofile)
    if budget.connections < gw.max_connections:
        log.warning(
            "gateway.max_connections = %d does not fit the open file limit (%d); serving at most %d connections",
            gw.max_connections,
            nofile,
            budget.connections,
        )
    config = uvicorn.Config(
        app,
        host=gw.host,
        port=gw.port,
        http=edge_protocol(header_timeout=gw.header_timeout_seconds, max_connections=budget.connections),
        log_level=gw.log_level.lower(),
        # uvicorn's sans-I/O websockets protocol (no task of its own per connection; the legacy one
        # ran 3), without its idle queue and event (gateway.edge.websocket).
        ws=LeanWebSocketProtocol,
        # No permessage-deflate: browsers always offer it, and each compressed socket then holds a
        # zlib compressor and decompressor (~48 KiB even at window 2^12, memLevel 5) for frames
        # of 0.5-2 KiB — more than the rest of an idle connection costs.
        ws_per_message_deflate=False,
        # A client frame is a hello, a ping or a read of at most 1,000 ids (~25 KiB): bound what one
        # connection can make the gateway buffer like a request body (uvicorn's default: 16 MiB).
        ws_max_size=max(gw.max_body_bytes, WS_MIN_FRAME_LIMIT),
        ws_ping_interval=gw.ws_ping_interval,
        ws_ping_timeout=gw.ws_ping_timeout,
        lifespan="on",
        access_log=False,  # ours is gateway.edge.access_log, switched by [gateway] access_log
        server_header=False,
        timeout_graceful_shutdown=5,
        backlog=budget.backlog,
    )
    # uvicorn has just installed its own handlers ("uvicorn", "uvicorn.access"): bound them too.
    install_repeat_filter()
    return config
