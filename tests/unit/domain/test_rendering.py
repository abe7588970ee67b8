"""Unit tests for gateway.domain.rendering: sandboxed merge fields, strict about missing ones."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.domain.rendering import TemplateError, compile_template, fields, render, render_compiled, render_header


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [
        ("Hello {{ name }}", {"name": "Taro"}, "Hello Taro"),
        ("{{ name }}様、ご予約ありがとうございます", {"name": "山田"}, "山田様、ご予約ありがとうございます"),
        (
            "{{ contact.first_name }} {{ contact['last_name'] }}",
            {"contact": {"first_name": "A", "last_name": "B"}},
            "A B",
        ),
        ("{% for i in items %}{{ i }},{% endfor %}", {"items": [1, 2, 3]}, "1,2,3,"),
        ("{{ name | upper }}", {"name": "taro"}, "TARO"),
        ("{{ nickname | default('friend') }}", {}, "friend"),
        ("{% if vip is defined %}VIP{% endif %}ok", {}, "ok"),
        ("{{ amount * 2 }}", {"amount": 21}, "42"),
        ("{{ 'ab' * 3 }}", {}, "ababab"),
        ("no fields at all", {"unused": 1}, "no fields at all"),
        ("A & B <c>", {}, "A & B <c>"),
        ("", {}, ""),
    ],
)
def test_render(source: str, data: dict[str, Any], expected: str) -> None:
    """Merge fields, filters, loops and defaults render as in jinja2."""
    assert render(source, data) == expected


@pytest.mark.parametrize(
    ("source", "data", "field"),
    [
        ("Hello {{ name }}", {}, "name"),
        ("Hello {{ name }}", {"Name": "wrong case"}, "name"),
        ("{{ contact.first_name }}", {}, "contact"),
        ("{{ contact.first_name }}", {"contact": {}}, "first_name"),
        ("{{ contact['first_name'] }}", {"contact": {}}, "first_name"),
        ("{% if vip %}VIP{% endif %}", {}, "vip"),
        ("{{ name ~ '!' }}", {}, "name"),
        ("{% for i in items %}{{ i }}{% endfor %}", {}, "items"),
        ("{{ name | upper }}", {}, "name"),
        ("{{ greeting }}{{ name }}", {"name": "x"}, "greeting"),
    ],
)
def test_missing_field_is_an_error(source: str, data: dict[str, Any], field: str) -> None:
    """A missing merge field raises TemplateError naming it, never renders as empty."""
    with pytest.raises(TemplateError) as info:
        render(source, data)
    assert info.value.field == field
    assert field in str(info.value)


def test_template_error_is_value_error() -> None:
    """TemplateError is a ValueError, so callers can treat it as bad input."""
    with pytest.raises(ValueError):
        render("{{ name }}", {})


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ data.__class__.__base__ }}",
        "{{ data.items.__self__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ 'x' * 1000000 }}",
        "{{ [0] * 1000000 }}",
        "{{ 10 ** 1000000 }}",
        "{{ range(10000000) | list }}",
    ],
)
def test_sandbox_violations_are_template_errors(source: str) -> None:
    """Unsafe attribute walks and resource bombs raise TemplateError, with no field."""
    with pytest.raises(TemplateError) as info:
        render(source, {"data": {"a": 1}})
    assert info.value.field is None


@pytest.mark.parametrize(
    "source",
    ["{{ name", "{% if %}x{% endif %}", "{% endfor %}", "{{ name | no_such_filter }}", "{% for %}", "{{ }}"],
)
def test_syntax_errors_are_template_errors(source: str) -> None:
    """A template that does not parse raises TemplateError."""
    with pytest.raises(TemplateError, match="syntax"):
        render(source, {"name": "x"})


@pytest.mark.parametrize(
    ("source", "data"),
    [("{{ 1 / 0 }}", {}), ("{{ n + 'a' }}", {"n": 1}), ("{{ items[5] + 1 }}", {"items": [1]})],
)
def test_runtime_errors_are_template_errors(source: str, data: dict[str, Any]) -> None:
    """Errors raised while rendering (division by zero, type errors) become TemplateError."""
    with pytest.raises(TemplateError):
        render(source, data)


@pytest.mark.parametrize(
    ("data", "html", "expected"),
    [
        ({"name": "<b>Tom</b> & Jerry"}, True, "<p>&lt;b&gt;Tom&lt;/b&gt; &amp; Jerry</p>"),
        ({"name": "<b>Tom</b> & Jerry"}, False, "<p><b>Tom</b> & Jerry</p>"),
        ({"name": '"quoted"'}, True, "<p>&#34;quoted&#34;</p>"),
        ({"name": "山田 太郎"}, True, "<p>山田 太郎</p>"),
    ],
)
def test_autoescape_only_for_html(data: dict[str, Any], html: bool, expected: str) -> None:
    """HTML bodies escape merge values; SMS text does not."""
    assert render("<p>{{ name }}</p>", data, html=html) == expected


def test_cache_keeps_html_and_text_apart() -> None:
    """The same source compiled for HTML and for text keep their own escaping."""
    source = "{{ v }}"
    assert render(source, {"v": "<i>"}, html=True) == "&lt;i&gt;"
    assert render(source, {"v": "<i>"}) == "<i>"
    assert render(source, {"v": "<i>"}, html=True) == "&lt;i&gt;"


def test_cached_template_renders_new_data() -> None:
    """A cached template is rendered afresh with each call's data."""
    source = "Dear {{ name }}"
    assert [render(source, {"name": n}) for n in ("A", "B", "C")] == ["Dear A", "Dear B", "Dear C"]


