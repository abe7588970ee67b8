"""Running ``signalgate bench`` (:mod:`gateway.cli` adds its arguments from :mod:`~gateway.bench.options`).

The bench's libraries (rich, httpx, aiosmtpd) are ordinary dependencies of signalgate, so a plain
install runs it; :mod:`gateway.cli` imports this module only for ``bench``, so no other process
pays for loading them.
"""

from __future__ import annotations

import argparse

from gateway.bench.runner import main


def run_bench(args: argparse.Namespace) -> int:
    """``signalgate bench``: exit status 0, 1 (a failure or a loss), 2 (bad options) or 130."""
    return main(args)
