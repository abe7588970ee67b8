"""``send``: SMS and email jobs through the real workers, quota and credit checks, local providers.

Jobs go straight onto ``signalgate:queue`` as any arq client would submit them, deferred to one
instant so the workers drain a full queue (enqueueing is not what is measured). Rate = jobs /
(last finish − first start) from arq's own job results. Then the counters must be exact: every job
``sent``, the local Twilio API / SMTP server got each message once, credits fell by exactly the
SMS sent, the day's email count rose by exactly the emails sent. The baseline is a no-op arq job
under the same worker settings, with the same number of worker processes, in the same run.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import health_check_key_suffix, result_key_prefix

from gateway.bench.agents import LineChannel
from gateway.bench.baselines import NOOP_JOB, NOOP_QUEUE
from gateway.bench.context import Bench
from gateway.bench.figures import Figure
from gateway.bench.options import WORKER_COUNTS
from gateway.bench.procfs import CpuMeter
from gateway.bench.stack import Proc
from gateway.bench.stats import Latency, latency_ms
from gateway.store.jobs import QUEUE_NAME, SEND_EMAIL, SEND_SMS, deserialize, serialize

NOOP_JOBS_PER_SECOND = 200
_RESULT_TIMEOUT = 120.0


class Providers:
    """The local Twilio API + SMTP process and its stats."""

    def __init__(self, proc: Proc, channel: LineChannel, twilio_url: str, smtp_port: int) -> None:
        self.proc, self.channel, self.twilio_url, self.smtp_port = proc, channel, twilio_url, smtp_port

    @classmethod
    async def start(cls, b: Bench) -> Providers:
        proc = await b.stack.python_module("providers", "gateway.bench.providers", pipes=True)
        channel = LineChannel(proc)
        hello = await channel.read(within=60)
        providers = cls(proc, channel, hello["twilio"], int(hello["smtp_port"]))
        await channel.send({"op": "account", "sid": b.org.account_sid, "token": b.org.auth_token})
        await channel.read()
        return providers

    async def stats(self) -> dict[str, int]:
        await self.channel.send({"op": "stats"})
        return {k: int(v) for k, v in (await self.channel.read()).items()}

    def worker_env(self) -> dict[str, str]:
        return {
            "SIGNALGATE_TWILIO_API_BASE": self.twilio_url,
            "SIGNALGATE_SMTP_HOST": "127.0.0.1",
            "SIGNALGATE_SMTP_PORT": str(self.smtp_port),
            "SIGNALGATE_SMTP_FROM_ADDRESS": "sales@bench.example.jp",
        }


async def _start_workers(b: Bench, pool: ArqRedis, queue: str, count: int, env: dict[str, str] | None) -> list[Proc]:
    """Worker processes, returned once the queue's health key shows one polls (plus a moment for the rest)."""
    await pool.delete(queue + health_check_key_suffix)
    if env is None:
        procs = [
            await b.stack.python_module("noop-worker", "gateway.bench.baselines", "noop", "--redis", b.stack.queue_url)
            for _ in range(count)
        ]
    else:
        procs = [await b.stack.signalgate("worker", **env) for _ in range(count)]
    deadline = time.monotonic() + 60
    while not await pool.exists(queue + health_check_key_suffix):
        if time.monotonic() > deadline or not all(p.alive for p in procs):
            raise RuntimeError(f"workers did not start; see {procs[0].log}")
        await asyncio.sleep(0.1)
    if count > 1:  # the key shows that one polls; give the others (started together) a moment
        await asyncio.sleep(1.0)
    return procs


async def _enqueue(pool: ArqRedis, queue: str, jobs: list[tuple[str, str, dict[str, Any]]]) -> None:
    """All jobs, available to workers at one instant a moment from now."""
    at = datetime.now(tz=UTC) + timedelta(seconds=0.3 + len(jobs) / 800)
    for start in range(0, len(jobs), 200):
        await asyncio.gather(
            *(
                pool.enqueue_job(name, _job_id=jid, _queue_name=queue, _defer_until=at, **kw)
                for name, jid, kw in jobs[start : start + 200]
            )
        )


async def _results(pool: ArqRedis, ids: list[str]) -> list[dict[str, Any]]:
    """arq's stored results for every job, once all are in (or the timeout passes)."""
    deadline = time.monotonic() + _RESULT_TIMEOUT
    while True:
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), 500):
            raws = await pool.mget([result_key_prefix + i for i in ids[start : start + 500]])
            found.extend(deserialize(r) for r in raws if r is not None)
        if len(found) == len(ids) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.25)


def _span(results: list[dict[str, Any]]) -> float:
    """Seconds from the first job's start to the last job's finish."""
    if not results:
        return 0.0
    return max((max(int(r["ft"]) for r in results) - min(int(r["st"]) for r in results)) / 1000, 1e-3)


def _throughput(results: list[dict[str, Any]]) -> tuple[float, Latency]:
    """Jobs/s over the busy span, and each job's own run time."""
    if not results:
        return 0.0, latency_ms([])
    runs = [(r["ft"] - r["st"]) * 1000 for r in results]
    return round(len(results) / _span(results), 1), latency_ms(runs)


