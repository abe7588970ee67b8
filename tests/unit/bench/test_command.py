"""``gateway.bench.command``: what ``signalgate bench`` answers before anything starts."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.bench.command import run_bench
from gateway.bench.options import add_bench_arguments

ROOT = Path(__file__).resolve().parents[3]


def test_bad_options_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Options are checked before any process starts: one line on stderr, exit status 2."""
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    assert run_bench(parser.parse_args(["--duration", "0"])) == 2
    assert capsys.readouterr().err == "signalgate bench: --duration and --rate must be positive\n"


def test_other_commands_do_not_load_the_bench() -> None:
    """Importing the CLI loads neither the bench's runner nor its libraries: only ``bench`` pays for them."""
    check = "import sys, gateway.cli; print(sorted(m for m in ('rich', 'gateway.bench.runner') if m in sys.modules))"
    proc = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
