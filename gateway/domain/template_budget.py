"""The work budget of one template rendering, and the size checks of the calls that build text. Pure.

A template is written by an org admin and rendered by our workers, so it must not be able to
take the process with it: every rendering gets a :class:`Budget` (a deadline, a number of steps,
a number of output characters) and every operation that can multiply text or items is checked
*before* it allocates (``'a'.ljust(10**9)`` is refused, not attempted). A step is a loop
iteration, a call, a filter, an attribute or item lookup or an intercepted operator; the
sandbox (:mod:`gateway.domain.rendering`) charges them. The budget is checked in the rendering
thread itself, so a runaway template stops on its own even when nobody waits for it any more.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from jinja2.exceptions import SecurityError

# One string or list a template builds: far above any merge value, far below a worker's memory.
MAX_STRING = 100_000
# Everything a rendering outputs, in all its buffers (an email body is a few kB; 1 M is generous).
MAX_OUTPUT = 1_000_000
# Loop iterations, calls, filters and lookups: a mail-merge template needs hundreds, not millions.
MAX_STEPS = 200_000
# Wall-clock time of one rendering; the caller waits a little longer before it gives up.
MAX_SECONDS = 2.0
# ``range()`` lengths; jinja's own sandbox allows 100,000.
MAX_RANGE = 10_000
# Bounds for ``*`` and ``**``, so ``{{ 'x' * 10**9 }}`` cannot eat the worker.
MAX_REPEAT_LENGTH = MAX_STRING
MAX_EXPONENT = 100


class LimitExceeded(SecurityError):
    """The rendering went over its budget (time, steps, output or the size of one value)."""


@dataclass
class Budget:
    """What one rendering may still spend; ``deadline`` is a ``time.monotonic()`` value."""

    deadline: float
    steps: int = 0
    output: int = 0
    clock: Callable[[], float] = field(default=time.monotonic)

    @classmethod
    def start(cls, seconds: float = MAX_SECONDS) -> Budget:
        return cls(deadline=time.monotonic() + seconds)

    def step(self, count: int = 1) -> None:
        self.steps += count
        if self.steps > MAX_STEPS:
            raise LimitExceeded(f"the template does more than {MAX_STEPS} steps (loops, calls, lookups)")
        if self.clock() > self.deadline:
            raise LimitExceeded(f"rendering took longer than {MAX_SECONDS:g} s")

    def emit(self, chars: int) -> None:
        self.output += chars
        if self.output > MAX_OUTPUT:
            raise LimitExceeded(f"the template outputs more than {MAX_OUTPUT} characters")
        self.step()


_CURRENT: ContextVar[Budget | None] = ContextVar("template_budget", default=None)


def current() -> Budget | None:
    return _CURRENT.get()


def activate(budget: Budget) -> Callable[[], None]:
    """Make ``budget`` the one charged in this context; returns the function that restores the old one."""
    token = _CURRENT.set(budget)
    return lambda: _CURRENT.reset(token)


def step() -> None:
    budget = _CURRENT.get()
    if budget is not None:
        budget.step()


def emit(value: Any) -> Any:
    """Charge ``value``'s output length (jinja's ``finalize`` and the literal text of a template)."""
    budget = _CURRENT.get()
    if budget is not None:
        budget.emit(len(value) if isinstance(value, str) else len(str(value)))
    return value


def counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """``iterable`` with one step charged per item (every ``{% for %}`` loop goes through this)."""
    for item in iterable:
        step()
        yield item


def bounded_range(*args: int) -> range:
    """``range()`` of at most :data:`MAX_RANGE` numbers."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise LimitExceeded(f"range() of {len(numbers)} numbers (limit {MAX_RANGE})")
    return numbers


# --- sizes ----------------------------------------------------------------------------------


def weight(value: Any, limit: int = MAX_STRING) -> int:
    """Characters ``value`` would print as, roughly, counted only up to just over ``limit``."""
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, dict):
            total += 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item) + 1
            stack.extend(item)
        else:
            total += 8
    return total


def check_size(what: str, size: int) -> None:
    if size > MAX_STRING:
        raise LimitExceeded(f"{what} would build {size} characters or items (limit {MAX_STRING})")


def sized(result: Any) -> Any:
    """``result`` if it is within :data:`MAX_STRING`; a string or list over it is refused."""
    if isinstance(result, str | list | tuple | dict) and len(result) > MAX_STRING:
        raise LimitExceeded(f"a value of {len(result)} characters or items (limit {MAX_STRING})")
    return result


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


_PRINTF_NUMBERS = re.compile(r"%[#0\- +]*(\*|\d*)(?:\.(\*|\d*))?")
_FORMAT_SPEC = re.compile(r"\{[^{}]*?:([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")


def check_printf(fmt: str, values: Any) -> None:
    """``fmt % values`` must not ask for a width or precision over the limit (``'%0999999999d'``)."""
    args = values if isinstance(values, tuple) else (values,)
    for width, precision in _PRINTF_NUMBERS.findall(fmt):
        for number in (width, precision):
            if number == "*":
                check_size("a '*' width", max((_int(a) for a in args), default=0))
            elif number:
                check_size("a format width", int(number))


def check_format(fmt: str, args: Iterable[Any], kwargs: dict[str, Any]) -> None:
    """``fmt.format(...)`` must not ask for a width or precision over the limit (``'{:>999999999}'``)."""
    for spec in _FORMAT_SPEC.findall(fmt):
        if "{" in spec:  # a nested field: the width comes from an argument
            check_size("a nested format width", max((_int(a) for a in (*args, *kwargs.values())), default=0))
        for number in re.findall(r"\d+", spec):
            check_size("a format width", int(number))


# --- str methods that build text --------------------------------------------------------------


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any = None) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def replace_size(text: str, old: Any, new: Any, count: Any = None) -> int:
    if not isinstance(old, str) or not isinstance(new, str):
        return len(text)
    hits = len(text) + 1 if old == "" else text.count(old)
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(0, len(new) - len(old))


def _estimate(text: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    if method in ("ljust", "rjust", "center", "zfill"):
        return max(len(text), _int(_arg(args, kwargs, 0, "width")))
    if method == "expandtabs":
        return len(text) + text.count("\t") * _int(_arg(args, kwargs, 0, "tabsize", 8))
    if method == "replace":
        return replace_size(
            text, _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new"), _arg(args, kwargs, 2, "count")
        )
    if method == "join":
        items = args[0] if args else ()
        return weight(items) + len(text) * (len(items) if isinstance(items, list | tuple) else 1)
    if method == "translate":
        table = args[0] if args else {}
        longest = (
            max((len(v) for v in table.values() if isinstance(v, str)), default=1) if isinstance(table, dict) else 1
        )
        return len(text) * max(1, longest)
    return len(text)


GUARDED_STR_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs", "replace", "join", "translate"})


def guard_str_method(text: str, method: str, bound: Callable[..., Any]) -> Callable[..., Any]:
    """``bound`` (``text.<method>``) checked for the size it would build before it runs."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if method == "join" and args and not isinstance(args[0], list | tuple):
            args = (list(counted(args[0])), *args[1:])
        check_size(f"str.{method}()", _estimate(text, method, args, kwargs))
        return sized(bound(*args, **kwargs))

    return guarded
