"""Unit tests for gateway.edge.server: the connection budget under a file descriptor limit."""

from __future__ import annotations

import resource

import pytest

from gateway.edge.limits import SHED_MAX_LINGERING
from gateway.edge.server import connection_budget, raise_nofile_limit


@pytest.mark.parametrize(
    ("configured", "nofile", "connections", "backlog"),
    [
        (10000, 1_048_576, 10000, 1024),  # plenty: the configured cap
        (10000, 20000, 10000, 1024),
        (10000, 1024, 1024 - 128 - SHED_MAX_LINGERING - 64, 64),  # a default soft limit
        (10000, 300, 300 - 96 - SHED_MAX_LINGERING - 18, 18),
        (100, 300, 100, 18),  # configured below what fits
        (10000, 100, 1, 16),  # absurdly small: still serves one
    ],
)
def test_budget_leaves_room_for_the_process_the_accept_batch_and_lingering_refusals(
    configured: int, nofile: int, connections: int, backlog: int
) -> None:
    """Connections + one accept batch + lingering 503s + the process's files fit under the limit."""
    budget = connection_budget(configured, nofile)
    assert (budget.connections, budget.backlog) == (connections, backlog)


def test_soft_nofile_limit_is_raised_to_the_hard_limit() -> None:
    """After the call the soft limit is the hard one (what the process may use), and is returned."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
        got = raise_nofile_limit()
        new_soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        assert new_soft == got
        assert got == hard or hard == resource.RLIM_INFINITY
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
