"""The store types its client as ``redis.asyncio.Redis`` while a Redis Cluster client stands in for
it (gateway.store.connect): every client method the store calls must exist on redis-py's async
``RedisCluster``, and no pipeline may use a command its ``ClusterPipeline`` refuses (e.g. ``publish``,
``evalsha``: use ``execute_command``). Read from the source, so a new call is checked too."""

from __future__ import annotations

import re
from pathlib import Path

from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.cluster import PIPELINE_BLOCKED_COMMANDS

STORE = Path(__file__).resolve().parents[3] / "gateway" / "store"
# Attributes of the client the store may use that are not Redis commands.
_NOT_COMMANDS = {"pipeline", "register_script", "aclose", "execute", "execute_command"}


def _calls(pattern: str) -> set[str]:
    names: set[str] = set()
    for path in STORE.glob("*.py"):
        names |= set(re.findall(pattern, path.read_text(encoding="utf-8")))
    return names


def test_every_client_method_the_store_calls_exists_on_the_cluster_client() -> None:
    called = _calls(r"\b(?:self\._r|self\._redis|redis)\.([a-z_]+)\(")
    assert "hgetall" in called  # the pattern finds calls at all
    missing = sorted(n for n in called if not hasattr(RedisCluster, n))
    assert missing == []


def test_no_pipeline_call_is_refused_by_the_cluster_pipeline() -> None:
    called = _calls(r"\bpipe\.([a-z_]+)\(") - _NOT_COMMANDS
    assert "hgetall" in called
    blocked = {c.replace(" ", "_").lower() for c in PIPELINE_BLOCKED_COMMANDS}
    assert sorted(called & blocked) == []
    assert sorted(n for n in called if not hasattr(ClusterPipeline, n)) == []


def test_no_transactions() -> None:
    """The async ClusterPipeline has no MULTI/EXEC nor WATCH: what must be atomic is one Lua script."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in STORE.glob("*.py"))
    assert not re.search(r"transaction=True|\.watch\(|\.multi\(\)", sources)
