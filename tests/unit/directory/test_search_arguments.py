"""`GET /search`'s query string read field by field gives what webargs and the schema give: the
same arguments, or the same 422 naming every bad field (the schema reads anything unsure)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from services.directory.api.search.schemas import (
    SearchQueryArgsSchema,
    UnmetDemandQueryArgsSchema,
)
from shared.query_args import QueryReader, QuickQueryParser

APP = Flask(__name__)
SCHEMA = SearchQueryArgsSchema()
WEBARGS = FlaskParser()
QUICK = QuickQueryParser()
QUICK.use_args(SCHEMA, location="query")  # as @blp.arguments gives it its schema

ODD = [
    "",
    "q=",
    "q=" + "x" * 200,
    "q=" + "x" * 201,
    "q=swim&q=run",  # one value taken: the first, as webargs takes it
    "age=17&age=x",
    "age=abc",
    "age=200",
    "age=-1",
    "age=5.0",
    "age=%2017%20",
    "age=1_7",
    "age=",
    "max_price=0",
    "max_price=-1",
    "max_price=10000001",
    "max_price=2.5",
    "free=yes",
    "free=TRUE",
    "free=0",
    "free=maybe",
    "free=",
    "funding_ready=on",
    "lat=50.8&lng=0.3",
    "lat=nan&lng=0.3",
    "lat=inf&lng=0.3",
    "lat=1e1&lng=-1E-1",
    "lat=91&lng=0",
    "lng=181",
    "radius_km=0",
    "radius_km=500",
    "radius_km=500.5",
    "near=",
    "near=Hastings",
    "near=" + "x" * 101,
    "day=saturday",
    "day=funday",
    "day=Saturday",
    "category=",
    "category=dance&category=sport-fitness",
    "category=" + "c" * 81,
    "time=morning&time=evening",
    "time=morning&time=never",
    "welcome=nope",
    "accessibility=wheelchair&accessibility=",
    "language=e",
    "language=en",
    "facets=day",
    "facets=nope&facets=day",
    "facets=",
    "sort=distance",
    "sort=random",
    "page=0",
    "page=10001",
    "page=2",
    "per_page=50",
    "per_page=51",
    "per_page=x&age=x&day=x&max_price=x",  # several bad: every one named
    "unknown=1",
    "q=swim&unknown=1",
    "q=%00%ff",
    "q=caf%C3%A9&near=%E2%80%AE",
]


def outcome(parser: FlaskParser, schema: ma.Schema, query: str) -> tuple[str, Any]:
    with APP.test_request_context("/search?" + query):
        try:
            return "read", parser.parse(schema, location="query")
        except HTTPException as err:
            return str(err.code), err.data["messages"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("query", ODD)
def test_odd_and_bad_query_strings_read_as_webargs_reads_them(query: str) -> None:
    assert outcome(QUICK, SCHEMA, query) == outcome(WEBARGS, SCHEMA, query)


SEARCHES = [  # as the web page, the API's clients and bench/search.py ask
    "q=swimming",
    "q=gymnasim&sort=relevance",
    "q=I%27m+17+and+want+boxing+in+Polegate+on+Saturdays",
    "q=dance&category=dance&max_price=2500&age=17&day=saturday&sort=relevance",
    "q=&category=sport-fitness&category=animals&free=true&funding_ready=true",
    "q=climbing&lat=50.8543&lng=0.5735&radius_km=10&sort=distance",
    "q=art&near=BN21+4AB&radius_km=5&page=2&per_page=10",
    "q=music&time=evening&welcome=bring_a_friend&accessibility=wheelchair&language=en",
    "q=yoga&facets=category&facets=day",
]


@pytest.mark.parametrize("query", SEARCHES)
def test_searches_are_read_by_the_fields_alone_as_webargs_reads_them(query: str) -> None:
    reader = QueryReader.for_schema(SCHEMA)
    assert reader is not None
    with APP.test_request_context("/search?" + query) as context:
        quick = reader.read(context.request.args)
    assert quick is not None  # read by the fields alone, not by the schema
    assert outcome(WEBARGS, SCHEMA, query) == ("read", quick)


def test_a_bad_or_unknown_argument_is_left_to_the_schema() -> None:
    reader = QueryReader.for_schema(SCHEMA)
    assert reader is not None
    assert reader.read(MultiDict({"age": "x"})) is None
    assert reader.read(MultiDict({"q": "swim", "nope": "1"})) is None
    assert reader.read(MultiDict({"q": "swim"})) == WEBARGS.parse(
        SCHEMA, _request("q=swim"), location="query"
    )


def test_defaults_are_fresh_for_each_request() -> None:
    reader = QueryReader.for_schema(SCHEMA)
    assert reader is not None
    first, second = reader.read(MultiDict()), reader.read(MultiDict())
    assert first is not None and second is not None
    assert first["category"] == [] and first["category"] is not second["category"]
    assert first["facets"] is not second["facets"]


def test_a_required_field_left_out_is_left_to_the_schema() -> None:
    class Needs(ma.Schema):
        days = ma.fields.Integer(required=True)

    reader = QueryReader.for_schema(Needs())
    assert reader is not None
    assert reader.read(MultiDict()) is None
    assert reader.read(MultiDict({"days": "3"})) == {"days": 3}


def test_what_it_cannot_mirror_gets_no_reader() -> None:
    class Hooked(ma.Schema):
        days = ma.fields.Integer()

        @ma.post_load
        def doubled(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
            return {"days": data["days"] * 2}

    class Nested(ma.Schema):
        when = ma.fields.DateTime()

    class Listed(ma.Schema):
        when = ma.fields.List(ma.fields.DateTime())

    for schema in (Hooked(), Nested(), Listed()):
        assert QueryReader.for_schema(schema) is None
    parser = QuickQueryParser()
    hooked = Hooked()
    parser.use_args(hooked, location="query")
    assert outcome(parser, hooked, "days=2") == ("read", {"days": 4})  # the schema read it


def test_the_unmet_demand_report_reads_its_days_the_same() -> None:
    schema = UnmetDemandQueryArgsSchema()
    parser = QuickQueryParser()
    parser.use_args(schema, location="query")
    for query in ("", "days=30", "days=0", "days=x", "days=3661"):
        assert outcome(parser, schema, query) == outcome(WEBARGS, schema, query)


def _request(query: str) -> Any:
    return APP.test_request_context("/search?" + query).request


def test_the_search_blueprint_reads_its_query_strings_quickly() -> None:
    from services.directory.api.search.routes import blp

    parser = blp.ARGUMENTS_PARSER
    assert isinstance(parser, QuickQueryParser)
    read = {type(schema) for schema, _reader in parser.readers.values()}
    assert read == {SearchQueryArgsSchema, UnmetDemandQueryArgsSchema}
