"""A logging filter that collapses floods of the same message.

A failure that repeats per connection or per request (an accept failing with EMFILE, a client
sending garbage) would otherwise write the same line — often with a traceback — thousands of
times a second and fill the disk. :class:`RepeatFilter` lets the first ``burst`` records of one
kind through per ``interval`` seconds and drops the rest; the first record of that kind after the
interval carries how many were dropped ("[1234 similar messages suppressed in the last 10s]").
Records are of one kind when they share logger, level, exception type and the first line of their
message template, so lines that differ only in their arguments (a client address) or in a detail
line (asyncio's "handle: <TimerHandle when=…>") count as similar — except on the *scoped* loggers
(``signalgate.imap``), whose lines name their subject first ("mailbox %s: …"): there the first
argument is part of the kind, so one mailbox failing fast cannot hide another's lines.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_Key = tuple[str, int, str, str, str]
# Distinct kinds remembered at once; past this, expired windows are forgotten (memory bound).
_MAX_KINDS = 2048
_FIRST_LINE = 200  # characters of the template's first line that name the kind
_SUBJECT = 100  # characters of a scoped logger's first argument that name the kind


@dataclass
class _Window:
    start: float
    count: int = 0
    suppressed: int = 0


class RepeatFilter(logging.Filter):
    """Let at most ``burst`` records of one kind through per ``interval`` seconds."""

    def __init__(
        self,
        burst: int = 5,
        interval: float = 10.0,
        *,
        exempt: frozenset[str] = frozenset({"signalgate.access"}),
        scoped: frozenset[str] = frozenset({"signalgate.imap"}),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.burst = burst
        self.interval = interval
        self.exempt = exempt  # loggers whose every line is wanted (the access log is one per request)
        self.scoped = scoped  # loggers whose first argument names the subject (a mailbox id)
        self._clock = clock
        self._windows: dict[_Key, _Window] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in self.exempt:
            return True
        exc = record.exc_info[0].__qualname__ if record.exc_info and record.exc_info[0] else ""
        subject = ""
        if record.name in self.scoped and isinstance(record.args, tuple) and record.args:
            subject = str(record.args[0])[:_SUBJECT]
        key = (record.name, record.levelno, str(record.msg).split("\n", 1)[0][:_FIRST_LINE], exc, subject)
        now = self._clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window.start >= self.interval:
                if window is None and len(self._windows) >= _MAX_KINDS:
                    self._forget_expired(now)
                suppressed = window.suppressed if window is not None else 0
                self._windows[key] = _Window(start=now, count=1)
            else:
                window.count += 1
                if window.count > self.burst:
                    window.suppressed += 1
                    return False
                return True
        if suppressed:
            record.msg = (
                f"{record.getMessage()} [{suppressed} similar messages suppressed in the last {self.interval:g}s]"
            )
            record.args = None
        return True

    def _forget_expired(self, now: float) -> None:
        for key in [k for k, w in self._windows.items() if now - w.start >= self.interval]:
            del self._windows[key]
        if len(self._windows) >= _MAX_KINDS:
            self._windows.clear()


def install_repeat_filter(loggers: tuple[str, ...] = ("", "uvicorn", "uvicorn.error", "uvicorn.access")) -> None:
    """Put one :class:`RepeatFilter` on every handler of these loggers (once per handler).

    On handlers, not loggers: a logger's filters do not see records propagated from its children."""
    shared = RepeatFilter()
    for name in loggers:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RepeatFilter) for f in handler.filters):
                handler.addFilter(shared)
