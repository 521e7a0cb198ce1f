"""The Content-Security-Policy in a real browser: our pages, GOV.UK Frontend's inline script (it
carries the nonce) and Swagger UI run with nothing blocked, and an injected inline script would."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    page.on(
        "console",
        lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return seen


@pytest.mark.parametrize("path", ["/sign-in", "/search?q=gym", "/accessibility", "/docs"])
def test_pages_run_under_the_policy_with_nothing_blocked(page, path):
    violations = _violations(page)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert violations == []
    if path != "/docs":
        # GOV.UK Frontend's inline script ran (it has the nonce), so its JavaScript is on.
        assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")


def test_swagger_ui_renders_under_the_policy(page):
    violations = _violations(page)
    page.goto("/docs/budget")
    page.locator(".swagger-ui .info").wait_for()
    assert violations == []


def test_an_inline_script_without_the_nonce_is_refused(page):
    violations = _violations(page)
    page.goto("/sign-in")
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__pwned = 1'; document.body.appendChild(s); }"
    )
    assert page.evaluate("window.__pwned === undefined")
    assert violations, "the browser reported no refusal"
