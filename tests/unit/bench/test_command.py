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

# `signalgate bench` where the `bench` extra is not installed: rich cannot be imported.
WITHOUT_RICH = """
import importlib.abc
import sys


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "rich":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
from gateway.cli import main

sys.exit(main(["bench"]))
"""


def test_bad_options_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Options are checked before any process starts: one line on stderr, exit status 2."""
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    assert run_bench(parser.parse_args(["--duration", "0"])) == 2
    assert capsys.readouterr().err == "signalgate bench: --duration and --rate must be positive\n"


def test_without_the_extra_the_cli_still_imports_and_bench_says_what_to_install() -> None:
    """The bench's dependencies are an extra: ``signalgate`` still loads, ``bench`` exits 2 naming it."""
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_RICH], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "signalgate bench: missing rich; install the extra: pip install 'signalgate[bench]'\n"


def test_other_commands_do_not_load_the_bench() -> None:
    """Importing the CLI loads neither the bench's runner nor its extra: only ``bench`` pays for them."""
    check = "import sys, gateway.cli; print(sorted(m for m in ('rich', 'gateway.bench.runner') if m in sys.modules))"
    proc = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
