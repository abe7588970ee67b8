"""What every scenario works with: the gateway under test, the bench org, agents, and helpers."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from gateway.bench.agents import Agent
from gateway.bench.figures import Figure
from gateway.bench.options import Settings
from gateway.bench.procfs import rss_kib
from gateway.bench.provision import Admin, BenchOrg
from gateway.bench.stack import Proc, Stack
from gateway.bench.stats import Latency, latency_ms, rate
from gateway.bench.ui import Ui

# Sequence numbers are handed out in blocks so that every phase and agent has its own range.
_SEQ_BLOCK = 10_000_000


def endpoint_of(url: str, path: str = "") -> dict[str, Any]:
    parts = urlsplit(url)
    tls = parts.scheme in ("https", "wss")
    port = parts.port or (443 if tls else 80)
    host = parts.hostname or "127.0.0.1"
    return {"host": host, "port": port, "tls": tls, "host_header": parts.netloc, "path": path}


@dataclass
class HttpOutcome:
    """One load phase, merged over the HTTP agents."""

    started_ns: int
    window: float
    completed: int
    statuses: Counter[str]
    errors: Counter[str]
    accepted: int
    accepted_seqs: list[int]
    duplicates: int
    latency: Latency
    cpu: dict[str, float]

    @property
    def rps(self) -> float:
        return rate(self.completed, self.window)

    @property
    def refused(self) -> int:
        return sum(n for code, n in self.statuses.items() if not code.startswith("2"))

    def extra(self) -> dict[str, Any]:
        return {
            "requests": self.completed,
            "statuses": dict(self.statuses),
            "errors": dict(self.errors),
            "cpu": self.cpu,
        }


@dataclass
class Bench:
    settings: Settings
    ui: Ui
    base_url: str  # the gateway under test
    public_url: str  # what it believes its URL is (Twilio signatures cover it)
    admin: Admin
    org: BenchOrg
    http_agents: list[Agent]
    ws_agent: Agent
    stack: Stack  # the processes this run started (with --target: only the helpers)
    secret_key: str | None = None
    bare: dict[str, tuple[str, Proc]] = field(default_factory=dict)  # baseline servers started so far
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    generator_ceilings: dict[str, float] = field(default_factory=dict)  # by request kind
    baselines: dict[tuple[str, float | None], HttpOutcome] = field(default_factory=dict)
    fleet_open: bool = False
    _seq: int = _SEQ_BLOCK

    @property
    def local(self) -> bool:
        """Self-contained: this run started the gateway, so baselines on this machine compare."""
        return self.stack.gateway is not None

    def next_seq(self) -> int:
        self._seq += _SEQ_BLOCK
        return self._seq

    def add(self, fig: Figure) -> Figure:
        self.figures.append(fig)
        self.ui.figure(fig)
        return fig

    # -- processes ------------------------------------------------------------------------------
    def pids(self, **extra: Proc) -> dict[str, int]:
        """Processes whose CPU share is reported with each phase (``serve`` is called gateway)."""
        out: dict[str, int] = {}
        for proc in self.stack.procs:
            base, _, n = proc.name.rpartition("-")
            if base == "serve":  # more serve nodes than the gateway: gateway-<n>
                out["gateway" if proc is self.stack.gateway else f"gateway-{n}"] = proc.pid
            elif base in ("redis", "queue-redis"):
                out[base.replace("-", "_")] = proc.pid
            elif base in ("router", "worker"):
                out[proc.name] = proc.pid
        out.update(self.stack.cluster_pids())  # with --redis-cluster: redis-1, redis-2, …
        for i, agent in enumerate(self.http_agents):
            out["generator" if len(self.http_agents) == 1 else f"generator-{i + 1}"] = agent.proc.pid
        out["ws_clients"] = self.ws_agent.proc.pid
        out.update({name: proc.pid for name, proc in extra.items()})
        return out

    def gateway_rss_kib(self) -> int | None:
        if self.stack.gateway is None:
            return None
        return rss_kib(self.stack.gateway.pid)

    # -- HTTP load over all agents --------------------------------------------------------------
    async def http(
        self,
        spec: dict[str, Any],
        *,
        url: str | None = None,
        connections: int,
        duration: float,
        rate: float | None = None,
        count: int | None = None,
        classify: str = "2xx",
        prebuild: int = 0,
        return_seqs: bool = False,
        warmup: float = 0.5,
        watch: dict[str, Proc] | None = None,
        cycle: bool = False,
    ) -> HttpOutcome:
        agents = self.http_agents
        n = len(agents)
        pids = self.pids(**(watch or {}))
        calls = []
        for i, agent in enumerate(agents):
            part = dict(spec, seq_base=self.next_seq())
            calls.append(
                agent.call(
                    "http",
                    spec=part,
                    endpoint=endpoint_of(url or self.base_url),
                    connections=max(1, connections // n + (1 if i < connections % n else 0)),
                    duration=duration,
                    rate=None if rate is None else rate / n,
                    count=None if count is None else count // n + (1 if i < count % n else 0),
                    classify="event" if classify == "event" else "2xx",
                    prebuild=prebuild // n,
                    return_seqs=return_seqs,
                    warmup=warmup,
                    watch=pids if i == 0 else {},
                    cycle=cycle,
                )
            )
        return merge(await asyncio.gather(*calls))


def merge(results: list[dict[str, Any]]) -> HttpOutcome:
    """One outcome from every agent's part (CPU shares are sampled by the first agent)."""
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[int] = []
    seqs: list[int] = []
    for r in results:
        statuses.update(r["statuses"])
        errors.update(r["errors"])
        latencies.extend(r["latencies_us"])
        seqs.extend(r["accepted_seqs"])
    return HttpOutcome(
        started_ns=min((r["started_ns"] for r in results if r["started_ns"]), default=0),
        window=max(r["window"] for r in results),
        completed=sum(r["completed"] for r in results),
        statuses=statuses,
        errors=errors,
        accepted=sum(r["accepted"] for r in results),
        accepted_seqs=seqs,
        duplicates=sum(r["duplicates"] for r in results),
        latency=latency_ms(latencies),
        cpu=results[0].get("cpu") or {},
    )
