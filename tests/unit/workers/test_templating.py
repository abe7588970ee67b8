"""Unit tests for workers.templating: compiled once per template version, simple ones on the loop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.domain import rendering
from gateway.domain.rendering import TemplateError
from workers import templating
from workers.templating import TemplateCache, small_data


def _template(body: str, version: int = 1, tid: str = "t1", subject: str | None = None) -> dict[str, Any]:
    rec = {"id": tid, "channel": "email", "body": body, "version": version}
    if subject is not None:
        rec["subject"] = subject
    return rec


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sources compiled (past the process-wide cache of the domain)."""
    seen: list[str] = []
    real = rendering.compile_template.__wrapped__

    def counting(source: str, html: bool) -> rendering.Compiled:
        seen.append(source)
        return real(source, html)

    monkeypatch.setattr(templating, "compile_template", counting)
    return seen


async def test_a_template_version_is_compiled_once(compiles: list[str]) -> None:
    cache = TemplateCache()
    for i in range(5):
        assert await cache.render("o1", _template("Hi {{ n }}"), "body", {"n": i}) == f"Hi {i}"
    assert compiles == ["Hi {{ n }}"]


async def test_a_new_version_or_a_recreated_template_is_compiled_again(compiles: list[str]) -> None:
    cache = TemplateCache()
    assert await cache.render("o1", _template("v1 {{ n }}"), "body", {"n": 1}) == "v1 1"
    assert await cache.render("o1", _template("v2 {{ n }}", version=2), "body", {"n": 1}) == "v2 1"
    # Deleted and created again under the same id: version 1 again, another text.
    assert await cache.render("o1", _template("again {{ n }}"), "body", {"n": 1}) == "again 1"
    # Another org's template with the same id and version is its own entry.
    assert await cache.render("o2", _template("v1 {{ n }}"), "body", {"n": 2}) == "v1 2"
    assert compiles == ["v1 {{ n }}", "v2 {{ n }}", "again {{ n }}", "v1 {{ n }}"]


async def test_the_cache_is_bounded() -> None:
    cache = TemplateCache(size=3)
    for i in range(10):
        await cache.render("o1", _template(f"{i} {{{{ n }}}}", tid=f"t{i}"), "body", {"n": 0})
    assert len(cache._entries) == 3


async def test_simple_templates_render_on_the_loop_others_in_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[Any] = []
    real = asyncio.to_thread

    async def to_thread(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        threads.append(fn)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)
    cache = TemplateCache()
    simple = _template("{{ name }}様")
    assert await cache.render("o1", simple, "body", {"name": "山田"}) == "山田様"
    compiled_once = len(threads)  # the first use compiles off the loop
    assert await cache.render("o1", simple, "body", {"name": "鈴木"}) == "鈴木様"
    assert len(threads) == compiled_once
    looping = _template("{% for i in items %}{{ i }}{% endfor %}", tid="t2")
    await cache.render("o1", looping, "body", {"items": [1, 2]})
    await cache.render("o1", looping, "body", {"items": [1, 2]})
    assert len(threads) == compiled_once + 3  # compiled once, rendered twice in a thread
    # Large or nested data goes to a thread even for a simple template.
    await cache.render("o1", simple, "body", {"name": "x" * 20_000})
    assert len(threads) == compiled_once + 4


async def test_limits_still_hold() -> None:
    cache = TemplateCache()
    heavy = _template("{% for i in range(10000) %}{% for j in range(10000) %}{{ j }}{% endfor %}{% endfor %}")
    with pytest.raises(TemplateError) as over:
        await cache.render("o1", heavy, "body", {})
    assert over.value.limit
    with pytest.raises(TemplateError) as missing:
        await cache.render("o1", _template("{{ name }}"), "body", {})
    assert missing.value.field == "name"
    with pytest.raises(TemplateError):  # a subject is one header line
        await cache.render("o1", _template("x", subject="{{ s }}"), "subject", {"s": "a\r\nBcc: x@y"})
    escaped = await cache.render("o1", _template("<b>{{ n }}</b>"), "body", {"n": "<i>"}, html=True)
    assert escaped == "<b>&lt;i&gt;</b>"


@pytest.mark.parametrize(
    ("data", "small"),
    [
        ({"name": "山田", "n": 3, "ok": True, "x": None, "f": 1.5}, True),
        ({"name": "x" * 16_384}, True),
        ({"name": "x" * 16_385}, False),
        ({"items": [1, 2]}, False),
        ({"c": {"a": 1}}, False),
        ({f"k{i}": i for i in range(101)}, False),
    ],
)
def test_small_data(data: dict[str, Any], small: bool) -> None:
    assert small_data(data) is small
