"""Rendering a notification's template off the event loop, with a hard time limit.

A template is rendered in a worker thread (``asyncio.to_thread``) so the event loop that also
serves ``/healthz``, WebSockets and webhooks in ``signalgate serve`` keeps answering while a
heavy template is rendered. The rendering's own budget
(:mod:`gateway.domain.template_budget`) stops it after ``MAX_SECONDS``; we wait one second more,
and if it has still not finished we give up on it and expire its budget, so the thread stops at
its next step.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from gateway.domain.rendering import TemplateError, render, render_header
from gateway.domain.template_budget import MAX_SECONDS, Budget

RENDER_TIMEOUT_SECONDS = MAX_SECONDS + 1.0


async def _off_loop(fn: functools.partial[str]) -> str:
    budget = Budget.start()
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn, budget=budget), RENDER_TIMEOUT_SECONDS)
    except TimeoutError:
        budget.deadline = 0.0  # the thread stops at its next step
        raise TemplateError(f"rendering took longer than {RENDER_TIMEOUT_SECONDS:g} s", limit=True) from None


async def render_body(source: str, data: dict[str, Any], *, html: bool = False) -> str:
    return await _off_loop(functools.partial(render, source, data, html))


async def render_subject(source: str, data: dict[str, Any]) -> str:
    return await _off_loop(functools.partial(render_header, source, data))


def rejection_reason(exc: TemplateError) -> str:
    """``template_limit`` for a template over its time or work budget, else ``template_error``."""
    return "template_limit" if exc.limit else "template_error"
