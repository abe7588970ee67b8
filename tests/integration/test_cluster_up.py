"""``signalgate up`` and ``signalgate demo`` with ``[redis] cluster = true`` in config.toml (not the
environment) against a real Redis Cluster: up starts and is healthy, the demo org's sample events
and a signed Twilio callback are routed by the embedded router, and no node counts a CROSSSLOT."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.devtools.net import child_env
from tests.support.api import call_params, post_twilio, provision_org
from tests.support.processes import ADMIN_TOKEN, ROOT, Processes
from tests.support.redis import RedisServer
from tests.support.redis_cluster import RedisCluster
from tests.support.timing import FACTOR, wait_for
from tests.support.ws import live_feed


def _cluster_toml(directory: str, cluster: RedisCluster, queue: RedisServer) -> Path:
    path = Path(directory) / "cluster.toml"
    path.write_text(f'[redis]\nurl = "{cluster.url}"\ncluster = true\n\n[queue]\nurl = "{queue.url}"\n')
    return path


@pytest.fixture
def up_procs(redis_cluster: RedisCluster, queue_redis: RedisServer) -> Iterator[Processes]:
    procs = Processes()
    procs.config = _cluster_toml(procs.logdir, redis_cluster, queue_redis)
    yield procs
    procs.close()


async def test_up_and_demo_with_cluster_in_config_toml_route_events(
    redis_cluster: RedisCluster, up_procs: Processes
) -> None:
    # cluster = true and the queue's URL come from the file only (no SIGNALGATE_REDIS_CLUSTER)
    gw, proc = up_procs.serve(redis_cluster.url, with_router=True)
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10 * FACTOR) as client:
        r = await client.get("/healthz")
        assert r.status_code == 200, r.text

        env = {"SIGNALGATE_GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN, "SIGNALGATE_GATEWAY_PUBLIC_URL": gw.base_url}
        demo = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "demo", "--config", str(up_procs.config)],
            cwd=ROOT,
            env=child_env({"PYTHONPATH": str(ROOT), **env}),
            capture_output=True,
            text=True,
            timeout=30 * FACTOR,
            check=False,
        )
        assert demo.returncode == 0, demo.stderr
        token = re.search(r"User token:\s+(\S+)", demo.stdout).group(1)  # type: ignore[union-attr]

        async def demo_feed() -> list[object] | None:
            r = await client.get("/api/v1/me/signals", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            return r.json()["signals"] or None

        assert await wait_for(demo_feed, timeout=20, interval=0.2)

        org = await provision_org(client, gw, "up-" + uuid.uuid4().hex[:10])
        feed = await live_feed(gw, org.tokens["u1"])
        r = await post_twilio(client, org, "voice-status", call_params("no-answer"))
        assert r.status_code in (200, 204), r.text
        assert (await feed.signal("call.missed", timeout=10))["contact"]["id"] == "c-yamada"
        await feed.ws.close()
        assert (await client.delete("/api/v1/orgs/demo", headers=gw.admin)).status_code == 204
    assert proc.poll() is None
    assert redis_cluster.crossslot_errors() == dict.fromkeys(redis_cluster.ports, 0)
