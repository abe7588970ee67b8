"""Unit tests for gateway.logfilter: a flood of one message becomes a few lines and a count."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from gateway.logfilter import RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO, Clock]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    clock = Clock()
    handler.addFilter(RepeatFilter(burst=3, interval=10.0, clock=clock))
    logger = logging.getLogger("test.flood")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, out, clock
    logger.removeHandler(handler)


def test_a_flood_is_cut_to_the_burst_then_counted(logged: tuple[logging.Logger, io.StringIO, Clock]) -> None:
    """1,000 identical errors with tracebacks: 3 get through; the next one after the interval says
    how many were suppressed."""
    logger, out, clock = logged
    for _ in range(1000):
        try:
            raise OSError(24, "Too many open files")
        except OSError:
            logger.exception("socket.accept() out of system resource")
    assert out.getvalue().count("out of system resource") == 3
    assert out.getvalue().count("Traceback") == 3
    clock.now += 10.0
    try:
        raise OSError(24, "Too many open files")
    except OSError:
        logger.exception("socket.accept() out of system resource")
    counted = [line for line in out.getvalue().splitlines() if "suppressed" in line]
    assert counted == [
        "test.flood socket.accept() out of system resource [997 similar messages suppressed in the last 10s]"
    ]


def test_similar_lines_differ_in_arguments_or_later_lines(logged: tuple[logging.Logger, io.StringIO, Clock]) -> None:
    """Same template with other arguments, or another detail line, counts as the same kind."""
    logger, out, _ = logged
    for port in range(10):
        logger.warning("client %s:%d sent garbage", "127.0.0.1", port)
    for when in range(10):
        logger.error(f"Exception in callback _start_serving()\nhandle: <TimerHandle when={when}>")
    lines = out.getvalue()
    assert lines.count("sent garbage") == 3
    assert lines.count("Exception in callback") == 3


def test_other_kinds_and_exempt_loggers_pass(logged: tuple[logging.Logger, io.StringIO, Clock]) -> None:
    """Different messages each get their own burst; the access log is never cut."""
    logger, out, _ = logged
    for i in range(5):
        logger.info("first kind")
        logger.info("second kind %d", i)
    assert out.getvalue().count("first kind") == 3
    assert out.getvalue().count("second kind") == 3
    access = logging.getLogger("signalgate.access")
    access.propagate = False
    access.setLevel(logging.INFO)
    handler = logger.handlers[0]
    access.addHandler(handler)
    try:
        for _ in range(50):
            access.info("GET /healthz 200 0.3ms")
    finally:
        access.removeHandler(handler)
    assert out.getvalue().count("GET /healthz") == 50


def test_a_scoped_logger_gives_each_subject_its_own_budget() -> None:
    """signalgate.imap names the mailbox first: three mailboxes failing fast each keep their lines,
    while one mailbox's own flood is still cut to the burst."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(RepeatFilter(burst=2, interval=10.0, clock=Clock()))
    logger = logging.getLogger("signalgate.imap")
    logger.addHandler(handler)
    try:
        for box in ("mbx-noisy", "mbx-other", "mbx-mine"):
            for _ in range(50 if box == "mbx-noisy" else 1):
                logger.warning("mailbox %s: %s: %s; reconnecting in %.1fs", box, "ImapConnectionLost", "x", 0.5)
    finally:
        logger.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "mailbox mbx-noisy", "mailbox mbx-noisy", "mailbox mbx-other", "mailbox mbx-mine"
    ]  # fmt: skip
