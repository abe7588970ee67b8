"""Unit tests for the bounded template sandbox: work, time and size limits, creation checks."""

from __future__ import annotations

import time
from typing import Any

import pytest

from gateway.domain.rendering import MAX_DEPTH, TemplateError, check, render, render_header
from gateway.domain.template_budget import MAX_OUTPUT, MAX_STEPS, Budget

NESTED_RANGE = "{% for i in range(n) %}{% for j in range(n) %}{% endfor %}{% endfor %}done"


@pytest.mark.parametrize(
    ("source", "data"),
    [
        (NESTED_RANGE, {"n": 10_000}),
        ("{% for a in xs %}{% for b in xs %}{% for c in xs %}.{% endfor %}{% endfor %}{% endfor %}", {"xs": [0] * 100}),
        ("{{ 'a'.ljust(n)|length }}", {"n": 1_000_000_000}),
        ("{{ 'a'.rjust(n) }}{{ 'a'.center(n) }}{{ 'a'.zfill(n) }}", {"n": 10**9}),
        ("{{ ('\t' * 1000).expandtabs(n) }}", {"n": 10**6}),
        ("{{ s.replace('', 'x' * 1000) }}", {"s": "a" * 1000}),
        ("{{ s|replace('a', 'x' * 1000) }}", {"s": "a" * 1000}),
        ("{{ ('x' * 100000).join(xs) }}", {"xs": ["a"] * 100}),
        ("{{ xs|join }}", {"xs": ["x" * 50_000] * 3}),
        ("{{ '%0*d' % (n, 1) }}", {"n": 10**9}),
        ("{{ '%0999999999d'|format(1) }}", {}),
        ("{{ '{:>999999999}'.format(1) }}", {}),
        ("{{ '{:>{w}}'.format(1, w=n) }}", {"n": 10**9}),
        ("{{ x|center(n) }}", {"x": "a", "n": 10**9}),
        ("{{ x|indent(n) }}", {"x": "a\nb", "n": 10**9}),
        ("{{ [1]|batch(n, 0)|list|length }}", {"n": 10**9}),
        ("{% macro d(s, n) %}{{ d(s ~ s, n - 1) if n else s|length }}{% endmacro %}{{ d('ab', 40) }}", {}),
        ("{% set s = 'x' * 100000 %}{{ s + s }}", {}),
        ("{% set s = ['x' * 1000] * 100 %}{{ s * 10 }}", {}),
        ("{% for i in range(n) %}" + "x" * 1000 + "{% endfor %}", {"n": 10_000}),
        ("{% set c %}{% for i in range(n) %}" + "y" * 1000 + "{% endfor %}{% endset %}ok", {"n": 10_000}),
        ("{{ range(n)|list|length }}", {"n": 100_000}),
    ],
)
def test_hostile_templates_stop_within_limits(source: str, data: dict[str, Any]) -> None:
    """Loops, string building and output over the budget fail fast with limit=True, before allocating."""
    started = time.monotonic()
    with pytest.raises(TemplateError) as info:
        render(source, data)
    assert info.value.limit, info.value
    assert "limit" in str(info.value)
    assert time.monotonic() - started < 2.5


def test_time_limit() -> None:
    """A rendering whose deadline has passed stops at its next step, naming the time limit."""
    with pytest.raises(TemplateError, match="longer than") as info:
        render("{% for i in range(3) %}{{ i }}{% endfor %}", {}, budget=Budget(deadline=time.monotonic() - 1))
    assert info.value.limit


def test_budget_counts_steps_and_output() -> None:
    """Each loop iteration is a step; output characters are counted in every buffer."""
    budget = Budget.start()
    render("{% for i in range(100) %}{{ 'ab' }}{% endfor %}{% set x %}cd{% endset %}", {}, budget=budget)
    assert 100 <= budget.steps < MAX_STEPS
    assert budget.output == 202


def test_limits_leave_ordinary_templates_alone() -> None:
    """A realistic mail merge (loops over data, filters, format, join) renders as before."""
    source = (
        "{{ name }}様\n{% for item in items %}- {{ item.title|upper }}: {{ '%.2f'|format(item.price) }}\n{% endfor %}"
        "{{ tags|join(', ') }} {{ '{:>6}'.format(code) }} {{ 'x'.ljust(5, '.') }}"
    )
    data = {"name": "山田", "items": [{"title": "a", "price": 1.5}] * 50, "tags": ["x", "y"], "code": "A1"}
    out = render(source, data)
    assert out.startswith("山田様\n- A: 1.50\n") and out.endswith("x, y     A1 x....")
    assert len(render("{{ s }}", {"s": "z" * (MAX_OUTPUT // 2)})) == MAX_OUTPUT // 2


@pytest.mark.parametrize("name", ["lipsum", "cycler", "joiner", "namespace"])
def test_removed_globals(name: str) -> None:
    """lipsum, cycler, joiner and namespace are not in the sandbox (they print object addresses)."""
    with pytest.raises(TemplateError, match="not available") as info:
        render("{{ " + name + "() }}", {})
    assert info.value.field is None


def test_merge_field_may_use_a_removed_global_name() -> None:
    """A merge field that happens to be called 'cycler' is just data."""
    assert render("{{ cycler }}", {"cycler": "bike"}) == "bike"


def test_list_mutation_is_refused() -> None:
    """The sandbox is immutable: list.append/extend cannot grow data in a loop."""
    with pytest.raises(TemplateError, match=r"not allowed|unsafe"):
        render("{% for i in range(3) %}{{ xs.extend(xs) }}{% endfor %}", {"xs": [1]})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a\u2028b", "a b"),
        ("a\x85b", "a b"),
        ("a\x0bb\x0cc", "a b c"),
        ("a\u2029b\x1cc\x00d", "a b c d"),
        ("tab\tkept", "tab\tkept"),
    ],
)
def test_header_line_separators_become_spaces(value: str, expected: str) -> None:
    """U+2028, NEL, VT, FF and other controls in a subject merge value become one space."""
    assert render_header("{{ v }}", {"v": value}) == expected


@pytest.mark.parametrize(
    "source",
    [
        NESTED_RANGE.replace("range(n)", "range(10000)"),
        "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}",
        "{{ 'a'.ljust(1000000000)|length }}",
        "{{ x|center(1000000000) }}",
        "{{ range(100000)|list }}",
        "{{ " + "(" * 300 + "1" + ")" * 300 + " }}",
        "{{ " + "[" * 300 + "1" + "]" * 300 + " }}",
        "{% if a %}" * (MAX_DEPTH + 5) + "x" + "{% endif %}" * (MAX_DEPTH + 5),
        "{% for a in b %}" * 25 + "x" + "{% endfor %}" * 25,
        "{{ a" + " + a" * 200 + " }}",
    ],
)
def test_check_refuses_what_is_known_at_creation(source: str) -> None:
    """Constant loop sizes, widths and nesting over the limits are refused without data."""
    with pytest.raises(TemplateError):
        check(source)


@pytest.mark.parametrize(
    "source",
    [
        "Hello {{ name }}",
        NESTED_RANGE,
        "{% for i in range(10) %}{% for j in range(10) %}{{ i * j }}{% endfor %}{% endfor %}",
        "{{ code.ljust(10) }} {{ x|center(40) }}",
    ],
)
def test_check_accepts_ordinary_templates(source: str) -> None:
    """Templates whose cost depends on data, or is small, are accepted at creation."""
    check(source)
