"""Every page a person can reach, for every role, renders and is well formed.

Signs in as each demo user (and as nobody), follows every same-site link from the start page, and
tries a table of search-form variants. Fails on any 5xx, and, as GOV.UK Notify's page tests do,
on a page without exactly one <h1>, whose <title> does not start with it, or with duplicate ids.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest

from shared.demo import DEMO_USERS
from tests.integration.web.client import WebClient

# Links that change something when followed, or leave the pages.
NOT_FOLLOWED = ("/sign-out", "/static/", "/assets/", "/api/", "/oruk/", "/docs")
# Every kind of page, a few of each: enough to meet each template's variations, bounded in time.
SAME_KIND = 3
MOST_PAGES = 400
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+")

SEARCH_VARIANTS: list[dict[str, str]] = [
    {"q": "gym"},
    {"q": "salsa"},
    {"q": ""},
    {"q": "gym", "free": "1"},
    {"q": "gym", "day": "saturday"},
    {"q": "gym", "age": "17"},
    {"q": "gym", "max_price": "500"},
    {"q": "gym", "price": "free"},
    {"q": "gym", "price": "500"},
    {"q": "gym", "near": "Eastbourne"},
    {"q": "gym", "near": "Eastbourne", "radius": "10", "sort": "distance"},
    {"q": "gym", "near": "Eastbourne", "sort": "relevance"},
    {"q": "gym", "sort": "distance"},
    {"q": "gym", "near": "Nowhere-on-sea"},
    {"q": "gym", "near": "BN21 4TW"},
    {"q": "gym", "near": "50.77,0.28"},
    {"q": "gym", "age": "seventeen"},
    {"q": "gym", "age": "-3"},
    {"q": "gym", "day": "someday"},
    {"q": "gym", "funding_ready": "true"},
    {"q": "gym", "accessibility": "wheelchair"},
    {"q": "gym", "category": "nonexistent-category"},
    {"q": "gym", "page": "999"},
    {"q": "gym", "page": "0"},
    {"q": "gym", "page": "abc"},
    {"q": "🏋️‍♀️ 💃"},
    {"q": "\u202eكرة القدم"},
    {"q": "!@#$%^&*()_+" * 16},
    {"q": "x" * 201},
    {"q": "<script>alert(1)</script>"},
    {"near": "Hastings"},
    {"day": "saturday"},
    {"age": "17"},
    {"price": "free"},
    {"category": "sport"},
]


class _Page(HTMLParser):
    """What the structural checks need from a page: its h1s' text, its title and every id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1: list[str] = []
        self.title = ""
        self.ids: list[str] = []
        self.links: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.append(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        if tag == "h1":
            self.h1.append("")
            self._in = "h1"
        elif tag == "title" and not self.title:  # the page's, not an <svg>'s title
            self._in = "title"

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "h1":
            self.h1[-1] += data
        elif self._in == "title":
            self.title += data


def _words(text: str) -> str:
    return " ".join(text.split())


def check_page(path: str, response) -> list[str]:  # type: ignore[no-untyped-def]
    """The problems with one response; the links it offers are read by `links`."""
    if response.status_code >= 500:
        return [f"{path}: {response.status_code}"]
    if "text/html" not in response.headers.get("Content-Type", ""):
        return []
    page = _Page()
    page.feed(response.text)
    problems = []
    if len(page.h1) != 1:
        problems.append(f"{path}: {len(page.h1)} <h1> elements")
    else:
        title = _words(page.title).removeprefix("Error: ")
        if not title.startswith(_words(page.h1[0])):
            problems.append(f"{path}: title {title!r} does not start with h1 {page.h1[0]!r}")
    duplicates = [i for i, n in Counter(page.ids).items() if n > 1]
    if duplicates:
        problems.append(f"{path}: duplicate ids {duplicates}")
    return problems


def links(response) -> list[str]:  # type: ignore[no-untyped-def]
    if "text/html" not in response.headers.get("Content-Type", ""):
        return []
    page = _Page()
    page.feed(response.text)
    found = []
    for href in page.links:
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        if parts.path.startswith(NOT_FOLLOWED):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def kind(path: str) -> str:
    """Which page a path is, ids and query aside: /caseload/<id>/plan for any young person's plan."""
    return _ID.sub("<id>", path.split("?", 1)[0])


def crawl(web: WebClient) -> tuple[set[str], list[str]]:
    start = ["/"] + ["/search?" + urlencode(v) for v in SEARCH_VARIANTS]
    queue, seen, problems = deque(start), set(start), []
    kinds: Counter[str] = Counter()
    while queue and len(seen) < MOST_PAGES:
        path = queue.popleft()
        response = web.get(path)
        problems += check_page(path, response)
        for link in links(response):
            if link not in seen and kinds[kind(link)] < SAME_KIND:
                kinds[kind(link)] += 1
                seen.add(link)
                queue.append(link)
    return {kind(p) for p in seen}, problems


ROLES = [None] + [sub for sub, _role, _label in DEMO_USERS]


@pytest.mark.parametrize("sub", ROLES, ids=[str(r) for r in ROLES])
def test_every_page_a_role_can_reach_renders_and_is_well_formed(suite, sub):
    web = WebClient(suite.gateway)
    if sub:
        assert web.sign_in(sub).status_code == 302
    seen, problems = crawl(web)
    assert len(seen) > 2, f"the crawl found no links to follow: {seen}"
    assert not problems, "\n".join(problems)


def test_the_search_page_without_a_place_lists_results_without_distances(suite):
    web = WebClient(suite.gateway)
    web.sign_in("demo-advisor")
    page = web.get("/search?q=gym")
    assert page.status_code == 200
    assert "activities found" in page.text and " away" not in page.text
    near = web.get("/search?q=gym&near=Eastbourne")
    assert near.status_code == 200 and " away" in near.text
