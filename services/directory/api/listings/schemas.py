"""What the listings API accepts and answers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.directory.adapters.records import ListingFieldsSchema
from services.directory.domain import rules
from shared.pagination import MAX_PER_PAGE


class ListingCreateSchema(ListingFieldsSchema):
    """A new listing, or the whole of one that replaces it (PUT)."""

    categories = fields.List(
        fields.String(validate=validate.Length(max=80)),
        required=True,
        validate=validate.Length(min=1, max=10),
    )


class ListingPatchSchema(ListingFieldsSchema):
    """Some fields of a listing (load it with `partial=True`)."""


class ListingQueryArgsSchema(Schema):
    provider_id = fields.String(validate=validate.Length(max=36))
    category = fields.String(validate=validate.Length(max=80))
    status = fields.String(validate=validate.OneOf(rules.STATUSES))
    stale = fields.Boolean()
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class FundabilityQueryArgsSchema(Schema):
    cost_option_id = fields.String(validate=validate.Length(max=64))


class LocationSchema(Schema):
    id = fields.String()
    name = fields.String(allow_none=True)
    address_1 = fields.String()
    town = fields.String()
    postcode = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)


class CostOptionSchema(Schema):
    id = fields.String()
    amount_pence = fields.Integer()
    currency = fields.String()
    unit = fields.String()
    description = fields.String()


class ScheduleSchema(Schema):
    id = fields.String()
    byday = fields.String()
    opens_at = fields.String()
    closes_at = fields.String()
    description = fields.String()


class ListingSchema(Schema):
    id = fields.String()
    organization_id = fields.String()
    organization_name = fields.String()
    name = fields.String()
    description = fields.String()
    url = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    status = fields.String()
    minimum_age = fields.Integer(allow_none=True)
    maximum_age = fields.Integer(allow_none=True)
    accessibility = fields.List(fields.String())
    languages = fields.List(fields.String())
    welcomes = fields.List(fields.String())
    categories = fields.List(fields.String())
    location = fields.Nested(LocationSchema, allow_none=True)
    cost_options = fields.List(fields.Nested(CostOptionSchema))
    schedules = fields.List(fields.Nested(ScheduleSchema))
    assured_date = fields.String(allow_none=True)
    stale = fields.Boolean()
    archived = fields.Boolean()
    provider_state = fields.String()
    version = fields.Integer()
    last_modified = fields.String(allow_none=True)


class ListingPageSchema(Schema):
    items = fields.List(fields.Nested(ListingSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    pages = fields.Integer()


class ReasonSchema(Schema):
    code = fields.String()
    message = fields.String()


class FundabilityProviderSchema(Schema):
    id = fields.String()
    name = fields.String()
    due_diligence_state = fields.String()


class FundabilityCostOptionSchema(Schema):
    id = fields.String()
    amount_pence = fields.Integer()
    unit = fields.String()
    description = fields.String()


class FundabilitySchema(Schema):
    listing_id = fields.String()
    cost_option_id = fields.String(allow_none=True)
    fundable = fields.Boolean()
    reasons = fields.List(fields.Nested(ReasonSchema))
    price_pence = fields.Integer(allow_none=True)
    cost_option = fields.Nested(FundabilityCostOptionSchema, allow_none=True)
    listing_name = fields.String()
    listing_status = fields.String()
    provider = fields.Nested(FundabilityProviderSchema)
    categories = fields.List(fields.String())
    excluded_categories = fields.List(fields.String())
    checked_at = fields.String()
