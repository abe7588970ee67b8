"""The final table and the JSON report (machine, versions, settings, every figure)."""

from __future__ import annotations

import os
import platform
import resource
import sys
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from gateway.bench.figures import Figure
from gateway.bench.options import Settings
from gateway.bench.procfs import machine_cpu_model, memory_mib

PACKAGES = (
    "signalgate",
    "starlette",
    "uvicorn",
    "websockets",
    "redis",
    "hiredis",
    "arq",
    "uvloop",
    "httptools",
    "orjson",
    "twilio",
    "standardwebhooks",
    "aiosmtplib",
    "aiosmtpd",
)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_info(redis_version: str | None) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": machine_cpu_model(),
        "memory_mib": memory_mib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "fd_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "redis_server": redis_version,
        "versions": {name: _version(name) for name in PACKAGES},
        "argv": sys.argv[1:],
    }


def report_json(
    machine: dict[str, Any], settings: Settings, figures: list[Figure], notes: list[str], elapsed: float
) -> dict[str, Any]:
    return {
        "machine": machine,
        "settings": asdict(settings) | {"admin_token": None, "secret_key": None},
        "elapsed_s": round(elapsed, 1),
        "scenarios": {f.name: f.as_json() for f in figures},
        "notes": notes,
    }


def write_json(path: str, data: dict[str, Any]) -> None:
    Path(path).write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def _num(value: float | None) -> str:
    """Three significant digits or so, thousands separated: 12,345 / 123 / 12.3 / 1.23 / 0.123."""
    if value is None:
        return "–"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if size >= 1 else f"{value:.3f}"


def table(figures: list[Figure], title: str) -> Table:
    t = Table(title=title, title_justify="left", show_lines=False, pad_edge=False)
    for name, justify in (
        ("figure", "left"),
        ("value", "right"),
        ("unit", "left"),
        ("baseline", "right"),
        ("ratio", "right"),
        ("p50 ms", "right"),
        ("p90 ms", "right"),
        ("p99 ms", "right"),
        ("max ms", "right"),
        ("lost", "right"),
        ("dup", "right"),
        ("goal", "left"),
    ):
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in figures:
        mark = {True: "[green]✓[/green] ", False: "[red]✗[/red] ", None: ""}[f.goal_met]
        t.add_row(
            f.name,
            _num(f.value),
            f.unit,
            _num(f.baseline),
            "–" if f.ratio is None else f"{f.ratio * 100:.0f}%",
            _num(f.latency.p50_ms),
            _num(f.latency.p90_ms),
            _num(f.latency.p99_ms),
            _num(f.latency.max_ms),
            str(f.lost),
            str(f.duplicated),
            mark + (f.goal or ""),
        )
    return t


def print_report(
    console: Console, machine: dict[str, Any], settings: Settings, figures: list[Figure], notes: list[str]
) -> None:
    redis = "Redis Cluster of 3 masters + queue Redis" if settings.redis_cluster else "Redis"
    where = settings.target or f"self-contained (private {redis}, gateway, router, workers on this machine)"
    title = (
        f"signalgate bench — {where}\n{machine['cpus']} × {machine['cpu_model']}, "
        f"Python {machine['python']}, {settings.clients:,} clients, {settings.rate:,.0f} events/s, "
        f"{settings.connections} connections, {settings.duration:g} s phases"
    )
    console.print(table(figures, title))
    for f in figures:
        cpu = f.extra.get("cpu")
        if cpu:
            busy = ", ".join(f"{name} {share * 100:.0f}%" for name, share in sorted(cpu.items(), key=lambda x: -x[1]))
            console.print(f"  {f.name}: CPU (share of one core) {busy}", highlight=False)
        share = f.extra.get("baseline_share_of_generator_ceiling")
        if share is not None:
            console.print(
                f"  {f.name}: the bare baseline reached {share * 100:.0f}% of the generator's ceiling "
                f"({f.extra['generator_ceiling']:,.0f} req/s)",
                highlight=False,
            )
        for note in f.notes:
            console.print(f"  {f.name}: {note}", highlight=False)
    for note in notes:
        console.print(f"  note: {note}", highlight=False)
