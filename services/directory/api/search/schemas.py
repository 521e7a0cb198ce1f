"""What `GET /search` accepts and answers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.directory.search.query import DAYS, FACETS, MAX_PER_PAGE, SORTS


class SearchQueryArgsSchema(Schema):
    q = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "Words to look for; typos forgiven."},
    )
    category = fields.List(
        fields.String(validate=validate.Length(min=1, max=80)),
        load_default=list,
        metadata={
            "description": "Taxonomy term slug (repeatable: any of them); a parent includes its children."
        },
    )
    max_price = fields.Integer(
        strict=False,
        validate=validate.Range(min=0, max=10_000_000),
        metadata={"description": "Price ceiling in pence (the cheapest option counts)."},
    )
    free = fields.Boolean(load_default=False, metadata={"description": "Only free listings."})
    age = fields.Integer(
        validate=validate.Range(min=0, max=120),
        metadata={"description": "Only listings that suit this age."},
    )
    near = fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={"description": "A town, a postcode or postcode district, or 'lat,lng'."},
    )
    lat = fields.Float(validate=validate.Range(min=-90, max=90), allow_nan=False)
    lng = fields.Float(validate=validate.Range(min=-180, max=180), allow_nan=False)
    radius_km = fields.Float(
        validate=validate.Range(min=0, max=500, min_inclusive=False), allow_nan=False
    )
    day = fields.String(validate=validate.OneOf(DAYS))
    accessibility = fields.List(
        fields.String(validate=validate.Length(min=1, max=80)), load_default=list
    )
    language = fields.String(validate=validate.Length(min=2, max=12))
    funding_ready = fields.Boolean(
        load_default=False, metadata={"description": "Only listings that can be funded today."}
    )
    sort = fields.String(
        validate=validate.OneOf(SORTS),
        metadata={
            "description": "relevance (default), distance or price; distance when the words name a place."
        },
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    facets = fields.List(
        fields.String(validate=validate.OneOf(FACETS)), load_default=lambda: list(FACETS)
    )


class FacetValueSchema(Schema):
    value = fields.String()
    count = fields.Integer()


class SearchResultSchema(Schema):
    total = fields.Integer(metadata={"description": "Exact number of matching listings."})
    page = fields.Integer()
    per_page = fields.Integer()
    total_pages = fields.Integer()
    free_only = fields.Boolean(
        metadata={"description": "Only free listings (asked, or read from the word 'free')."}
    )
    near = fields.Dict(
        allow_none=True, metadata={"description": "Where distances are measured from."}
    )
    words_used = fields.List(
        fields.String(),
        metadata={
            "description": "Query words every hit matched (words dropped from the end when nothing matched them all)."
        },
    )
    hits = fields.List(
        fields.Dict(),
        metadata={
            "description": "Listings, each with `highlights` and `distance_m` (metres, null when no place was given)."
        },
    )
    facets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FacetValueSchema)))
