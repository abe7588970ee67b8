"""Running ``signalgate bench`` (:mod:`gateway.cli` adds its arguments from :mod:`~gateway.bench.options`).

The bench's own dependencies are an extra (``signalgate[bench]``: rich, httpx, aiosmtpd): without
them the rest of ``signalgate`` still works and ``signalgate bench`` says what to install.
"""

from __future__ import annotations

import argparse
import sys

try:
    from gateway.bench.runner import main
except ImportError as exc:  # the extra is not installed
    _missing: ImportError | None = exc
else:
    _missing = None


def run_bench(args: argparse.Namespace) -> int:
    """``signalgate bench``: exit status 0, 1 (a failure or a loss), 2 (bad options, no extra) or 130."""
    if _missing is not None:
        missing = f"signalgate bench: missing {_missing.name}; install the extra: pip install 'signalgate[bench]'"
        print(missing, file=sys.stderr)  # noqa: T201 - the one clear line
        return 2
    return main(args)
