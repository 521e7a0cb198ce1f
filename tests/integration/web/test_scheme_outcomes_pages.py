"""An admin chooses a scheme's check-in questions and report age bands from its page; the outcomes
service's refusals are named on their fields, and a stale change overwrites nothing."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from tests.integration.web.client import WebClient, problems
from tests.support import RELAY_WAIT


@pytest.fixture
def web(suite) -> WebClient:  # type: ignore[no-untyped-def]
    client = WebClient(suite.gateway)
    client.sign_in("demo-admin")
    return client


def childrens_scheme(web: WebClient, suite) -> str:  # type: ignore[no-untyped-def]
    name = f"Children's PHB {uuid.uuid4().hex[:5]}"
    made = web.post(
        "/admin/schemes/new", {"name": name, "kind": "children_young_people", "cap": "2000"}
    )
    assert made.status_code == 302, problems(made)
    scheme_id = made.headers["Location"].rstrip("/").split("/")[-1]
    path = f"/api/outcomes/schemes/{scheme_id}/outcome-settings"
    deadline = time.monotonic() + RELAY_WAIT
    while time.monotonic() < deadline:  # outcomes hears of it from the budget's outbox
        answer = suite.api("GET", path, role="admin", sub="demo-admin")
        if answer.status_code == 200 and answer.json()["scheme"]:
            return scheme_id
        time.sleep(0.1)
    raise AssertionError("outcomes never heard of the scheme")


def version_of(page_text: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page_text).group(1)  # type: ignore[union-attr]


def test_the_page_shows_the_kinds_defaults_and_saves_a_choice(web, suite):
    scheme_id = childrens_scheme(web, suite)
    path = f"/admin/schemes/{scheme_id}/outcomes"
    page = web.get(path)
    assert page.status_code == 200
    assert 'value="0-4, 5-10, 11-15, 16-17, 18-25"' in page.text
    assert 'data-testid="kind-defaults"' in page.text
    assert "The scheme is for ages 0 to 25." in page.text
    chosen = {
        "instrument_set": "children",
        "proxy_set": "parent-proxy",
        "proxy_below_age": "11",
        "age_bands": "0-10, 11-15, 16-25",
        "version": version_of(page.text),
    }
    saved = web.post(path, chosen)
    assert saved.status_code == 302, problems(saved)
    read = suite.api(
        "GET", f"/api/outcomes/schemes/{scheme_id}/outcome-settings", role="admin", sub="demo-admin"
    ).json()
    assert (read["proxy_below_age"], read["age_bands"], read["version"]) == (
        11,
        ["0-10", "11-15", "16-25"],
        1,
    )
    stale = web.post(path, chosen | {"age_bands": "0-25"})
    assert stale.status_code == 400 and "Someone else changed these settings" in stale.text
    nobody_answers_for = web.post(
        path, chosen | {"proxy_set": "none", "proxy_below_age": "", "version": "1"}
    )
    assert nobody_answers_for.status_code == 302, problems(nobody_answers_for)


def test_bad_settings_are_named_on_their_fields_and_nothing_is_saved(web, suite):
    scheme_id = childrens_scheme(web, suite)
    path = f"/admin/schemes/{scheme_id}/outcomes"
    bad = web.post(
        path,
        {
            "instrument_set": "parent-proxy",
            "proxy_set": "parent-proxy",
            "proxy_below_age": "40",
            "age_bands": "0-10, 12-25",
            "version": "0",
        },
    )
    assert bad.status_code == 400
    for field in ("instrument_set", "proxy_below_age", "age_bands"):
        assert f'href="#{field}"' in bad.text, field
    read = suite.api(
        "GET", f"/api/outcomes/schemes/{scheme_id}/outcome-settings", role="admin", sub="demo-admin"
    ).json()
    assert read["version"] == 0


@pytest.mark.parametrize("sub", ["demo-advisor", "demo-budget-holder", "demo-carer"])
def test_only_an_admin_opens_the_outcomes_page(suite, sub):
    client = WebClient(suite.gateway)
    client.sign_in(sub)
    from shared.demo import demo_uuid

    assert client.get(f"/admin/schemes/{demo_uuid('scheme', 2)}/outcomes").status_code == 403
