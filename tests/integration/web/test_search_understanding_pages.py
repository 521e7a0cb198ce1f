"""The search page shows what it read from the words as removable filters and says what it changed;
the caseload's young person's age pre-fills the age filter; the unmet-demand page on the dashboard."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from services.gateway.web.search.understood import age_on
from shared.demo import demo_uuid
from tests.integration.web.client import WebClient

_REMOVE = re.compile(r'<a class="govuk-link app-understood__remove" href="([^"]+)">([^<]+)<')


@pytest.fixture
def web(suite) -> WebClient:  # type: ignore[no-untyped-def]
    return WebClient(suite.gateway)


def removable(page_text: str) -> dict[str, str]:
    """Filter label -> the link that removes it."""
    return {html.unescape(label): html.unescape(href) for href, label in _REMOVE.findall(page_text)}


def test_intents_in_the_words_are_shown_as_filters_each_of_which_can_be_removed(web):
    page = web.get("/search?q=I%27m+17+and+want+boxing+in+Bexhill+on+Saturdays")
    assert page.status_code == 200
    assert "We read your search as:" in page.text
    assert "Boxing and martial arts" in page.text and "from “boxing”" in page.text
    links = removable(page.text)
    assert set(links) == {"Age 17", "Near Bexhill", "Saturdays"}
    assert links["Near Bexhill"] == "/search?q=im+17+and+want+boxing+on+saturdays"
    without = web.get(links["Near Bexhill"])
    assert without.status_code == 200
    assert set(removable(without.text)) == {"Age 17", "Saturdays"}


def test_the_page_says_plainly_what_it_changed_to_find_something(web):
    page = web.get("/search?q=driving+lessons+in+Rye")
    assert page.status_code == 200
    assert 'id="search-changes"' in page.text
    assert "Nothing within 10 km of Rye, so these are the nearest further out." in page.text
    assert "0 activities found" not in page.text


def test_somewhere_to_fix_my_bike_is_not_a_dead_end(web):
    page = web.get("/search?q=somewhere+to+fix+my+bike")
    assert page.status_code == 200 and "Bike repair workshop" in page.text
    assert "0 activities found" not in page.text


def test_a_young_persons_age_from_the_caseload_pre_fills_the_age_filter(web, suite):
    person_id = demo_uuid("person", 0)  # on demo-advisor's caseload
    person = suite.api(
        "GET", f"/api/budget/people/{person_id}", role="advisor", sub="demo-advisor"
    ).json()
    age = age_on(person["birth_date"], date.today())
    web.sign_in("demo-advisor")
    case = web.get(f"/caseload/{person_id}")
    assert f'href="/search?for={person_id}"' in case.text
    page = web.get(f"/search?for={person_id}")
    assert page.status_code == 200
    assert person["case_reference"] in page.text and f"aged {age}" in page.text
    assert re.search(rf'id="age" name="age" type="text" value="{age}"', page.text)
    assert f'<input type="hidden" name="for" value="{person_id}">' in page.text
    chosen = web.get(f"/search?for={person_id}&age=30&q=gym")
    assert re.search(r'id="age" name="age" type="text" value="30"', chosen.text)


def test_someone_elses_young_person_pre_fills_nothing(web):
    web.sign_in("demo-advisor")
    other = demo_uuid("person", 1)  # demo-advisor-2's
    page = web.get(f"/search?for={other}")
    assert page.status_code == 200
    assert 'id="searching-for"' not in page.text and 'name="for"' not in page.text
    assert re.search(r'id="age" name="age" type="text"(?! value="\d)', page.text)


def test_the_unmet_demand_page_on_the_dashboard(web):
    for _ in range(8):
        web.get("/search?q=learn+to+drive+in+Rye")
    web.sign_in("demo-admin")
    dashboard = web.get("/dashboard")
    assert 'href="/dashboard/unmet-demand"' in dashboard.text
    page = web.get("/dashboard/unmet-demand")
    assert page.status_code == 200
    assert '<h1 class="govuk-heading-l">What people looked for and could not find nearby</h1>' in (
        page.text
    )
    assert re.search(r"Driving lessons</td>\s*<td[^>]*>Rye</td>", page.text)
    download = web.get("/dashboard/unmet-demand.csv")
    assert download.status_code == 200 and download.headers["Content-Type"].startswith("text/csv")
    assert download.text.startswith("category,category_name,town,words,searches")


@pytest.mark.parametrize("sub", ["demo-advisor", "demo-finance", "demo-provider"])
def test_only_budget_holders_and_admins_see_the_unmet_demand_page(web, sub):
    web.sign_in(sub)
    assert web.get("/dashboard/unmet-demand").status_code == 403
    assert web.get("/dashboard/unmet-demand.csv").status_code == 403


def test_fund_this_carries_the_search_so_the_log_learns_it_led_to_a_request(web):
    web.sign_in("demo-advisor")
    page = web.get("/search?q=salsa+near+Eastbourne&funding_ready=true")
    links = re.findall(r'href="(/fund\?[^"]+)"', page.text)
    assert links and all("search_id=" in html.unescape(link) for link in links)
    chosen = web.get(html.unescape(links[0]))
    assert chosen.status_code == 200 and "search_id=" in html.unescape(chosen.text)


def test_what_a_provider_offers_young_people_is_a_filter_on_the_page(web):
    page = web.get("/search?q=gym&welcome=first_session_free&welcome=bring_a_friend")
    assert page.status_code == 200
    for value in ("first_session_free", "bring_a_friend"):
        assert re.search(rf'name="welcome" type="checkbox" value="{value}" checked', page.text)
    assert not re.search(r'value="care_experienced" checked', page.text)
    results = page.text.split('id="results-heading"', 1)[1]
    shown = results.count('<li class="app-result">')
    assert shown > 0
    assert results.count(">First session free</strong>") == shown
    assert results.count(">Bring a friend</strong>") == shown
