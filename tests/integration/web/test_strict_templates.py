"""Our templates refuse a missing value instead of rendering around it (no suite needed).

A hit without `distance_m` once made every place-less search a 500 that no test saw, because a
chainable undefined passes `is not none`. Now any template given less than it reads fails loudly,
while GOV.UK Frontend's own macros keep reading their optional parameters as they need to.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from jinja2 import UndefinedError

from services.directory.domain.search import SearchDocument
from services.directory.search.query import SearchHit
from services.gateway import web
from services.gateway.settings import GatewaySettings
from services.gateway.web.core import render


@pytest.fixture(scope="module")
def app() -> Flask:
    app = Flask("services.gateway")
    app.config["SECRET_KEY"] = "only-for-rendering-in-this-test"
    web.register(app, GatewaySettings.load(dict(app.config)))
    return app


def a_hit(**changes: Any) -> dict[str, Any]:
    document = SearchDocument(
        id="b7d0a3a4-0000-4000-8000-000000000001",
        name="Open gym",
        description="Weights and classes.",
        organization_id="b7d0a3a4-0000-4000-8000-000000000002",
        organization_name="Harbour Gym",
        town="Hastings",
        min_price_pence=500,
        max_price_pence=500,
    )
    hit = SearchHit(document=document).as_dict()
    hit.update(changes)
    return hit


def render_search(app: Flask, hit: dict[str, Any]) -> str:
    result = {"total": 1, "page": 1, "per_page": 20, "total_pages": 1, "hits": [hit], "facets": {}}
    result |= {"understood": {"words": ["gym"], "categories": [], "filters": []}, "changes": []}
    with app.test_request_context("/search?q=gym"):
        return render(
            "web/search.html",
            title="Find an activity",
            form={"q": "gym"},
            person=None,
            removable=[],
            result=result,
            searched=True,
            field_errors={},
            pages=[],
            days=[],
            price_choices=[],
            radius_choices=[],
            access_choices=[],
            welcomes={},
            selected_categories=[],
        )


def test_a_hit_from_a_search_without_a_place_carries_a_null_distance():
    assert a_hit()["distance_m"] is None


def test_the_search_page_shows_no_distance_for_a_hit_with_a_null_one(app):
    page = render_search(app, a_hit(distance_m=None))
    assert "Open gym" in page and " away" not in page


def test_the_search_page_shows_the_distance_when_there_is_one(app):
    assert "0.8 miles away" in render_search(app, a_hit(distance_m=1234))


def test_the_search_page_refuses_a_hit_without_distance_m(app):
    hit = a_hit()
    del hit["distance_m"]
    with pytest.raises(UndefinedError, match="distance_m"):
        render_search(app, hit)


def test_any_template_refuses_a_missing_attribute_even_under_is_not_none(app):
    template = app.jinja_env.from_string("{% if thing.missing is not none %}shown{% endif %}")
    template.filename = app.jinja_env.get_template("web/base.html").filename  # one of ours
    with app.test_request_context("/"), pytest.raises(UndefinedError):
        template.render(thing={})


def test_govuk_macros_still_read_their_optional_parameters(app):
    with app.test_request_context("/"):
        template = app.jinja_env.from_string(
            '{% from "govuk_frontend_jinja/components/button/macro.html" import govukButton %}'
            '{{ govukButton({"text": "Save"}) }}'
        )
        assert "Save" in template.render()
