"""Unit tests for gateway.domain.dlt: the DLT copy of an SMS template ({#var#} per output)."""

from __future__ import annotations

import pytest

from gateway.domain.dlt import DltCopy, NotDltCompatible, dlt_copy


@pytest.mark.parametrize(
    ("body", "text", "variables"),
    [
        ("Your OTP is {{ code }}", "Your OTP is {#var#}", 1),
        ("{{ name }}様、ご予約は{{ date }} {{ time }}です。", "{#var#}様、ご予約は{#var#} {#var#}です。", 3),
        ("Hi {{ name | upper }}, total ₹{{ '%.2f' % amount }}.", "Hi {#var#}, total ₹{#var#}.", 2),
        ("{{ first ~ ' ' ~ last }} ({{ a if b else c }})", "{#var#} ({#var#})", 2),
        ("{{ x | default('}}') }}!", "{#var#}!", 1),
        ("No fields at all", "No fields at all", 0),
        ("a  {{- x -}}  b", "a{#var#}b", 1),
        ("line1\n{{ x }}\nline3\n", "line1\n{#var#}\nline3", 1),
        ("Hello {# internal note #}{{ n }}", "Hello {#var#}", 1),
        ("{% raw %}{{ literal }}{% endraw %} {{ v }}", "{{ literal }} {#var#}", 1),
        ("नमस्ते {{ नाम }} 🙏", "नमस्ते {#var#} 🙏", 1),
    ],
)
def test_each_output_is_one_variable(body: str, text: str, variables: int) -> None:
    """Every {{ … }} (field, filter chain, expression) is one {#var#}; literal text is kept as rendered."""
    assert dlt_copy(body) == DltCopy(text, variables)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("{% if vip %}Dear VIP{% endif %} {{ name }}", "{% if %}"),
        ("{% for x in items %}{{ x }}{% endfor %}", "{% for %}"),
        ("Hi\n{%- set n = 1 %}{{ n }}", "{% set %}"),
    ],
)
def test_control_blocks_are_not_dlt_compatible(body: str, named: str) -> None:
    """A control block makes the wording vary: refused, naming the block."""
    with pytest.raises(NotDltCompatible, match=named.replace("{", r"\{").replace("}", r"\}")):
        dlt_copy(body)


def test_invalid_syntax_is_not_dlt_compatible() -> None:
    """A body that does not parse is refused with its line."""
    with pytest.raises(NotDltCompatible, match="line 2"):
        dlt_copy("ok\n{{ broken")
