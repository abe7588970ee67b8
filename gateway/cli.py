"""``signalgate`` command line: up, serve, router, worker, imap, demo, reseal, bench."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import logging
import signal
import sys
from types import FrameType

import uvicorn

from gateway.app import GatewayApp, create_app
from gateway.bench.options import add_bench_arguments
from gateway.config import DEFAULT_CONFIG, Config, ConfigError, GatewayConfig, load_config
from gateway.demo import provision_demo
from gateway.edge.server import raise_nofile_limit, uvicorn_config
from gateway.ingest.imap.metrics import ImapMetrics
from gateway.ingest.imap.service import mailboxes, run_mailboxes, stop_within
from gateway.live.protocol import CloseCode
from gateway.logfilter import install_repeat_filter
from gateway.metrics import Metrics
from gateway.redis_server import RedisUnavailable, redis_url
from gateway.routing.router import Router
from gateway.services import Services, open_services
from gateway.store.jobs import run_worker
from gateway.store.reseal import reseal_all
from gateway.supervision.health import Health
from gateway.supervision.listener import HealthListener
from gateway.supervision.supervisor import Runner, Supervisor
from workers.settings import make_worker
from workers.stats import WorkerStats

log = logging.getLogger("signalgate")
# Time given to WebSocket clients to receive their 1001 close before the server stops.
_CLOSE_GRACE_SECONDS = 2.0
# [gateway] health_port = 0: the process kinds without the HTTP server answer /healthz and
# /metrics on gateway.port + this, so one host can run one of each beside `serve` with no config.
_HEALTH_PORT_OFFSET = {"router": 1, "worker": 2, "imap": 3}


class GracefulServer(uvicorn.Server):
    """uvicorn, but WebSockets are closed with 1001 (resume elsewhere) before it shuts down."""

    def __init__(self, config: uvicorn.Config, app: GatewayApp) -> None:
        super().__init__(config)
        self._app = app
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining: asyncio.Future[None] | None = None  # kept: the loop holds tasks only weakly

    async def serve(self, sockets: list[object] | None = None) -> None:  # type: ignore[override]
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)  # type: ignore[arg-type]

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Not calling super(): uvicorn would re-raise the signal after shutdown, killing the
        # process before our own cleanup (e.g. stopping the embedded Redis) runs. Exit 0 instead.
        if self._closing or self._loop is None:
            self.force_exit = True
            self.should_exit = True
            return
        self._closing = True
        self._loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        self._draining = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        hub = self._app.hub
        if hub is not None:
            hub.close_all(CloseCode.GOING_AWAY)
            await hub.drained(_CLOSE_GRACE_SECONDS)
        self.should_exit = True


def _setup_logging(config: Config) -> None:
    logging.basicConfig(
        level=config.gateway.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    install_repeat_filter()  # a flood of one message (e.g. per failing connection) cannot fill the disk


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (the process kinds without uvicorn)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _serve(config: Config, *, with_router: bool, demo: bool = False, with_imap: bool = False) -> None:
    async with redis_url(config.redis) as url:
        metrics = Metrics()
        health = Health(metrics)
        app = create_app(config, url, metrics=metrics, with_router=with_router, with_worker=with_router, health=health)
        server = GracefulServer(uvicorn_config(app, config.gateway, nofile=raise_nofile_limit()), app)
        with_imap = with_imap and (bool(config.imap) or config.mailboxes.listen)
        if not demo and not with_imap:
            await server.serve()
            return
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn exposes only a flag
            await asyncio.sleep(0.05)
        async with contextlib.AsyncExitStack() as stack:
            if with_imap and server.started:
                # IMAP listeners: their own Redis client, metrics on the gateway's registry, stopped last.
                svc = await stack.enter_async_context(open_services(config, url, metrics=metrics, secrets=False))
                stop = asyncio.Event()
                supervisor = Supervisor(health, metrics)
                listening = supervisor.run("imap", _imap_part(svc, supervisor), stop)
                stack.push_async_callback(stop_within, asyncio.create_task(listening, name="imap"), stop)
            if server.started and demo:
                await _demo(config, url)
            await serving


def _health_port(gw: GatewayConfig, kind: str) -> int | None:
    """Where a ``router``/``worker``/``imap`` process answers /healthz and /metrics (None: nowhere)."""
    if gw.health_port == -1:
        return None
    if gw.health_port:
        return gw.health_port
    return gw.port + _HEALTH_PORT_OFFSET[kind] if gw.port else 0


async def _run_parts(
    config: Config, kind: str, svc: Services, supervisor: Supervisor, parts: dict[str, Runner]
) -> None:
    """Run ``parts`` supervised, and the health listener, until SIGTERM/SIGINT."""
    stop = _stop_on_signals()
    async with asyncio.TaskGroup() as tg:
        for name, run in parts.items():
            tg.create_task(supervisor.run(name, run, stop), name=name)
        port = _health_port(config.gateway, kind)
        if port is not None:
            listener = HealthListener(
                config.gateway.host,
                port,
                supervisor.health,
                svc.redis.ping,
                svc.metrics.registry,
                metrics_token=config.gateway.metrics_token,
            )
            # Its own health: it is how the others are seen, not one of them (a taken port is retried).
            own = Supervisor(Health(), svc.metrics)
            tg.create_task(own.run("health-listener", listener.run, stop), name="health-listener")


async def _route(config: Config) -> None:
    async with redis_url(config.redis) as url, open_services(config, url, secrets=False) as svc:
        supervisor = Supervisor(Health(svc.metrics), svc.metrics)
        router = Router(svc, config.router, supervisor=supervisor)
        await _run_parts(config, "router", svc, supervisor, {"router": router.run})


async def _work(config: Config) -> None:
    async with redis_url(config.redis) as url, open_services(config, url, secrets=False, max_connections=4) as svc:
        stats = WorkerStats.on(svc.metrics.registry)

        async def work(stop: asyncio.Event) -> None:  # a new arq Worker for every (re)start
            await run_worker(make_worker(config, url, handle_signals=False, metrics=svc.metrics, stats=stats), stop)

        supervisor = Supervisor(Health(svc.metrics), svc.metrics)
        await _run_parts(config, "worker", svc, supervisor, {"worker": work})


def _imap_part(svc: Services, supervisor: Supervisor) -> Runner:
    """The IMAP listeners as one part (``imap``, a unit per mailbox); its metrics made once."""
    metrics = ImapMetrics(svc.metrics.registry)

    async def listen(stop: asyncio.Event) -> None:
        await run_mailboxes(svc, stop, metrics, supervisor)

    return listen


def _check_imap(config: Config, *, required: bool) -> None:
    """Refuse a mailbox that cannot be listened to before anything starts (ConfigError)."""
    if required and not config.imap and not config.mailboxes.listen:
        raise ConfigError("config: no [[imap]] mailboxes to listen to (and mailboxes.listen is false)")
    mailboxes(config)


async def _imap(config: Config) -> None:
    """IMAP listeners only: a separate process kind, any number per Redis (one listens per mailbox)."""
    async with redis_url(config.redis) as url, open_services(config, url, secrets=False) as svc:
        supervisor = Supervisor(Health(svc.metrics), svc.metrics)
        await _run_parts(config, "imap", svc, supervisor, {"imap": _imap_part(svc, supervisor)})


async def _demo(config: Config, url: str, *, serving: bool | None = True) -> None:
    async with open_services(config, url) as svc:
        await provision_demo(svc, serving=serving)


def _version() -> str:
    try:
        return importlib.metadata.version("signalgate")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    """``--config`` is accepted before and after the subcommand (``up --config x.toml`` is what people type)."""
    config_help = "path to config.toml (default ./config.toml; a path given here must exist)"
    parser = argparse.ArgumentParser(prog="signalgate", description="Real-time notification gateway")
    parser.add_argument("--version", action="version", version=f"signalgate {_version()}")
    parser.add_argument("--config", default=None, help=config_help)
    # After the subcommand: SUPPRESS keeps an absent option from overwriting one given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, help=config_help)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", parents=[common], help="gateway + router + worker (+ embedded Redis) in one process")
    up.add_argument("--demo", action="store_true", help="provision the demo org and print a sign-in link")
    sub.add_parser("serve", parents=[common], help="HTTP/WebSocket gateway only")
    sub.add_parser("router", parents=[common], help="stream router only")
    sub.add_parser("worker", parents=[common], help="arq send worker only (queue signalgate:queue)")
    sub.add_parser(
        "imap",
        parents=[common],
        help="IMAP IDLE listeners only ([[imap]] mailboxes; one process listens per mailbox)",
    )
    sub.add_parser(
        "demo", parents=[common], help="provision the demo org on the configured Redis and print a sign-in link"
    )
    sub.add_parser(
        "reseal",
        parents=[common],
        help="seal every org's stored secrets under [gateway] secret_key (after a rotation; see README)",
    )
    add_bench_arguments(sub.add_parser("bench", help="load test: a private stack, or --target URL; see README"))
    return parser


def _fail(message: str, code: int) -> int:
    print(f"signalgate: {message}", file=sys.stderr)  # noqa: T201 - the one clear line
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "bench":  # reads no config: it starts its own stack or drives --target
        # Imported here so that only `signalgate bench` loads the bench and its libraries (rich,
        # httpx): at the top they cost every other process ~6 MB and ~0.1 s of start-up.
        from gateway.bench.command import run_bench

        return run_bench(args)
    try:
        # An explicit --config must exist; the default ./config.toml may be absent (defaults + environment).
        config = load_config(args.config or DEFAULT_CONFIG, required=args.config is not None)
    except ConfigError as exc:
        return _fail(str(exc), 2)
    _setup_logging(config)
    try:
        return _run(args, config)
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except RedisUnavailable as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, config: Config) -> int:
    """The subcommand; its exit code."""
    if args.command in ("up", "imap"):
        _check_imap(config, required=args.command == "imap")
    if args.command == "up":
        asyncio.run(_serve(config, with_router=True, demo=args.demo, with_imap=True))
    elif args.command == "serve":
        asyncio.run(_serve(config, with_router=False))
    elif args.command == "router":
        asyncio.run(_route(config))
    elif args.command == "worker":
        asyncio.run(_work(config))
    elif args.command == "imap":
        asyncio.run(_imap(config))
    elif args.command == "demo":
        asyncio.run(_demo_only(config))
    elif args.command == "reseal":
        return asyncio.run(_reseal(config))
    return 0


async def _demo_only(config: Config) -> None:
    async with redis_url(config.redis) as url:
        await _demo(config, url, serving=None)  # no gateway in this process: ask public_url


async def _reseal(config: Config) -> int:
    """One summary line; 1 when a value opens under no key (named: org/field)."""
    async with redis_url(config.redis) as url, open_services(config, url, max_connections=4) as svc:
        summary = await reseal_all(svc.redis, svc.vault)
    print(summary.line())  # noqa: T201 - the command's one line of output
    return summary.exit_code


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
