"""Prometheus metrics, one registry per process, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events_in = Counter("signalgate_events_in", "Events accepted at ingest", ["source"], registry=r)
        self.events_duplicate = Counter(
            "signalgate_events_duplicate", "Provider retries accepted once and dropped", ["source"], registry=r
        )
        self.webhooks_refused = Counter(
            "signalgate_webhooks_refused", "Webhooks refused", ["source", "reason"], registry=r
        )
        self.signals_out = Counter("signalgate_signals_out", "Signals written to feeds", ["type", "kind"], registry=r)
        self.events_unmatched = Counter(
            "signalgate_events_unmatched", "Events that matched no contact or user", ["source"], registry=r
        )
        self.ws_connections = Gauge("signalgate_ws_connections", "Open WebSocket connections", registry=r)
        self.ws_frames = Counter("signalgate_ws_frames_sent", "Frames sent to WebSocket clients", registry=r)
        self.ws_slow_closed = Counter(
            "signalgate_ws_slow_consumers_closed", "Connections closed because their queue filled", registry=r
        )
        self.router_lag = Gauge(
            "signalgate_router_lag_seconds", "Age of the last event routed, per partition", ["partition"], registry=r
        )
        self.router_latency = Histogram(
            "signalgate_router_event_seconds",
            "Time from ingest to feed write",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5),
            registry=r,
        )
        self.router_reclaimed = Counter(
            "signalgate_router_reclaimed", "Pending events reclaimed from dead routers", registry=r
        )
        self.router_events = Counter(
            "signalgate_router_events", "Events routed and acknowledged, per partition", ["partition"], registry=r
        )
        # Supervision (gateway.supervision): one label value per long-running part of the process.
        self.part_restarts = Counter(
            "signalgate_part_restarts",
            "Restarts of a long-running part, by reason (transient = Redis unavailable or busy, error = a bug)",
            ["part", "reason"],
            registry=r,
        )
        self.part_up = Gauge(
            "signalgate_part_up", "1 while the part runs normally, 0 while it restarts", ["part"], registry=r
        )
