"""A real browser against a real server: Playwright driving Debian's Chromium.

One browser per module (starting Chromium costs a second), a fresh
context (cookies, storage) for every test. Every page a test visits is kept as
a full-page screenshot under ``test-artifacts/e2e/<test>/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module; never a downloaded browser.

    Playwright's sync API keeps an asyncio event loop running in this thread
    (driven through greenlets) for as long as it is open. So it must close with
    the module: a loop left running makes every later ``asyncio.run`` in the
    session fail. Meanwhile Django sees the running loop and would refuse the
    tests' ORM calls ("You cannot call this from an async context"), although
    they are plain synchronous calls between two browser steps, never concurrent
    with the loop; DJANGO_ALLOW_ASYNC_UNSAFE says so for exactly that time. The
    live server answers in its own thread and is not affected.
    """
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium (/usr/bin/chromium) is not installed")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                # Root in a container has no user namespaces for Chromium's sandbox.
                args=["--no-sandbox", "--disable-dev-shm-usage"],
            )
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class Visit:
    """A browser page that screenshots every page it shows and notes CSP violations."""

    page: Any
    folder: Path
    count: int = 0
    csp_violations: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot of what the browser shows now."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def go(self, path: str, name: str) -> Any:
        response = self.page.goto(path)
        self.page.wait_for_load_state("load")
        self.shot(name)
        return response


@pytest.fixture
def visit(
    browser: Any, live_server: Any, request: pytest.FixtureRequest, settings: Any
) -> Iterator[Visit]:
    """A fresh browser context on the live server, with the production CSP switched on."""
    settings.CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", accept_downloads=True, timezone_id="Europe/Berlin"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    result = Visit(page=page, folder=folder)
    page.on(
        "console",
        lambda message: (
            result.csp_violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: result.script_errors.append(str(error)))
    try:
        yield result
    finally:
        context.close()
    assert result.csp_violations == [], result.csp_violations
    assert result.script_errors == [], result.script_errors
