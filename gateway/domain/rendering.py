"""Merge-field rendering for SMS and email templates, in jinja2's sandbox. Pure.

Template bodies are written by org admins, not by us, so they are rendered in a
``SandboxedEnvironment`` (no ``__class__``/``__globals__`` walks, no unsafe calls) and every
failure, whether a missing field, a sandbox violation, a syntax error or a runtime error inside
the template, surfaces as one :class:`TemplateError` the worker can turn into a ``rejected``
notification. Undefined values are strict: a missing merge field is an error, never an empty
string, because "Dear ," is worse than not sending. The error names the missing field.

Autoescape is on for HTML bodies (a contact's name must not inject markup) and off for SMS
text and headers. :func:`render_header` also refuses CR/LF in the result: a merge field must
never be able to add a header (``Bcc:``) to an outgoing mail.
"""

from __future__ import annotations

import functools
from typing import Any, cast

import jinja2
import jinja2.meta
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

# Compiled templates kept per process; a worker renders the same few templates over and over.
TEMPLATE_CACHE_SIZE = 256
# Bounds for ``*`` and ``**`` inside a template, so ``{{ 'x' * 10**9 }}`` cannot eat the worker.
MAX_REPEAT_LENGTH = 100_000
MAX_EXPONENT = 100


class TemplateError(ValueError):
    """A template that cannot be rendered with the given data; ``field`` names a missing one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class _MissingField(jinja2.UndefinedError):
    def __init__(self, message: str | None = None, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class _FieldUndefined(jinja2.StrictUndefined):
    """StrictUndefined whose error remembers which name was missing."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[jinja2.TemplateRuntimeError] = jinja2.UndefinedError,
    ) -> None:
        # Only plain "not defined" errors are rewritten; the sandbox's SecurityError stays as is.
        if exc is jinja2.UndefinedError and name is not None:
            exc = cast(type[jinja2.TemplateRuntimeError], functools.partial(_MissingField, field=str(name)))
        super().__init__(hint, obj, name, exc)


class _Sandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
        if operator_ == "*" and _repeat_length(left, right) > MAX_REPEAT_LENGTH:
            raise SecurityError(f"repetition longer than {MAX_REPEAT_LENGTH}")
        return super().call_binop(context, operator_, left, right)


def _repeat_length(left: Any, right: Any) -> int:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int):
            return len(seq) * times
    return 0


_TEXT_ENV = _Sandbox(undefined=_FieldUndefined, autoescape=False)
_HTML_ENV = _Sandbox(undefined=_FieldUndefined, autoescape=True)
# Errors a template can cause while rendering; anything else is a bug of ours and propagates.
_RENDER_ERRORS = (jinja2.TemplateError, ArithmeticError, LookupError, TypeError, ValueError, RecursionError)


def _env(html: bool) -> SandboxedEnvironment:
    return _HTML_ENV if html else _TEXT_ENV


@functools.lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _compile(source: str, html: bool) -> jinja2.Template:
    try:
        return _env(html).from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None


def render(source: str, data: dict[str, Any], html: bool = False) -> str:
    """Render ``source`` with merge fields from ``data``; autoescape when ``html``."""
    template = _compile(source, html)
    try:
        return template.render(data)
    except _MissingField as exc:
        raise TemplateError(f"missing merge field {exc.field!r} ({exc.message})", field=exc.field) from None
    except SecurityError as exc:
        raise TemplateError(f"template not allowed: {exc.message}") from None
    except _RENDER_ERRORS as exc:
        raise TemplateError(f"template failed: {exc}") from None


def render_header(source: str, data: dict[str, Any]) -> str:
    """Render a one-line header value (e.g. a subject); CR or LF in the result is refused."""
    value = render(source, data)
    if "\r" in value or "\n" in value:
        raise TemplateError("a header must be a single line (CR or LF in the rendered value)")
    return value


def fields(source: str) -> set[str]:
    """Top-level merge fields the template reads (its undeclared variables)."""
    try:
        ast = _TEXT_ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    return set(jinja2.meta.find_undeclared_variables(ast))
