"""Browser tests: Playwright (sync API) driving Debian's Chromium headless, against the seeded suite."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.demo import DEMO_USERS
from tests.support import RunningSuite, postgres_available, running_suite

CHROMIUM = os.environ.get("PHB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (set PHB_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSuite]:
    """The journeys' own seeded suite (in place of the one other tests share and add records to):
    they read the demo as seeded and as the journeys before them left it, whichever other tests
    ran before them in this process."""
    var_dir = tmp_path_factory.mktemp("journeys-suite-var")
    with running_suite(var_dir, seed=True, postgres=postgres_available()) as running:
        yield running


@pytest.fixture(scope="session")
def base_url(suite) -> str:  # type: ignore[no-untyped-def]
    # "localhost" is a secure context, so the session's Secure cookie works over plain http.
    return suite.gateway.replace("127.0.0.1", "localhost")


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("PHB_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(chromium, base_url):  # type: ignore[no-untyped-def]
    context = chromium.new_context(base_url=base_url, viewport={"width": 1024, "height": 800})
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def phone(chromium, base_url) -> Iterator:  # type: ignore[no-untyped-def]
    context = chromium.new_context(
        base_url=base_url, viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def label_of(sub: str) -> str:
    return next(label for s, _r, label in DEMO_USERS if s == sub)


def sign_in(page, sub: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/sign-in")
    page.get_by_label(label_of(sub)).check()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert label_of(sub) in page.inner_text(".app-signed-in")


def sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert "You have signed out" in page.content()


def no_horizontal_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def axe_violations(page) -> list[dict]:  # type: ignore[no-untyped-def]
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in results.response["violations"]
    ]
