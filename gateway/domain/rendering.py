"""Merge-field rendering for SMS and email templates, in a bounded jinja2 sandbox. Pure.

Template bodies are written by org admins, not by us, so they are rendered in an
``ImmutableSandboxedEnvironment`` (no ``__class__``/``__globals__`` walks, no unsafe calls, no
``list.append``) whose every loop, call, lookup and output is charged to a
:class:`~gateway.domain.template_budget.Budget` (time, steps, output size), and whose text-building
operations (``*``, ``+``, ``%``, ``~``, ``ljust``, ``replace``, ``join``, ``format``, the
``center``/``indent``/``batch`` filters …) are checked before they allocate. The globals are
only ``range`` (bounded) and ``dict``: ``lipsum``, ``cycler``, ``joiner`` and ``namespace`` are
gone (they are not needed for mail merge, and ``cycler``/``joiner`` print object addresses).

Every failure, whether a missing field, a sandbox violation, an exceeded limit, a syntax error
or a runtime error inside the template, surfaces as one :class:`TemplateError` the worker can
turn into a ``rejected`` notification (``limit`` tells a budget overrun apart). Undefined values
are strict: a missing merge field is an error, never an empty string, because "Dear ," is worse
than not sending. The error names the missing field.

Autoescape is on for HTML bodies (a contact's name must not inject markup) and off for SMS
text and headers. :func:`render_header` refuses CR/LF in the result (a merge field must never be
able to add a header such as ``Bcc:`` to an outgoing mail) and turns the other line breaks a
merge value may carry (U+2028, NEL, VT, FF, other controls) into spaces, so they cannot break the
header's folding either. :func:`check` is what template creation runs: syntax,
nesting depth, and the limits that can be known without data.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from typing import Any, cast

import jinja2
import jinja2.meta
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import concat, missing

from gateway.domain import template_budget as tb
from gateway.domain.template_budget import MAX_EXPONENT, LimitExceeded

# Compiled templates kept per process; a worker renders the same few templates over and over.
TEMPLATE_CACHE_SIZE = 256
# Nesting of the template's syntax tree; Python's compiler refuses ~20 nested loops and 200
# nested parentheses, and no mail-merge template comes near 32.
MAX_DEPTH = 32
MAX_REPEAT_LENGTH = tb.MAX_REPEAT_LENGTH
REMOVED_GLOBALS = frozenset({"lipsum", "cycler", "joiner", "namespace"})
# Filters that cannot build anything larger than what they are given, cheaply.
_CHEAP_FILTERS = frozenset({"length", "count", "first", "last", "default", "d", "int", "float", "abs", "round"})


class TemplateError(ValueError):
    """A template that cannot be rendered with the given data; ``field`` names a missing one."""

    def __init__(self, message: str, *, field: str | None = None, limit: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.limit = limit


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
        if exc is jinja2.UndefinedError and obj is missing and name in REMOVED_GLOBALS:
            hint, exc = f"{name!r} is not available in templates", SecurityError
        elif exc is jinja2.UndefinedError and name is not None:
            exc = cast(type[jinja2.TemplateRuntimeError], functools.partial(_MissingField, field=str(name)))
        super().__init__(hint, obj, name, exc)


class _BudgetCodeGenerator(CodeGenerator):
    """Routes loops, ``~`` and literal output through the environment's budget hooks."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        # The loop's iterable, charged one step per item: ``environment.sg_counted(<iter>)``.
        counted = copy.copy(node)
        counted.iter = nodes.Call(nodes.EnvironmentAttribute("sg_counted"), [node.iter], [], None, None)
        counted.iter.set_lineno(node.lineno)
        super().visit_For(counted, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.sg_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def _output_const_repr(self, group: Any) -> str:
        return f"environment.sg_text({concat(group)!r})"


def _concat(join: Any, parts: tuple[Any, ...]) -> Any:
    tb.step()
    tb.check_size("'~'", sum(tb.weight(p if isinstance(p, str) else str(p)) for p in parts))
    return join(parts)


def _text(text: str) -> str:
    tb.emit(text)
    return text


def _filter_precheck(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    def arg(index: int, key: str, default: Any = None) -> Any:
        return args[index] if len(args) > index else kwargs.get(key, default)

    if name == "replace":
        tb.check_size("|replace", tb.replace_size(str(value), arg(0, "old"), arg(1, "new"), arg(2, "count")))
    elif name == "center":
        tb.check_size("|center", tb._int(arg(0, "width", 80)))
    elif name == "indent":
        width = arg(0, "width", 4)
        per_line = len(width) if isinstance(width, str) else tb._int(width)
        tb.check_size("|indent", len(str(value)) + per_line * (str(value).count("\n") + 1))
    elif name in ("batch", "slice"):
        tb.check_size(f"|{name}", tb._int(arg(0, "linecount" if name == "batch" else "slices")))
    elif name == "format":
        tb.check_printf(str(value), args or kwargs)
    if name not in _CHEAP_FILTERS:
        tb.check_size(f"|{name}", tb.weight(value))


def _bounded_filter(name: str, fn: Any) -> Any:
    takes_context = getattr(fn, "jinja_pass_arg", None) is not None

    @functools.wraps(fn)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        tb.step()
        first = 1 if takes_context else 0
        if len(args) > first:
            _filter_precheck(name, args[first], args[first + 1 :], kwargs)
        return tb.sized(fn(*args, **kwargs))

    return bounded


class _Sandbox(ImmutableSandboxedEnvironment):
    code_generator_class = _BudgetCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(undefined=_FieldUndefined, autoescape=autoescape, finalize=tb.emit)
        self.globals = {"range": tb.bounded_range, "dict": dict}
        self.filters = {name: _bounded_filter(name, fn) for name, fn in self.filters.items()}
        self.sg_counted = tb.counted
        self.sg_concat = _concat
        self.sg_text = _text

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        tb.step()
        if operator_ == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise LimitExceeded(f"exponent {right} is larger than {MAX_EXPONENT}")
        if operator_ == "*" and _repeat_length(left, right) > MAX_REPEAT_LENGTH:
            raise LimitExceeded(f"repetition longer than {MAX_REPEAT_LENGTH}")
        if operator_ == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            tb.check_size("'+'", tb.weight(left) + tb.weight(right))
        if operator_ == "%" and isinstance(left, str):
            tb.check_printf(left, right)
        return tb.sized(super().call_binop(context, operator_, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        tb.step()
        return tb.sized(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        tb.step()
        return self._guard(obj, attribute, super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        tb.step()
        return self._guard(obj, argument, super().getitem(obj, argument))

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = str(value.__self__)
        is_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            mapping = args[0] if is_map and args and isinstance(args[0], dict) else kwargs
            tb.check_format(fmt, () if is_map else args, mapping)
            return cast(str, tb.sized(wrapped(*args, **kwargs)))

        return checked

    @staticmethod
    def _guard(obj: Any, name: Any, value: Any) -> Any:
        if isinstance(obj, str) and isinstance(name, str) and name in tb.GUARDED_STR_METHODS and callable(value):
            return tb.guard_str_method(obj, name, value)
        return value


def _repeat_length(left: Any, right: Any) -> int:
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int):
            return (len(seq) if isinstance(seq, str) else tb.weight(seq)) * times
    return 0


_TEXT_ENV = _Sandbox(autoescape=False)
_HTML_ENV = _Sandbox(autoescape=True)
# Errors a template can cause while rendering; anything else is a bug of ours and propagates.
_RENDER_ERRORS = (jinja2.TemplateError, ArithmeticError, LookupError, TypeError, ValueError, RecursionError)


def _env(html: bool) -> _Sandbox:
    return _HTML_ENV if html else _TEXT_ENV


def _depth(ast: nodes.Node) -> int:
    deepest = 0
    stack = [(ast, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    return deepest


def _parse(source: str, env: _Sandbox) -> nodes.Template:
    try:
        ast = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    except RecursionError:
        raise TemplateError(f"template is nested more than {MAX_DEPTH} levels deep") from None
    if _depth(ast) > MAX_DEPTH:
        raise TemplateError(f"template is nested more than {MAX_DEPTH} levels deep")
    return ast


@dataclass(frozen=True)
class Compiled:
    """A template compiled once for the sandbox; ``simple`` when it cannot loop (see :func:`is_simple`)."""

    template: jinja2.Template
    html: bool
    simple: bool


@functools.lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def compile_template(source: str, html: bool) -> Compiled:
    """``source`` compiled for the sandbox (cached per process), or :class:`TemplateError`."""
    env = _env(html)
    ast = _parse(source, env)
    simple = is_simple(ast)
    try:
        return Compiled(env.from_string(ast), html, simple)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error on line {exc.lineno}: {exc.message}") from None
    except (SyntaxError, RecursionError, MemoryError):
        raise TemplateError(f"template is nested too deeply to compile (limit {MAX_DEPTH} levels)") from None


# Nodes of a mail-merge template whose rendering is one pass over its text and its merge values:
# no loop, macro, call, block, assignment, operator or filter beyond the few that only look at a
# value (a filter that builds text, like ``|replace`` or ``|center``, is not here).
_SIMPLE_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Const,
    nodes.Name,
    nodes.Getattr,
    nodes.Getitem,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
    nodes.CondExpr,
    nodes.Filter,
    nodes.Test,
)
_SIMPLE_FILTERS = frozenset({"default", "d", "e", "escape", "upper", "lower", "trim", "string", "int", "float"})


def is_simple(ast: nodes.Node) -> bool:
    """True when rendering ``ast`` is linear in its text and its data: every node is a lookup, a
    condition or a value-only filter, so it needs no time budget beyond the one it still gets."""
    for node in ast.find_all(nodes.Node):
        if not isinstance(node, _SIMPLE_NODES):
            return False
        if isinstance(node, nodes.Filter) and (node.name not in _SIMPLE_FILTERS or node.args or node.kwargs):
            return False
        if isinstance(node, nodes.Test) and (node.args or node.kwargs or node.dyn_args or node.dyn_kwargs):
            return False
        if isinstance(node, nodes.Filter) and (node.dyn_args or node.dyn_kwargs):
            return False
    return True


def render(source: str, data: dict[str, Any], html: bool = False, *, budget: tb.Budget | None = None) -> str:
    """Render ``source`` with merge fields from ``data``; autoescape when ``html``; within ``budget``."""
    return render_compiled(compile_template(source, html), data, budget=budget)


def render_compiled(compiled: Compiled, data: dict[str, Any], *, budget: tb.Budget | None = None) -> str:
    """Render a compiled template: the same sandbox, budget and errors as :func:`render`."""
    restore = tb.activate(budget or tb.Budget.start())
    try:
        return compiled.template.render(data)
    except _MissingField as exc:
        raise TemplateError(f"missing merge field {exc.field!r} ({exc.message})", field=exc.field) from None
    except LimitExceeded as exc:
        raise TemplateError(f"template over its limits: {exc.message}", limit=True) from None
    except SecurityError as exc:
        raise TemplateError(f"template not allowed: {exc.message}") from None
    except MemoryError:
        raise TemplateError("template over its limits: out of memory", limit=True) from None
    except _RENDER_ERRORS as exc:
        raise TemplateError(f"template failed: {exc}") from None
    finally:
        restore()


# The other line breaks str.splitlines() and mail folding know (VT, FF, FS-US, NEL, U+2028/9)
# and the remaining C0/C1 controls: a header must not carry them.
_HEADER_BREAKS = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f\x80-\x9f\u2028\u2029]+")


def header_value(value: str) -> str:
    """One line for a mail header: CR/LF refused, other breaks and controls become a space."""
    if "\r" in value or "\n" in value:
        raise TemplateError("a header must be a single line (CR or LF in the rendered value)")
    return _HEADER_BREAKS.sub(" ", value).strip()


def render_header(source: str, data: dict[str, Any], *, budget: tb.Budget | None = None) -> str:
    """Render a one-line header value (e.g. a subject); CR/LF refused, other line breaks become spaces."""
    return header_value(render(source, data, budget=budget))


def fields(source: str) -> set[str]:
    """Top-level merge fields the template reads (its undeclared variables)."""
    return set(jinja2.meta.find_undeclared_variables(_parse(source, _TEXT_ENV)))


def check(source: str) -> None:
    """What creating a template checks: it compiles, and no limit is exceeded that is known without data."""
    ast = _parse(source, _TEXT_ENV)
    problem = _static_problem(ast)
    if problem:
        raise TemplateError(f"template over its limits: {problem}", limit=True)
    compile_template(source, False)
    compile_template(source, True)


_WIDTH_ARGS = tb.GUARDED_STR_METHODS | {"center", "indent", "batch", "slice", "format"}


def _const_ints(call: nodes.Call | nodes.Filter) -> list[int]:
    values = [*call.args, *(kw.value for kw in call.kwargs)]
    return [v.value for v in values if isinstance(v, nodes.Const) and isinstance(v.value, int)]


def _loop_size(node: nodes.For) -> int | None:
    it = node.iter
    if isinstance(it, nodes.Call) and isinstance(it.node, nodes.Name) and it.node.name == "range":
        ints = _const_ints(it)
        if len(ints) == len(it.args) and not it.kwargs and 1 <= len(ints) <= 3:
            try:
                return len(range(*ints))
            except ValueError:
                return None
    return None


def _callee(call: nodes.Call) -> str:
    """``ljust`` for ``x.ljust(…)``, ``range`` for ``range(…)``, else ``""``."""
    if isinstance(call.node, nodes.Getattr):
        return call.node.attr
    return call.node.name if isinstance(call.node, nodes.Name) else ""


def _static_problem(ast: nodes.Node) -> str | None:
    """A limit the template will exceed whatever its data (constant loop sizes and widths)."""
    for call in ast.find_all((nodes.Call, nodes.Filter)):
        assert isinstance(call, nodes.Call | nodes.Filter)  # noqa: S101 - what find_all was asked for
        name = call.name if isinstance(call, nodes.Filter) else _callee(call)
        limit = tb.MAX_RANGE if name == "range" else tb.MAX_STRING
        if name in _WIDTH_ARGS | {"range"} and any(abs(n) > limit for n in _const_ints(call)):
            return f"{name}() with a number over {limit}"
    return _loop_problem(ast, 1)


def _loop_problem(node: nodes.Node, outer: int) -> str | None:
    for child in node.iter_child_nodes():
        inner = outer
        if isinstance(child, nodes.For):
            inner = outer * (_loop_size(child) or 1)
            if inner > tb.MAX_STEPS:
                return f"nested loops of {inner} iterations (limit {tb.MAX_STEPS})"
        problem = _loop_problem(child, inner)
        if problem:
            return problem
    return None
