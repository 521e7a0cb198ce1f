"""Funding pots: where young people's allocations come from."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class PotSchema(Schema):
    id = fields.String(dump_only=True)
    scheme_id = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    funder = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount_pence = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=10**12)
    )
    funding_stream = fields.String(
        load_default="health",
        validate=validate.OneOf(("health", "education", "social_care")),
        metadata={"description": "Joint funding: which budget the pot's money comes from."},
    )
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True)
    cost_code = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "The council's finance code for this money (on payment runs)."},
    )
    allocated_pence = fields.Integer(dump_only=True)
    unallocated_pence = fields.Integer(dump_only=True)
