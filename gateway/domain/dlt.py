"""The DLT copy of an SMS template: the text an org in India files on the regulator's portal. Pure.

The portal knows no merge fields: each variable part of a message is written ``{#var#}``. The copy
is the template's body as it renders, with every ``{{ … }}`` output — a field, a field through
filters (``{{ name | upper }}``), any expression — replaced by one ``{#var#}``, and comments
dropped. Literal text is kept byte for byte (Japanese, Hindi, emoji), with Jinja's whitespace
control (``{{-`` / ``-}}``) applied as rendering applies it, and ``{% raw %}`` text kept as the
literal it renders to. A control block (``{% if %}``, ``{% for %}``, ``{% set %}`` …) makes the
message's wording itself vary, which a registered template cannot express: such a body is
refused with :class:`NotDltCompatible`, naming the block and its line.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

VAR = "{#var#}"
# A lexer with the same (default) delimiters and whitespace rules as the rendering sandbox.
_ENV = jinja2.Environment(autoescape=False)  # noqa: S701 - lexing only, nothing is rendered


class NotDltCompatible(ValueError):
    """The body cannot be written as one DLT template."""


@dataclass(frozen=True)
class DltCopy:
    text: str
    variables: int


def dlt_copy(body: str) -> DltCopy:
    """``body`` with each output expression as ``{#var#}``; :class:`NotDltCompatible` for a body
    with control blocks or invalid syntax."""
    try:
        _ENV.parse(body)
        tokens = list(_ENV.lex(body))
    except jinja2.TemplateSyntaxError as exc:
        raise NotDltCompatible(f"the body is not a valid template (line {exc.lineno}: {exc.message})") from None
    parts: list[str] = []
    variables = 0
    for i, (line, kind, value) in enumerate(tokens):
        if kind == "data":
            parts.append(value)
        elif kind == "variable_begin":
            parts.append(VAR)
            variables += 1
        elif kind == "block_begin":
            name = next((v for _, k, v in tokens[i + 1 :] if k == "name"), "")
            raise NotDltCompatible(
                f"line {line}: the control block {{% {name} %}} makes the wording vary; a DLT template "
                "only has fixed text and {#var#} values (write one template per wording)"
            )
        # Everything else (inside an output or a comment, raw markers) renders as nothing of its own.
    return DltCopy("".join(parts), variables)
