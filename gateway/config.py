"""Configuration: ``config.toml`` plus ``SIGNALGATE_<SECTION>_<KEY>`` environment overrides.

Validated once at start-up. Anything wrong stops the process with one line naming the key
(``ConfigError``), unknown sections and keys included, so a typo never silently falls back to a
default.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A bad configuration value; ``str()`` is the one line shown to the operator."""


@dataclass(frozen=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 8000
    # The URL providers call us on; Twilio signs callbacks against exactly this URL.
    public_url: str = "http://127.0.0.1:8000"
    # Empty means "generate once and keep in Redis" (shared by every process on that Redis).
    admin_token: str = ""
    secret_key: str = ""
    # Keys secret_key replaced, newest first (a rotation, see README "Security"): signed links and
    # sealed secrets made under them still verify/open; everything new uses secret_key.
    previous_secret_keys: tuple[str, ...] = field(default=(), repr=False)
    max_body_bytes: int = 65536
    # POST .../contacts:import (up to 10,000 contacts) may send this much.
    import_max_bytes: int = 8_388_608
    hello_timeout: float = 10.0
    # Frames buffered per WebSocket before the client counts as a slow consumer (closed 1013).
    ws_queue_size: int = 1024
    ws_ping_interval: float = 20.0
    ws_ping_timeout: float = 20.0
    log_level: str = "info"
    # A connection whose request headers are not complete this long after it opened (or after its
    # previous response) is answered 408 and closed: slow-header clients cannot hold sockets.
    header_timeout_seconds: float = 10.0
    # Open connections (HTTP and WebSocket) this process keeps; one more is answered 503 at once.
    # Lowered at start to what the file descriptor limit allows (see gateway.edge.server).
    max_connections: int = 10000
    # One info line per request on the "signalgate.access" logger (method, path, status, duration).
    access_log: bool = False
    # /metrics: a bearer token it requires (empty = none), and/or a listener of its own
    # (metrics_port 0 = served on the main listener; otherwise only on metrics_host:metrics_port).
    metrics_token: str = field(default="", repr=False)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    # /healthz and /metrics of the processes without the HTTP server (router, worker, imap; serve
    # and up answer both on `port`). 0 = port + 1 (router), + 2 (worker), + 3 (imap); -1 = none.
    health_port: int = 0

    # A dead process's work (pending events, IMAP mailboxes) is taken over within this many seconds
    # of its death; heartbeats live 0.6x this (see gateway.domain.failover).
    failover_seconds: float = 5.0


@dataclass(frozen=True)
class RedisConfig:
    url: str = "embedded"
    # Used only when url = "embedded": where the private redis-server listens and keeps its AOF.
    embedded_port: int = 6390
    data_dir: str = "./data/redis"
    # ``url`` names one node of a Redis Cluster (the others are discovered): see gateway.store.connect.
    cluster: bool = False


@dataclass(frozen=True)
class QueueConfig:
    # The Redis of the arq send queue; empty = the same server as [redis] url. arq does not speak
    # Redis Cluster: with [redis] cluster = true this must name a plain Redis.
    url: str = ""


@dataclass(frozen=True)
class SignalsConfig:
    group_window_seconds: int = 600
    history_min_entries: int = 1000
    history_days: int = 7
    # Hard ceiling per user feed so a flood cannot exhaust Redis memory.
    history_max_entries: int = 20000


@dataclass(frozen=True)
class RouterConfig:
    block_ms: int = 2000
    batch_size: int = 100
    # A dead router's events are taken over within gateway.failover_seconds (heartbeats); this is
    # only the safety net for an event a live router left pending this long (it is routed again).
    claim_idle_ms: int = 15000
    claim_interval_ms: int = 5000


@dataclass(frozen=True)
class TwilioConfig:
    api_base: str = "https://api.twilio.com"
    # Seconds one REST call may take; an SMS attempt older than 2x this + 5 s with no outcome is
    # reconciled against the provider before anything is sent again.
    timeout: float = 10.0


@dataclass(frozen=True)
class WorkerConfig:
    # Seconds a job may run; a dead worker's job is picked up again job_timeout + 10 s later.
    job_timeout: int = 60
    max_jobs: int = 20
    max_tries: int = 10


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 25
    username: str = ""
    password: str = ""
    starttls: bool = False
    from_address: str = "signalgate@localhost"
    timeout: float = 30.0


@dataclass(frozen=True)
class ImapConfig:
    org: str
    user: str
    host: str
    port: int = 993
    tls: str = "implicit"
    username: str = ""
    password: str = field(default="", repr=False)  # never in a repr, a log line or a traceback
    folder: str = "INBOX"
    mode: str = "inbox"
    # Stable name of the mailbox (its lease and checkpoint); empty = derived from org, host, port,
    # username and folder. Set it before moving a mailbox to another host name to keep the checkpoint.
    id: str = ""
    ca_file: str = ""  # PEM bundle of a private CA for implicit/STARTTLS; system CAs when empty
    # RFC 2177: servers may drop a client idle for 30 minutes, so IDLE is re-issued before that.
    idle_renew_seconds: float = 1740.0
    # Every this many seconds IDLE is ended and a NOOP must come back within timeout_seconds;
    # this is what detects a connection that died silently (no FIN, frozen server).
    heartbeat_seconds: float = 60.0
    timeout_seconds: float = 15.0  # connect, greeting and every command
    backoff_initial_seconds: float = 1.0  # reconnect delay doubles from here (with jitter) ...
    backoff_max_seconds: float = 300.0  # ... up to this; a refused LOGIN waits this long at once
    # Only the process holding this Redis lease listens. A holder that dies is replaced within
    # gateway.failover_seconds (its heartbeat is gone); the lease expiring is only the backstop.
    lease_seconds: float = 30.0


@dataclass(frozen=True)
class MailboxesConfig:
    """Mailboxes added through the API (``POST /api/v1/orgs/{org}/mailboxes``): how processes that
    run IMAP listeners (``up``, ``imap``) find them, and the timings their listeners use."""

    listen: bool = True  # this process also listens to API mailboxes (with its [[imap]] ones)
    watch_seconds: float = 1.0  # how often the list's version is checked (a new mailbox starts within it)
    resync_seconds: float = 30.0  # a full re-read of the list even when the version did not move
    idle_renew_seconds: float = 1740.0
    heartbeat_seconds: float = 60.0
    timeout_seconds: float = 15.0
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    lease_seconds: float = 30.0
    # false: an API mailbox never connects to a non-public address (loopback, private, link-local,
    # shared, reserved): refused at POST for an IP literal, and when its name resolves to one. Set it
    # only where every org admin is trusted with the internal network (tests: a loopback Dovecot).
    allow_private_hosts: bool = False


@dataclass(frozen=True)
class Config:
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    redis: RedisConfig = field(default_factory=RedisConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    signals: SignalsConfig = field(default_factory=SignalsConfig)
    router: RouterConfig = field(default_factory=RouterConfig)
    twilio: TwilioConfig = field(default_factory=TwilioConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    imap: tuple[ImapConfig, ...] = ()
    mailboxes: MailboxesConfig = field(default_factory=MailboxesConfig)


_SECTIONS: dict[str, type[Any]] = {
    "gateway": GatewayConfig,
    "redis": RedisConfig,
    "queue": QueueConfig,
    "signals": SignalsConfig,
    "router": RouterConfig,
    "twilio": TwilioConfig,
    "worker": WorkerConfig,
    "smtp": SmtpConfig,
    "mailboxes": MailboxesConfig,
}
_ENV_PREFIX = "SIGNALGATE_"
# Read when no --config is given; unlike a path given on the command line, it may be absent.
DEFAULT_CONFIG = "config.toml"


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    """Turn a TOML or environment value into the field's type, or raise naming the key."""
    if kind in ("bool", bool):
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return raw.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"config: {name} must be true or false, got {raw!r}")
    if kind in ("int", int):
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and re.fullmatch(r"-?[0-9]+", raw.strip()):
            return int(raw)
        raise ConfigError(f"config: {name} must be an integer, got {raw!r}")
    if kind in ("float", float):
        if isinstance(raw, bool):
            raise ConfigError(f"config: {name} must be a number, got {raw!r}")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"config: {name} must be a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise ConfigError(f"config: {name} must be a finite number, got {raw!r}")
        return value
    if kind in ("tuple[str, ...]", tuple):
        return _strings(name, raw)
    if not isinstance(raw, str):
        raise ConfigError(f"config: {name} must be a string, got {raw!r}")
    return raw


def _strings(name: str, raw: Any) -> tuple[str, ...]:
    """A list of strings: a TOML array, or comma-separated in an environment variable."""
    if isinstance(raw, str):
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(f"config: {name} must be a list of strings")
    return tuple(raw)


def _build(section: str, cls: type[Any], values: Mapping[str, Any]) -> Any:
    known = {f.name: f for f in fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(f"config: unknown key {section}.{key}")
    kwargs = {key: _coerce(f"{section}.{key}", values[key], known[key].type) for key in values}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required key is missing (only [[imap]] has any)
        missing = [n for n, f in known.items() if n not in values and f.default is f.default_factory]
        raise ConfigError(f"config: {section} is missing {', '.join(missing) or exc}") from None


def _imap_env_overrides(data: dict[str, Any], found: list[tuple[int, str, str, str]]) -> None:
    """``SIGNALGATE_IMAP_<n>_<KEY>`` sets key of the n-th [[imap]] entry (n from 0, no gaps)."""
    boxes = data.setdefault("imap", [])
    if not isinstance(boxes, list):
        raise ConfigError("config: imap must be an array of tables ([[imap]])")
    for index, key, value, name in sorted(found):
        if index > len(boxes):
            raise ConfigError(f"config: {name}: imap entries are numbered from 0 without gaps")
        if index == len(boxes):
            boxes.append({})
        if not isinstance(boxes[index], dict):
            raise ConfigError("config: imap must be an array of tables ([[imap]])")
        boxes[index][key] = value


def _env_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    imap: list[tuple[int, str, str, str]] = []
    for name, value in environ.items():
        if not name.startswith(_ENV_PREFIX):
            continue
        rest = name[len(_ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        if section == "imap":
            index, _, imap_key = key.partition("_")
            if not index.isdigit() or not imap_key:
                raise ConfigError(f"config: unknown environment variable {name} (use SIGNALGATE_IMAP_<n>_<KEY>)")
            imap.append((int(index), imap_key, value, name))
            continue
        if section not in _SECTIONS or not key:
            raise ConfigError(f"config: unknown environment variable {name}")
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"config: [{section}] must be a table")
        table[key] = value
    if imap:
        _imap_env_overrides(data, imap)


def _validate_gateway(gw: GatewayConfig) -> None:
    if not 0 <= gw.port <= 65535:
        raise ConfigError(f"config: gateway.port must be 0-65535, got {gw.port}")
    if not -1 <= gw.health_port <= 65535:
        raise ConfigError(f"config: gateway.health_port must be -1 (none), 0 (default) or a port, got {gw.health_port}")
    parts = urlsplit(gw.public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"config: gateway.public_url must be an http(s) URL, got {gw.public_url!r}")
    if gw.max_body_bytes < 1024:
        raise ConfigError(f"config: gateway.max_body_bytes must be at least 1024, got {gw.max_body_bytes}")
    if gw.import_max_bytes < gw.max_body_bytes:
        raise ConfigError(
            f"config: gateway.import_max_bytes must be at least max_body_bytes, got {gw.import_max_bytes}"
        )
    _positive("gateway", gw, ("ws_queue_size", "hello_timeout", "ws_ping_interval", "ws_ping_timeout"))
    if not 1 <= gw.failover_seconds <= 600:
        raise ConfigError(f"config: gateway.failover_seconds must be 1-600, got {gw.failover_seconds}")
    if gw.log_level.lower() not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"config: gateway.log_level must be debug|info|warning|error, got {gw.log_level!r}")
    _validate_edge(gw)
    _validate_previous_keys(gw)


def _validate_previous_keys(gw: GatewayConfig) -> None:
    if not gw.previous_secret_keys:
        return
    if not gw.secret_key:
        raise ConfigError(
            "config: gateway.previous_secret_keys needs gateway.secret_key set (the new key); an empty "
            "secret_key means the key generated in Redis, which previous keys do not apply to"
        )
    for i, key in enumerate(gw.previous_secret_keys):
        if not key:
            raise ConfigError(f"config: gateway.previous_secret_keys[{i}] must not be empty")
        if key == gw.secret_key:
            raise ConfigError(f"config: gateway.previous_secret_keys[{i}] must differ from gateway.secret_key")


def _validate_edge(gw: GatewayConfig) -> None:
    if gw.header_timeout_seconds <= 0:
        raise ConfigError(f"config: gateway.header_timeout_seconds must be positive, got {gw.header_timeout_seconds}")
    if gw.max_connections < 16:
        raise ConfigError(f"config: gateway.max_connections must be at least 16, got {gw.max_connections}")
    if not 0 <= gw.metrics_port <= 65535:
        raise ConfigError(
            f"config: gateway.metrics_port must be 0-65535 (0 = the main listener), got {gw.metrics_port}"
        )
    if gw.metrics_port and gw.metrics_port == gw.port:
        raise ConfigError("config: gateway.metrics_port must differ from gateway.port (0 = the main listener)")
    if gw.metrics_token and (
        len(gw.metrics_token) < 16 or not gw.metrics_token.isprintable() or " " in gw.metrics_token
    ):
        raise ConfigError("config: gateway.metrics_token must be at least 16 printable characters without spaces")


def _positive(section: str, values: object, names: tuple[str, ...]) -> None:
    for key in names:
        value = getattr(values, key)
        if value <= 0:
            raise ConfigError(f"config: {section}.{key} must be positive, got {value}")


def _port(name: str, value: int) -> None:
    if not 1 <= value <= 65535:
        raise ConfigError(f"config: {name} must be 1-65535, got {value}")


def _validate(cfg: Config) -> None:
    _validate_gateway(cfg.gateway)
    url = cfg.redis.url
    if url != "embedded" and urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"config: redis.url must be 'embedded' or a redis:// URL, got {url!r}")
    _port("redis.embedded_port", cfg.redis.embedded_port)
    if not cfg.redis.data_dir.strip():
        raise ConfigError("config: redis.data_dir must not be empty")
    _validate_cluster(cfg.redis, cfg.queue)
    _port("smtp.port", cfg.smtp.port)
    _positive("router", cfg.router, ("block_ms", "batch_size", "claim_idle_ms", "claim_interval_ms"))
    _positive("worker", cfg.worker, ("job_timeout", "max_jobs", "max_tries"))
    _positive("twilio", cfg.twilio, ("timeout",))
    _positive("smtp", cfg.smtp, ("timeout",))
    _validate_mailboxes(cfg.mailboxes)
    s = cfg.signals
    if s.group_window_seconds < 0:  # 0 is meaningful: every event is a signal of its own
        raise ConfigError(f"config: signals.group_window_seconds must be 0 or more, got {s.group_window_seconds}")
    _positive("signals", s, ("history_min_entries", "history_days", "history_max_entries"))
    if s.history_max_entries < s.history_min_entries:
        raise ConfigError(
            "config: signals.history_max_entries must be >= signals.history_min_entries, "
            f"got {s.history_max_entries} < {s.history_min_entries}"
        )
    _validate_imap(cfg.imap)


def _validate_cluster(redis: RedisConfig, queue: QueueConfig) -> None:
    if queue.url and urlsplit(queue.url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"config: queue.url must be a redis:// URL (empty = redis.url), got {queue.url!r}")
    if not redis.cluster:
        return
    if redis.url == "embedded" or urlsplit(redis.url).scheme not in ("redis", "rediss"):
        raise ConfigError(
            f"config: redis.cluster = true needs redis.url = redis://host:port of a node, got {redis.url!r}"
        )
    if not queue.url or queue.url == redis.url:
        raise ConfigError(
            "config: redis.cluster = true needs queue.url naming a plain Redis (arq does not speak Cluster)"
        )


_IMAP_POSITIVE = (
    "idle_renew_seconds",
    "heartbeat_seconds",
    "timeout_seconds",
    "backoff_initial_seconds",
    "backoff_max_seconds",
    "lease_seconds",
)


def _validate_mailboxes(m: MailboxesConfig) -> None:
    _positive("mailboxes", m, ("watch_seconds", "resync_seconds", *_IMAP_POSITIVE))
    if m.idle_renew_seconds > 1740:
        raise ConfigError("config: mailboxes.idle_renew_seconds must be at most 1740 (29 minutes, RFC 2177)")
    if m.backoff_max_seconds < m.backoff_initial_seconds:
        raise ConfigError("config: mailboxes.backoff_max_seconds must be >= mailboxes.backoff_initial_seconds")


def _validate_imap(boxes: tuple[ImapConfig, ...]) -> None:
    seen: set[tuple[str, ...]] = set()
    for i, box in enumerate(boxes):
        if box.tls not in ("implicit", "starttls", "none"):
            raise ConfigError(f"config: imap[{i}].tls must be implicit|starttls|none, got {box.tls!r}")
        if box.mode not in ("inbox", "sent", "dropbox"):
            raise ConfigError(f"config: imap[{i}].mode must be inbox|sent|dropbox, got {box.mode!r}")
        _port(f"imap[{i}].port", box.port)
        _positive(f"imap[{i}]", box, _IMAP_POSITIVE)
        if box.idle_renew_seconds > 1740:
            raise ConfigError(f"config: imap[{i}].idle_renew_seconds must be at most 1740 (29 minutes, RFC 2177)")
        if box.backoff_max_seconds < box.backoff_initial_seconds:
            raise ConfigError(
                f"config: imap[{i}].backoff_max_seconds must be >= backoff_initial_seconds, "
                f"got {box.backoff_max_seconds} < {box.backoff_initial_seconds}"
            )
        identity = (box.id,) if box.id else (box.org, box.host.lower(), str(box.port), box.username, box.folder)
        if identity in seen:
            raise ConfigError(f"config: imap[{i}] is the same mailbox as an earlier entry")
        seen.add(identity)


def _read(path: Path, *, required: bool) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config: {path} does not exist") from None
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: cannot read {path}: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from None


def load_config(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None, *, required: bool = False
) -> Config:
    """Read ``path``, apply environment overrides, validate.

    A missing file means all defaults, unless ``required`` (a path the operator named explicitly).
    """
    environ = os.environ if environ is None else environ
    data = {} if path is None else _read(Path(path), required=required)
    _env_overrides(data, environ)
    imap_raw = data.pop("imap", [])
    for section, value in data.items():
        if section not in _SECTIONS:
            raise ConfigError(f"config: unknown section [{section}]")
        if not isinstance(value, dict):
            raise ConfigError(f"config: [{section}] must be a table")
    if not isinstance(imap_raw, list) or not all(isinstance(box, dict) for box in imap_raw):
        raise ConfigError("config: imap must be an array of tables ([[imap]])")
    sections = {name: _build(name, cls, data.get(name, {})) for name, cls in _SECTIONS.items()}
    imap = tuple(_build(f"imap[{i}]", ImapConfig, box) for i, box in enumerate(imap_raw))
    cfg = Config(imap=imap, **sections)
    _validate(cfg)
    return cfg
