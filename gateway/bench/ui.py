"""Live progress while the bench runs (rich), one line per finished figure."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from gateway.bench.figures import Figure


class Ui:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._started = 0.0

    def __enter__(self) -> Ui:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    @contextlib.contextmanager
    def phase(self, label: str, seconds: float | None = None) -> Iterator[None]:
        """Show ``label`` while the block runs (a bar when its length is known)."""
        self._task = self.progress.add_task(label, total=seconds, status="")
        self._started = time.monotonic()
        try:
            yield
        finally:
            self.progress.remove_task(self._task)
            self._task = None

    def update(self, status: str) -> None:
        if self._task is not None:
            self.progress.update(self._task, status=status, completed=time.monotonic() - self._started)

    def on_agent_progress(self, msg: dict[str, Any]) -> None:
        elapsed = float(msg.get("elapsed") or 0)
        done = int(msg.get("done") or 0)
        self.update(f"{done:,} answered, {done / elapsed:,.0f} req/s" if elapsed > 0 else f"{done:,} answered")

    def log(self, text: str) -> None:
        self.console.print(text, highlight=False)

    def figure(self, fig: Figure) -> None:
        parts = [f"[bold]{fig.name}[/bold] {fig.value:,.1f} {fig.unit}"]
        if fig.baseline is not None:
            parts.append(f"baseline {fig.baseline:,.1f} ({(fig.ratio or 0) * 100:.0f}%)")
        if fig.latency.p99_ms is not None:
            parts.append(f"p99 {fig.latency.p99_ms:.1f} ms")
        if fig.lost or fig.duplicated:
            parts.append(f"[red]lost {fig.lost} dup {fig.duplicated}[/red]")
        mark = {True: "[green]✓[/green]", False: "[yellow]✗[/yellow]", None: "·"}[fig.goal_met]
        self.log(f"{mark} " + ", ".join(parts))
