"""Schemes as configuration: cap, ages, excluded categories, the approval rule, review cadence."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.budget.api.common import Pence


class SchemeSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    cap_pence = Pence(required=True)
    min_age = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=130))
    max_age = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=130))
    excluded_categories = fields.List(fields.String(validate=validate.Length(min=1, max=80)))
    auto_approve_pence = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000_000))
    first_review_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=12))
    review_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=12))
    period_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=60))
    hold_expiry_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=365))
    active = fields.Boolean()
    combined_duties_allowed = fields.Boolean(
        metadata={
            "description": "Let the named team raise and approve, or approve and pay, the same "
            "request (off unless set)."
        }
    )
    combined_duties_team = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        validate=validate.Length(max=3),
        metadata={"description": "The subjects who may combine duties (at most 3)."},
    )


class SchemePatchSchema(SchemeSchema):
    class Meta:
        partial = True
