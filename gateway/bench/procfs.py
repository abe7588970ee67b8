"""Per-process CPU time and resident memory from ``/proc`` (Linux; ``None`` elsewhere).

These read small in-memory pseudo-files and never block on I/O, so they are safe to call from
the event loop.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def rss_kib(pid: int) -> int | None:
    """VmRSS of ``pid`` in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds ``pid`` has used so far."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; the fields after its closing paren are fixed.
    fields = raw[raw.rfind(")") + 2 :].split()
    try:
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (IndexError, ValueError):
        return None


class CpuMeter:
    """Share of one core each named process used between :meth:`start` and :meth:`stop`."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self._before: dict[str, float | None] = {}
        self._t0 = 0.0

    def start(self, now: float) -> None:
        self._t0 = now
        self._before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self, now: float, busy_seconds: float | None = None) -> dict[str, float]:
        """Shares over the time since :meth:`start`, or over ``busy_seconds`` when only that part was busy."""
        elapsed = max(busy_seconds if busy_seconds is not None else now - self._t0, 1e-9)
        out: dict[str, float] = {}
        for name, pid in self.pids.items():
            before, after = self._before.get(name), cpu_seconds(pid)
            if before is not None and after is not None:
                out[name] = round((after - before) / elapsed, 2)
        return out


def machine_busy_seconds() -> float | None:
    """CPU seconds every core of the machine spent not idle so far (all processes, ours or not)."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        # cpu user nice system idle iowait irq softirq steal …: idle and iowait are not busy
        values = [int(v) for v in first[1:9]]
    except (OSError, ValueError, IndexError):
        return None
    return (sum(values) - values[3] - values[4]) / _TICKS


class MachineMeter:
    """Cores of the whole machine busy between :meth:`start` and :meth:`stop` (other programs included)."""

    def __init__(self) -> None:
        self._busy: float | None = None
        self._t0 = 0.0

    def start(self, now: float) -> None:
        self._t0, self._busy = now, machine_busy_seconds()

    def stop(self, now: float) -> float | None:
        after = machine_busy_seconds()
        if self._busy is None or after is None or now <= self._t0:
            return None
        return round((after - self._busy) / (now - self._t0), 2)


def machine_cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def memory_mib() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError):
        return None
    return None
