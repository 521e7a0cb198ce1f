"""The young person's check-in page from a link: public, answered once, a kind message after."""

from __future__ import annotations

import re

import pytest

from tests.integration.web.client import WebClient


def issue_link(suite) -> str:  # type: ignore[no-untyped-def]
    """A fresh feedback link for one of demo-advisor's open check-ins, as the advisor would."""
    found = suite.api(
        "GET", "/api/outcomes/checkins?status=open&per_page=50", role="advisor", sub="demo-advisor"
    )
    assert found.status_code == 200, found.text
    # one without a link if there is one; a new link replaces an older one
    items = sorted(found.json()["items"], key=lambda i: i.get("link") is not None)
    if not items:
        pytest.fail("the seed has no open check-in for demo-advisor")
    issued = suite.api(
        "POST", f"/api/outcomes/checkins/{items[0]['id']}/link", role="advisor", sub="demo-advisor"
    )
    assert issued.status_code == 201, issued.text
    return issued.json()["page_path"]


def test_a_check_in_link_is_answered_once_then_shows_a_kind_message(suite):
    path = issue_link(suite)
    web = WebClient(suite.gateway)
    page = web.get(path)
    assert page.status_code == 200 and "Send my answers" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the token never leaks onwards
    names = sorted(set(re.findall(r'name="([a-z0-9_.]+)" type="radio"', page.text)))
    assert names, page.text[:2000]

    missing = web.post(path, {})
    assert missing.status_code == 400 and "govuk-error-summary" in missing.text
    assert "Choose an answer" in missing.text

    answers = {}
    for name in names:
        values = re.findall(rf'name="{re.escape(name)}" type="radio" value="([^"]+)"', page.text)
        answers[name] = values[len(values) // 2]
    done = web.post(path, answers)
    assert done.status_code == 302 and done.headers["Location"].endswith("/feedback/thank-you")
    assert "Thank you" in web.follow(done).text

    again = web.get(path)
    assert again.status_code == 404 and "already been used" in again.text


def test_an_unknown_link_gets_the_same_kind_message(suite):
    web = WebClient(suite.gateway)
    page = web.get("/check-in/not-a-real-token")
    assert page.status_code == 404 and "ask your personal advisor" in page.text


def test_an_advisor_gets_a_link_from_the_young_persons_page(suite):
    found = suite.api(
        "GET", "/api/outcomes/checkins?status=open&per_page=50", role="advisor", sub="demo-advisor"
    )
    items = sorted(found.json()["items"], key=lambda i: i.get("link") is not None)
    assert items, "the seed has open check-ins for demo-advisor"
    item = items[0]
    web = WebClient(suite.gateway)
    web.sign_in("demo-advisor")
    person = web.get(f"/caseload/{item['person_id']}")
    action = f"/caseload/{item['person_id']}/checkins/{item['id']}/link"
    assert action in person.text
    shown = web.post(action, {}, form_at=f"/caseload/{item['person_id']}")
    assert shown.status_code == 200
    link = re.search(r'data-testid="checkin-link" href="([^"]+)"', shown.text)
    assert link and "/feedback/" in link.group(1)
    path = "/" + link.group(1).split("/", 3)[3]
    assert WebClient(suite.gateway).get(path).status_code == 200
