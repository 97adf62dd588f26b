"""Open a rendered report in headless Chromium (Debian's, driven by Playwright).

Used by the browser test and by ``scripts/screenshot.py``; Playwright is a test extra, and no
browser is downloaded: the system's Chromium is driven as it is.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def open_report(path: Path, width: int = 1400, height: int = 1000) -> Iterator[tuple[Any, list[str]]]:
    """Yield (page, errors) once every chart has been drawn; errors collects console errors."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(Path(path).resolve().as_uri())
            page.wait_for_function("document.body.dataset.chartsDrawn !== undefined", timeout=30_000)
            yield page, errors
        finally:
            browser.close()
