"""Local helpers shared by the benchmark and the tests: free ports, child process environments."""

from __future__ import annotations

import os
import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any ``SIGNALGATE_*`` setting, plus ``extra``.

    A child signalgate process is configured only through ``extra``: nothing the user exported
    leaks into it.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNALGATE_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env