async def _counter(b: Bench, channel: str) -> int:
    if channel == "sms":
        return int((await b.admin.call("GET", f"/api/v1/orgs/{b.org.id}/credits"))["balance"])
    usage = await b.admin.call("GET", f"/api/v1/orgs/{b.org.id}/usage")
    return int(usage["email"]["individual"]["used"])


async def _send_batch(b: Bench, pool: ArqRedis, providers: Providers, channel: str, workers: int) -> Figure:
    run = secrets.token_hex(3)
    jobs_count = b.settings.send_jobs
    contacts = b.org.contacts
    template = b.org.sms_template if channel == "sms" else b.org.email_template
    jobs = [
        (
            SEND_SMS if channel == "sms" else SEND_EMAIL,
            f"bench-{run}-{channel}-{i}",
            {
                "org": b.org.id,
                "template": template,
                "to": {"contact": contacts[i % len(contacts)]},
                "data": {"name": f"顧客{i}", "n": f"{run}-{i}"},
                "kind": "individual",
                "idempotency_key": f"bench-{run}-{channel}-{i}",
            },
        )
        for i in range(jobs_count)
    ]
    before, counter_before = await providers.stats(), await _counter(b, channel)
    meter = CpuMeter(b.pids(providers=providers.proc))
    meter.start(time.monotonic())
    await _enqueue(pool, QUEUE_NAME, jobs)
    results = await _results(pool, [j[1] for j in jobs])
    cpu = meter.stop(time.monotonic(), busy_seconds=_span(results))
    after, counter_after = await providers.stats(), await _counter(b, channel)
    value, latency = _throughput(results)
    outcomes = Counter(str((r.get("r") or {}).get("status", "error")) if r.get("s") else "error" for r in results)
    sent = outcomes.get("sent", 0)
    got, unique = after[channel] - before[channel], after[f"{channel}_unique"] - before[f"{channel}_unique"]
    # One SMS segment each (short Japanese text), so credits fall by exactly the SMS sent.
    counted = counter_before - counter_after if channel == "sms" else counter_after - counter_before
    fig = Figure(
        f"send_{channel}_{workers}w",
        value,
        "jobs/s",
        latency=latency,
        lost=max(jobs_count - sent, jobs_count - unique, 0),
        duplicated=max(got - unique, 0) + max(unique - jobs_count, 0),
    )
    fig.extra.update(
        jobs=jobs_count,
        workers=workers,
        outcomes=dict(outcomes),
        provider_received=got,
        counters_exact=counted == sent == got,
        counted=counted,
        cpu=cpu,
    )
    fig.notes.append("latency columns: each job's own run time (arq start → finish)")
    return fig


async def _noop_batch(b: Bench, pool: ArqRedis, workers: int) -> tuple[float, Latency, dict[str, float]]:
    procs = await _start_workers(b, pool, NOOP_QUEUE, workers, None)
    try:
        ids = [
            f"bench-noop-{secrets.token_hex(3)}-{i}"
            for i in range(max(50, int(NOOP_JOBS_PER_SECOND * b.settings.duration)))
        ]
        meter = CpuMeter(b.pids(**{f"noop-{i + 1}": p for i, p in enumerate(procs)}))
        meter.start(time.monotonic())
        await _enqueue(pool, NOOP_QUEUE, [(NOOP_JOB, i, {}) for i in ids])
        results = await _results(pool, ids)
        cpu = meter.stop(time.monotonic(), busy_seconds=_span(results))
    finally:
        await b.stack.stop(procs)
    value, latency = _throughput(results)
    return value, latency, cpu


async def run_send(b: Bench) -> None:
    if not b.local:
        b.notes.append("send skipped with --target: it would send real SMS and mail through the target's providers")
        b.ui.log("[yellow]send skipped[/yellow]: only self-contained (it would use the target's real providers)")
        return
    providers = await Providers.start(b)
    pool = await create_pool(
        RedisSettings.from_dsn(b.stack.queue_url), job_serializer=serialize, job_deserializer=deserialize
    )
    try:
        for workers in WORKER_COUNTS:
            with b.ui.phase(f"send: SMS and email jobs, {workers} worker(s)"):
                procs = await _start_workers(b, pool, QUEUE_NAME, workers, providers.worker_env())
                try:
                    figs = [await _send_batch(b, pool, providers, channel, workers) for channel in ("sms", "email")]
                finally:
                    await b.stack.stop(procs)
            with b.ui.phase(f"send baseline: no-op arq job, {workers} worker(s)"):
                noop, noop_latency, noop_cpu = await _noop_batch(b, pool, workers)
            for fig in figs:
                fig.baseline, fig.baseline_latency = noop, noop_latency
                fig.extra["baseline_cpu"] = noop_cpu
                b.add(fig)
    finally:
        await pool.aclose()
        await b.stack.stop([providers.proc])
