"""``signalgate_worker_jobs{outcome}``: the arq workers' own job counts, on the process's registry.

The supervisor may replace a failed arq ``Worker`` with a new one; the counts of the workers that
ended are kept, so the counter never goes down.
"""

from __future__ import annotations

from collections.abc import Iterator

from arq.worker import Worker
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

_OUTCOMES = ("complete", "failed", "retried")


def _counts(worker: Worker) -> dict[str, int]:
    return {"complete": worker.jobs_complete, "failed": worker.jobs_failed, "retried": worker.jobs_retried}


class WorkerStats(Collector):
    def __init__(self) -> None:
        self._ended = dict.fromkeys(_OUTCOMES, 0)
        self._live: list[Worker] = []

    @classmethod
    def on(cls, registry: CollectorRegistry) -> WorkerStats:
        stats = cls()
        registry.register(stats)
        return stats

    def attach(self, worker: Worker) -> None:
        self._live.append(worker)

    def detach(self, worker: Worker) -> None:
        if worker in self._live:
            self._live.remove(worker)
            for outcome, n in _counts(worker).items():
                self._ended[outcome] += n

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily("signalgate_worker_jobs", "arq jobs ended, by outcome", labels=["outcome"])
        for outcome in _OUTCOMES:
            family.add_metric([outcome], self._ended[outcome] + sum(_counts(w)[outcome] for w in self._live))
        yield family
