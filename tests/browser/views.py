"""Screenshots and accessibility of a view: :func:`check_view` saves the page at 1280 px and
390 px into the run's output folder and fails on any serious or critical axe-core violation."""

from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[2]
# CI keeps this folder as the test run's output; the closing notes list the files by name.
SHOTS = Path(os.environ.get("SG_SCREENSHOTS_DIR", ROOT / "test-output" / "screenshots"))
WIDTHS = (1280, 390)
_axe = Axe()


async def accessibility_problems(page: Page) -> list[str]:
    """Serious and critical axe-core violations on the page as it is now, one line each."""
    results = await _axe.run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


async def check_view(page: Page, name: str, lang: str) -> list[Path]:
    """Screenshot the view ``name`` at each width as ``<name>-<lang>-<width>.png`` and assert axe
    finds nothing serious or critical at either width. The viewport is left at the first width."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    saved = []
    for width in (*WIDTHS[1:], WIDTHS[0]):
        await page.set_viewport_size({"width": width, "height": 900})
        await page.wait_for_timeout(50)  # let layout settle after the resize
        path = SHOTS / f"{name}-{lang}-{width}.png"
        await page.screenshot(path=str(path), full_page=True)
        saved.append(path)
        problems = await accessibility_problems(page)
        assert problems == [], f"{name} ({lang}, {width}px): {problems}"
    return saved
