"""Fixtures: a real redis-server, real gateway and router processes, an HTTP client and a fresh org.

The machinery behind them lives in ``tests/support/``; ``pytest_plugins`` adds the fixture modules
there. Everything runs on free loopback ports. Timeouts scale with ``SG_TEST_TIMEOUT_FACTOR`` so a
slow CI machine does not flake. With ``CI=true`` a missing binary is an error, never a skip.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis as redis_sync

from tests.support.api import Gateway, OrgCtx, provision_org
from tests.support.processes import Processes
from tests.support.redis import RedisServer
from tests.support.timing import FACTOR

pytest_plugins = ["tests.support.sending", "tests.support.redis_cluster", "tests.support.imap"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def session_procs() -> Iterator[Processes]:
    with Processes() as procs:
        yield procs


@pytest.fixture(scope="session")
def gateway(redis_server: RedisServer, session_procs: Processes) -> Gateway:
    """One `serve` process and one `router` process shared by the session. Its API accepts mailboxes
    on loopback addresses ([mailboxes] allow_private_hosts): the tests' IMAP servers listen there."""
    gw, _ = session_procs.serve(redis_server.url, SIGNALGATE_MAILBOXES_ALLOW_PRIVATE_HOSTS="true")
    session_procs.router(redis_server.url)
    return gw


@pytest.fixture
def procs() -> Iterator[Processes]:
    """Processes private to one test (killed at its end)."""
    with Processes() as p:
        yield p


@pytest.fixture
def sync_redis(redis_server: RedisServer) -> Iterator[redis_sync.Redis]:
    """A blocking client of the session's Redis (for wait_for lambdas), strings decoded."""
    client = redis_sync.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def fresh_redis() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture
async def client(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10 * FACTOR) as c:
        yield c


@pytest.fixture
async def org(gateway: Gateway, client: httpx.AsyncClient) -> OrgCtx:
    """A fresh org (unique id) with two users, three contacts, Twilio and webhook secrets."""
    return await provision_org(client, gateway, "t-" + uuid.uuid4().hex[:12])
