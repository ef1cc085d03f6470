"""A real Chromium, driven by Playwright, against a hub with its emulators on loopback.

Debian's `chromium` is used (scripts/test installs it); each page a journey visits is
saved as a screenshot under `test-artifacts/console/`.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "console"


def chromium_path() -> str:
    found = os.environ.get("ORDERHUB_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise RuntimeError("no Chromium: apt-get install chromium, or set ORDERHUB_CHROMIUM")
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    yield opened
    context.close()


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Keep what the page looks like now, for the test artefacts."""
    test = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)

    def take(name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{test}-{name}.png"), full_page=True)

    return take
