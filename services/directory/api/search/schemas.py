"""What `GET /search` accepts and answers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.directory.domain.search import PARTS_OF_DAY
from services.directory.search.query import DAYS, FACETS, MAX_PER_PAGE, SORTS, WELCOMES


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
    time = fields.List(
        fields.String(validate=validate.OneOf(PARTS_OF_DAY)),
        load_default=list,
        metadata={"description": "Part of the day it runs (repeatable: any of them)."},
    )
    welcome = fields.List(
        fields.String(validate=validate.OneOf(WELCOMES)),
        load_default=list,
        metadata={
            "description": "What the provider offers young people (repeatable: all of them)."
        },
    )
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
            "description": "Listings as a list of results shows them (the whole listing is "
            "GET /listings/{id}): id, name, organization_id, organization_name, description "
            "(cropped to 30 words), categories, category_labels, town, lat, lng, min_price_pence, "
            "max_price_pence, is_free, price_band, min_age, max_age, days, times, welcomes, "
            "provider_state, funding_ready, `highlights` (name and the cropped description) and "
            "`distance_m` (metres, null when no place was given)."
        },
    )
    facets = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(FacetValueSchema)))
    understood = fields.Nested(
        lambda: UnderstoodSchema(),
        metadata={"description": "How the words were read: words, categories and filters."},
    )
    changes = fields.List(
        fields.Nested(lambda: ChangeSchema()),
        metadata={"description": "What was changed so the search found something, said plainly."},
    )
    place = fields.String(
        allow_none=True, metadata={"description": "The place named in the words, as shown."}
    )
    nearby = fields.Integer(
        allow_none=True,
        metadata={
            "description": "Matches within 10 km of the place; sorted nearest first, those on "
            "the first page (so at most per_page). 0: nothing nearby. Null without a place."
        },
    )
    search_id = fields.String(
        allow_none=True, metadata={"description": "This search in the search log."}
    )


class ChangeSchema(Schema):
    kind = fields.String(
        metadata={
            "description": "dropped_words, fewer_words, loosened, further_out, wider_category or literal_words."
        }
    )
    message = fields.String()


class UnderstoodFilterSchema(Schema):
    kind = fields.String(
        metadata={
            "description": "place, price, age, days, time, access, welcome, language or soft."
        }
    )
    label = fields.String(metadata={"description": "What to show, e.g. 'Near Bexhill'."})
    value = fields.Raw()
    remove_q = fields.String(metadata={"description": "The words to search to remove this filter."})


class UnderstoodCategorySchema(Schema):
    slug = fields.String()
    name = fields.String()
    phrase = fields.String(metadata={"description": "The words it was read from."})


class UnderstoodSchema(Schema):
    words = fields.List(fields.String(), metadata={"description": "Words searched for."})
    categories = fields.List(fields.Nested(UnderstoodCategorySchema))
    filters = fields.List(fields.Nested(UnderstoodFilterSchema))


class UnmetDemandQueryArgsSchema(Schema):
    days = fields.Integer(
        load_default=90,
        validate=validate.Range(min=1, max=3660),
        metadata={"description": "How many days back to look."},
    )


class UnmetDemandRowSchema(Schema):
    category = fields.String(metadata={"description": "Taxonomy slug; empty for no category."})
    category_name = fields.String()
    town = fields.String(metadata={"description": "Town or postcode district, or 'anywhere'."})
    words = fields.String(
        allow_none=True, metadata={"description": "Words searched, when no category was read."}
    )
    searches = fields.Integer(
        allow_none=True, metadata={"description": "How many searches; null when 1-7 (withheld)."}
    )
    suppressed = fields.Boolean()


class UnmetDemandSchema(Schema):
    days = fields.Integer()
    since = fields.String()
    threshold = fields.Integer(metadata={"description": "Counts under this are withheld."})
    rows = fields.List(fields.Nested(UnmetDemandRowSchema))
