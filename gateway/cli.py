"""``signalgate`` command line: up, serve, router, worker, imap, demo, bench."""

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
from gateway.config import DEFAULT_CONFIG, Config, ConfigError, load_config
from gateway.demo import provision_demo
from gateway.ingest.imap.service import mailboxes, run_mailboxes, stop_within
from gateway.live.protocol import CloseCode
from gateway.metrics import Metrics
from gateway.redis_server import RedisUnavailable, redis_url
from gateway.routing.router import Router
from gateway.services import open_services
from gateway.store.jobs import run_worker
from workers.settings import make_worker

log = logging.getLogger("signalgate")
# Time given to WebSocket clients to receive their 1001 close before the server stops.
_CLOSE_GRACE_SECONDS = 2.0


class GracefulServer(uvicorn.Server):
    """uvicorn, but WebSockets are closed with 1001 (resume elsewhere) before it shuts down."""

    def __init__(self, config: uvicorn.Config, app: GatewayApp) -> None:
        super().__init__(config)
        self._app = app
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None

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
        self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._drain()))

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
        app = create_app(config, url, metrics=metrics, with_router=with_router, with_worker=with_router)
        gw = config.gateway
        server = GracefulServer(
            uvicorn.Config(
                app,
                host=gw.host,
                port=gw.port,
                log_level=gw.log_level.lower(),
                ws_ping_interval=gw.ws_ping_interval,
                ws_ping_timeout=gw.ws_ping_timeout,
                lifespan="on",
                access_log=False,
                timeout_graceful_shutdown=5,
            ),
            app,
        )
        with_imap = with_imap and bool(config.imap)
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
                stack.push_async_callback(stop_within, asyncio.create_task(run_mailboxes(svc, stop)), stop)
            if server.started and demo:
                await _demo(config, url)
            await serving


async def _route(config: Config) -> None:
    async with redis_url(config.redis) as url, open_services(config, url, secrets=False) as svc:
        await Router(svc, config.router).run(_stop_on_signals())


async def _work(config: Config) -> None:
    async with redis_url(config.redis) as url:
        await run_worker(make_worker(config, url, handle_signals=False), _stop_on_signals())


def _check_imap(config: Config, *, required: bool) -> None:
    """Refuse a mailbox that cannot be listened to before anything starts (ConfigError)."""
    if required and not config.imap:
        raise ConfigError("config: no [[imap]] mailboxes to listen to")
    mailboxes(config)


async def _imap(config: Config) -> None:
    """IMAP listeners only: a separate process kind, any number per Redis (one listens per mailbox)."""
    async with redis_url(config.redis) as url, open_services(config, url, secrets=False) as svc:
        await run_mailboxes(svc, _stop_on_signals())


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
    except ConfigError as exc:
        return _fail(str(exc), 2)
    except RedisUnavailable as exc:
        return _fail(str(exc), 1)
    except KeyboardInterrupt:
        return 130
    return 0


async def _demo_only(config: Config) -> None:
    async with redis_url(config.redis) as url:
        await _demo(config, url, serving=None)  # no gateway in this process: ask public_url


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
