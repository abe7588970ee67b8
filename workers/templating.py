"""Rendering a notification's template: compiled once per template version, off the event loop
unless it is simple, always within its budget.

Compiling is the expensive part of jinja2, and a worker sends the same few templates over and over:
:class:`TemplateCache` keeps each compiled template under (org, template id, version, part), and
checks the source on every hit (a template deleted and created again restarts at version 1).

A template is rendered in a worker thread (``asyncio.to_thread``) so the event loop that also
serves ``/healthz``, WebSockets and webhooks in ``signalgate serve`` keeps answering while a
heavy template is rendered. The rendering's own budget
(:mod:`gateway.domain.template_budget`) stops it after ``MAX_SECONDS``; we wait one second more,
and if it has still not finished we give up on it and expire its budget, so the thread stops at
its next step. A *simple* template (:func:`gateway.domain.rendering.is_simple`: lookups,
conditions and value-only filters, no loop or call) with small merge data is rendered on the loop
itself: its work is one pass over its text and its data, it still runs in the same sandbox under
the same budget, and the thread hop would cost more than the rendering.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from typing import Any

from gateway.domain.rendering import Compiled, TemplateError, compile_template, header_value, render_compiled
from gateway.domain.template_budget import MAX_SECONDS, Budget
from gateway.store.sending import Opened

RENDER_TIMEOUT_SECONDS = MAX_SECONDS + 1.0
# Template parts kept compiled per worker process (an org's few templates × subject/body).
CACHE_SIZE = 512
# Merge data a simple template may render on the loop: flat values, this many characters in all.
INLINE_DATA_CHARS = 16_384
INLINE_DATA_FIELDS = 100


async def _off_loop(fn: functools.partial[str]) -> str:
    budget = Budget.start()
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn, budget=budget), RENDER_TIMEOUT_SECONDS)
    except TimeoutError:
        budget.deadline = 0.0  # the thread stops at its next step
        raise TemplateError(f"rendering took longer than {RENDER_TIMEOUT_SECONDS:g} s", limit=True) from None


def small_data(data: dict[str, Any]) -> bool:
    """Flat merge values (text, numbers, booleans, null) of at most ``INLINE_DATA_CHARS`` characters."""
    if len(data) > INLINE_DATA_FIELDS:
        return False
    total = 0
    for value in data.values():
        if isinstance(value, str):
            total += len(value)
        elif value is None or isinstance(value, int | float):
            total += 24
        else:
            return False
    return total <= INLINE_DATA_CHARS


class TemplateCache:
    """Compiled template parts of this process, by (org, template id, version, part, html)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[tuple[str, str, int, str, bool], tuple[str, Compiled]] = OrderedDict()

    def cached(self, org: str, template: dict[str, Any], part: str, html: bool) -> Compiled | None:
        key = (org, str(template.get("id")), int(template.get("version", 1)), part, html)
        hit = self._entries.get(key)
        if hit is None or hit[0] != template[part]:
            return None
        self._entries.move_to_end(key)
        return hit[1]

    def _store(self, org: str, template: dict[str, Any], part: str, html: bool, compiled: Compiled) -> None:
        key = (org, str(template.get("id")), int(template.get("version", 1)), part, html)
        self._entries[key] = (template[part], compiled)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    async def compiled(self, org: str, template: dict[str, Any], part: str, html: bool) -> Compiled:
        """The part compiled (off the loop on a miss: a large template takes a while), or TemplateError."""
        hit = self.cached(org, template, part, html)
        if hit is not None:
            return hit
        compile_part = asyncio.to_thread(compile_template, template[part], html)
        try:
            compiled = await asyncio.wait_for(compile_part, RENDER_TIMEOUT_SECONDS)
        except TimeoutError:
            raise TemplateError(f"compiling took longer than {RENDER_TIMEOUT_SECONDS:g} s", limit=True) from None
        self._store(org, template, part, html, compiled)
        return compiled

    async def render(
        self, org: str, template: dict[str, Any], part: str, data: dict[str, Any], *, html: bool = False
    ) -> str:
        """``template[part]`` rendered with ``data``; autoescaped when ``html``; a ``subject`` is one header line."""
        compiled = await self.compiled(org, template, part, html)
        if compiled.simple and small_data(data):
            text = render_compiled(compiled, data)
        else:
            text = await _off_loop(functools.partial(render_compiled, compiled, data))
        return header_value(text) if part == "subject" else text


def rejection_reason(exc: TemplateError) -> str:
    """``template_limit`` for a template over its time or work budget, else ``template_error``."""
    return "template_limit" if exc.limit else "template_error"


def rendered_version(opened: Opened | None) -> dict[str, int]:
    """``{"template_version": n}`` of the template a job read with its notification (and renders):
    stored on the notification, so reports count per version (``report_once.lua``)."""
    template = opened.template if opened is not None else None
    return {"template_version": int(template.get("version", 1))} if template else {}
