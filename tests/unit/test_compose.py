"""compose.yaml (the "Running at scale" topology) agrees with the CLI, the config loader and the Dockerfile.

Docker is not available where the tests run, so nothing here starts a container: these tests check
that every subcommand, flag, config key, environment variable, health port and host name the
compose file and deploy/ use exists, the way ``signalgate`` itself would read them.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML: a dependency of schemathesis (dev extra), no stubs

from gateway import cli
from gateway.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
HAPROXY = ROOT / "deploy" / "haproxy.cfg"
# What the topology runs: N gateways, M routers, K workers, one IMAP process.
EXPECTED_KINDS = {"serve": 2, "router": 2, "worker": 1, "imap": 1}
_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<op>[?-])(?P<arg>[^}]*))?\}")
# What a required ${VAR:?message} stands for here: long enough for gateway.metrics_token.
_SECRET = "s3cr3t-value-for-the-compose-test"


def _interpolate(value: Any) -> Any:
    """Compose's variable substitution, with every required variable set and the others unset."""
    if isinstance(value, dict):
        return {k: _interpolate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        return _SECRET if match["op"] == "?" else (match["arg"] or "")

    return _VAR.sub(one, value.replace("$$", "\0")).replace("\0", "$")


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # merge keys (<<) resolved
    return {name: _interpolate(svc) for name, svc in data["services"].items()}


def _signalgate(services: dict[str, Any]) -> dict[str, Any]:
    """The services that run the image built from ./Dockerfile."""
    return {name: svc for name, svc in services.items() if svc.get("build") == "."}


def _entrypoint() -> list[str]:
    (line,) = [
        ln for ln in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines() if ln.startswith("ENTRYPOINT")
    ]
    argv = json.loads(line.removeprefix("ENTRYPOINT"))
    assert isinstance(argv, list)
    return [str(a) for a in argv]


def _config_mount(svc: dict[str, Any]) -> tuple[Path, str]:
    (volume,) = [v for v in svc["volumes"] if v.split(":")[1].endswith(".toml")]
    source, target, *_ = volume.split(":")
    return ROOT / source, target


def _load(svc: dict[str, Any]) -> Config:
    """The service's config as ``signalgate`` reads it: the mounted file plus the service's environment."""
    path, _ = _config_mount(svc)
    env = {k: str(v) for k, v in svc.get("environment", {}).items()}
    return load_config(path, environ=env, required=True)


def test_the_topology_runs_each_process_kind_as_documented(services: dict[str, Any]) -> None:
    """2 serve, 2 router, 1 worker, 1 imap from the Dockerfile, a load balancer, 3 cluster nodes and a queue Redis."""
    kinds: dict[str, int] = {}
    for svc in _signalgate(services).values():
        (kind,) = svc["command"]
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds == EXPECTED_KINDS
    nodes = [n for n, s in services.items() if "--cluster-enabled yes" in str(s.get("command", ""))]
    assert len(nodes) == 3
    assert {"queue", "lb", "redis-cluster-init"} <= set(services)


def test_every_command_is_a_real_subcommand_with_real_flags(services: dict[str, Any]) -> None:
    """Entrypoint + command parse with the CLI's own parser; --config is the mounted file."""
    entry = _entrypoint()
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert entry[0] in scripts
    for name, svc in _signalgate(services).items():
        args = cli._parser().parse_args(entry[1:] + svc["command"])
        assert args.command in EXPECTED_KINDS, name
        source, target = _config_mount(svc)
        assert source.is_file(), name
        assert args.config == target, name


def test_the_mounted_config_loads_for_every_service(services: dict[str, Any]) -> None:
    """deploy/config.scale.toml and each service's SIGNALGATE_* variables pass the real loader."""
    for name, svc in _signalgate(services).items():
        cfg = _load(svc)
        assert cfg.gateway.host == "0.0.0.0", name  # reachable from the load balancer and health checks
        if svc["command"] == ["imap"]:
            cli._check_imap(cfg, required=True)  # `signalgate imap` refuses to start without a mailbox
    loaded = _load(services["router-1"])
    assert loaded.redis.cluster is True
    assert loaded.queue.url == "redis://queue:6379/0"


def test_redis_urls_name_the_compose_services(services: dict[str, Any]) -> None:
    """[redis] url seeds the cluster at a cluster node's port; [queue] url is the plain queue Redis."""
    data = tomllib.loads(_config_mount(services["serve-1"])[0].read_text(encoding="utf-8"))
    seed = urlsplit(data["redis"]["url"])
    assert seed.hostname in services and f"--port {seed.port}" in services[seed.hostname]["command"]
    assert "--cluster-enabled yes" in services[seed.hostname]["command"]
    assert data["redis"]["cluster"] is True
    queue = urlsplit(data["queue"]["url"])
    assert queue.hostname in services and str(queue.port) in services[queue.hostname]["command"]
    assert "--cluster-enabled" not in services[queue.hostname]["command"]  # arq does not speak Cluster


def test_health_checks_hit_each_kinds_health_port(services: dict[str, Any]) -> None:
    """serve answers /healthz on gateway.port; router/worker/imap on their health port (cli._health_port)."""
    for name, svc in _signalgate(services).items():
        cfg = _load(svc)
        (kind,) = svc["command"]
        want = cfg.gateway.port if kind == "serve" else cli._health_port(cfg.gateway, kind)
        (port,) = re.findall(r"127\.0\.0\.1:(\d+)/healthz", " ".join(svc["healthcheck"]["test"]))
        assert int(port) == want, name


def test_the_load_balancer_checks_healthz_and_keeps_websockets_open(services: dict[str, Any]) -> None:
    """HAProxy: every serve node at gateway.port, /healthz checks, a tunnel timeout above the ping cycle."""
    text = HAPROXY.read_text(encoding="utf-8")
    cfg = _load(services["serve-1"])
    servers = dict(re.findall(r"(?m)^\s*server (\S+) (\S+) check", text))
    serve = {n for n, s in _signalgate(services).items() if s["command"] == ["serve"]}
    assert servers == {n: f"{n}:{cfg.gateway.port}" for n in serve}
    assert "option httpchk GET /healthz" in text and "http-check expect status 200" in text
    (tunnel,) = re.findall(r"(?m)^\s*timeout tunnel (\d+)s", text)
    assert int(tunnel) > cfg.gateway.ws_ping_interval + cfg.gateway.ws_ping_timeout
    assert not re.search(r"(?m)^\s*(stick|cookie|balance source)", text)  # no sticky sessions needed
    (mount,) = services["lb"]["volumes"]
    assert (ROOT / mount.split(":")[0]).resolve() == HAPROXY


def test_the_cluster_init_joins_every_node_once(services: dict[str, Any]) -> None:
    """redis-cli --cluster create names every node's port, skips a formed cluster, and is valid sh."""
    init = services["redis-cluster-init"]
    (script,) = init["command"]
    nodes = [n for n, s in services.items() if "--cluster-enabled yes" in str(s.get("command", ""))]
    for node in nodes:
        assert f"$(ip {node}):7000" in script and "--port 7000" in services[node]["command"]
        assert init["depends_on"][node] == {"condition": "service_healthy"}
    assert "--cluster create" in script and "--cluster-yes" in script and "cluster_state:ok && exit 0" in script
    subprocess.run(["sh", "-n", "-c", script], check=True)  # syntax check only (sh -n)
