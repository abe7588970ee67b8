"""Command-line options of ``signalgate bench``, and the settings that follow from them (stdlib only)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

SCENARIOS = ("ingest", "pixel", "e2e", "fanout", "send", "resume", "route", "scale", "failover")
# Run order: WebSocket scenarios first, so the per-connection memory is measured on a gateway
# whose heap has not yet been grown (and left fragmented) by the HTTP floods; the router
# scenarios last, since they start, stop and kill router processes.
RUN_ORDER = ("e2e", "resume", "fanout", "ingest", "pixel", "send", "route", "failover", "scale")
# Run when no --scenario is given: all but ``scale``, which takes 60-90 s more at --duration 8
# (it starts up to 4 routers and a second serve node, and provisions 50 orgs): ask for it by name.
DEFAULT_SCENARIOS = tuple(s for s in SCENARIOS if s != "scale")
# The send scenario's size: jobs per second of --duration in each batch (one channel at one worker
# count), and the worker counts it compares. Here, not in the scenario, because the bench org's
# SMS credits are bought from them before any scenario runs.
SEND_JOBS_PER_SECOND = 30
WORKER_COUNTS = (1, 2)


@dataclass(frozen=True)
class Settings:
    target: str | None = None
    admin_token: str | None = None
    public_url: str | None = None
    secret_key: str | None = None
    scenarios: tuple[str, ...] = DEFAULT_SCENARIOS
    duration: float = 5.0
    rate: float = 500.0
    clients: int = 1000
    clients_per_user: int = 2
    connections: int = 64
    routers: int = 1
    agents: int = 1
    json_path: str | None = None
    keep: bool = False
    redis_cluster: bool = False  # the private stack runs on a 3-master Redis Cluster (+ a plain queue Redis)

    @property
    def users(self) -> int:
        return max(1, -(-self.clients // self.clients_per_user))

    @property
    def send_jobs(self) -> int:
        """Jobs of one send batch (one channel at one worker count)."""
        return max(20, int(SEND_JOBS_PER_SECOND * self.duration))

    @property
    def sms_credits(self) -> int:
        """Credits bought for the bench org: every SMS batch of ``send``, with room to spare."""
        return int(SEND_JOBS_PER_SECOND * self.duration + 20) * len(WORKER_COUNTS) + 100


def add_bench_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", metavar="URL", help="drive this running gateway instead of starting a private stack")
    p.add_argument(
        "--admin-token", metavar="T", help="the target's admin token (default: $SIGNALGATE_GATEWAY_ADMIN_TOKEN)"
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the target's [gateway] public_url, which Twilio signatures cover (default: --target)",
    )
    p.add_argument(
        "--secret-key",
        metavar="K",
        help="the target's [gateway] secret_key, needed to sign pixel hits (default: "
        "$SIGNALGATE_GATEWAY_SECRET_KEY; without it --target skips pixel)",
    )
    p.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS,
        metavar="NAME",
        help=f"run only this scenario (repeatable): {', '.join(SCENARIOS)} (default: all but scale)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds of each measured phase; bursts and job batches scale with it (default 5)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=500.0,
        metavar="R",
        help="events/s of the fixed-rate phases (ingest, e2e, resume; default 500)",
    )
    p.add_argument("--clients", type=int, default=1000, metavar="N", help="WebSocket clients (default 1000)")
    p.add_argument(
        "--clients-per-user",
        type=int,
        default=2,
        metavar="K",
        help="e2e clients per user, like a rep's open tabs (default 2)",
    )
    p.add_argument(
        "--connections",
        type=int,
        default=64,
        metavar="C",
        help="keep-alive HTTP connections of the ingest and pixel phases (default 64)",
    )
    p.add_argument("--routers", type=int, default=1, metavar="N", help="router processes (self-contained; default 1)")
    p.add_argument("--agents", type=int, default=1, metavar="N", help="HTTP load-generator processes (default 1)")
    p.add_argument(
        "--redis-cluster",
        action="store_true",
        help="self-contained: run the stack on a private 3-master Redis Cluster (AOF on) and a plain Redis "
        "for the arq queue, instead of one redis-server",
    )
    p.add_argument("--json", dest="json_path", metavar="PATH", help="also write the results as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the work directory (process logs) after the run")


def settings_from(args: argparse.Namespace, environ: dict[str, str]) -> Settings:
    """Validated settings; raises ``ValueError`` with a one-line message."""
    if args.duration <= 0 or args.rate <= 0:
        raise ValueError("--duration and --rate must be positive")
    for name in ("clients", "clients_per_user", "connections", "routers", "agents"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1")
    admin = args.admin_token or environ.get("SIGNALGATE_GATEWAY_ADMIN_TOKEN")
    if args.target and not admin:
        raise ValueError("--target needs --admin-token (or $SIGNALGATE_GATEWAY_ADMIN_TOKEN)")
    if args.target and args.redis_cluster:
        raise ValueError("--redis-cluster starts a private cluster: it does not go with --target")
    if args.target and not args.target.startswith(("http://", "https://")):
        raise ValueError("--target must be an http(s) URL")
    chosen = tuple(args.scenario) if args.scenario else DEFAULT_SCENARIOS
    return Settings(
        target=args.target.rstrip("/") if args.target else None,
        admin_token=admin,
        public_url=(args.public_url or args.target or "").rstrip("/") or None,
        secret_key=(args.secret_key or environ.get("SIGNALGATE_GATEWAY_SECRET_KEY")) if args.target else None,
        scenarios=tuple(s for s in RUN_ORDER if s in chosen),
        duration=args.duration,
        rate=args.rate,
        clients=args.clients,
        clients_per_user=args.clients_per_user,
        connections=args.connections,
        routers=args.routers,
        agents=args.agents,
        json_path=args.json_path,
        keep=args.keep,
        redis_cluster=args.redis_cluster,
    )