@pytest.mark.parametrize(
    ("source", "data", "expected"),
    [
        ("Your booking {{ code }}", {"code": "ABC"}, "Your booking ABC"),
        ("【ご予約確認】{{ name }}様", {"name": "山田"}, "【ご予約確認】山田様"),
        ("A & B <{{ x }}>", {"x": "y"}, "A & B <y>"),
    ],
)
def test_render_header(source: str, data: dict[str, Any], expected: str) -> None:
    """A one-line header renders without HTML escaping."""
    assert render_header(source, data) == expected


@pytest.mark.parametrize(
    ("source", "data"),
    [
        ("Hello {{ name }}", {"name": "x\r\nBcc: victim@example.com"}),
        ("Hello {{ name }}", {"name": "x\nBcc: victim@example.com"}),
        ("Hello {{ name }}", {"name": "x\r"}),
        ("Line one\nLine two", {}),
    ],
)
def test_render_header_refuses_line_breaks(source: str, data: dict[str, Any]) -> None:
    """CR or LF in a rendered header is refused (header injection)."""
    with pytest.raises(TemplateError, match="single line"):
        render_header(source, data)


def test_render_header_missing_field() -> None:
    """A header's missing merge field is reported like a body's."""
    with pytest.raises(TemplateError) as info:
        render_header("Hi {{ name }}", {})
    assert info.value.field == "name"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Hello {{ name }}", {"name"}),
        ("{{ contact.first_name }} {{ order['id'] }}", {"contact", "order"}),
        ("{% for i in items %}{{ i.title }} {{ suffix }}{% endfor %}", {"items", "suffix"}),
        ("{% set x = 1 %}{{ x }} {{ y | default('') }}", {"y"}),
        ("{% if vip is defined %}{{ vip }}{% endif %}", {"vip"}),
        ("plain text", set()),
    ],
)
def test_fields(source: str, expected: set[str]) -> None:
    """fields() lists the top-level names a template reads, not the ones it defines."""
    assert fields(source) == expected


def test_fields_syntax_error() -> None:
    """fields() of a broken template raises TemplateError."""
    with pytest.raises(TemplateError, match="syntax"):
        fields("{{ name")


@pytest.mark.parametrize(
    ("source", "simple"),
    [
        ("Hello {{ name }}", True),
        ("{{ name }}様、ご予約ありがとうございます", True),
        ("{{ contact.first_name }} {{ contact['last_name'] }}", True),
        ("{% if vip is defined %}VIP {{ vip | upper }}{% else %}{{ name | e }}{% endif %}", True),
        ("{{ nickname | default }}", True),
        ("plain text", True),
        ("{% for i in items %}{{ i }}{% endfor %}", False),
        ("{{ nickname | default('x' * 100) }}", False),  # an argument: a filter that may build text
        ("{{ name | replace('a', 'bb') }}", False),
        ("{{ name.ljust(50) }}", False),
        ("{{ 'ab' * 3 }}", False),
        ("{% set x = name %}{{ x }}", False),
        ("{% macro m() %}x{% endmacro %}{{ m() }}", False),
        ("{{ range(10) | list }}", False),
    ],
)
def test_simple_templates_are_those_that_cannot_loop_or_build(source: str, simple: bool) -> None:
    """What the worker may render on its event loop: lookups, conditions, value-only filters."""
    assert compile_template(source, False).simple is simple


def test_a_compiled_template_renders_within_the_same_limits() -> None:
    """render_compiled is render: same sandbox, same budget, same errors."""
    compiled = compile_template(
        "{{ name }}{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", False
    )
    with pytest.raises(TemplateError) as over:
        render_compiled(compiled, {"name": "x"})
    assert over.value.limit
    with pytest.raises(TemplateError) as missing:
        render_compiled(compile_template("{{ name }}", False), {})
    assert missing.value.field == "name"
    assert render_compiled(compile_template("<b>{{ name }}</b>", True), {"name": "<i>"}) == "<b>&lt;i&gt;</b>"
