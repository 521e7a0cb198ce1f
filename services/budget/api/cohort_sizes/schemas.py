"""A scheme's cohort for a period: how many young people it could reach, as the council counts them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class CohortSizeSchema(Schema):
    id = fields.String(dump_only=True)
    scheme_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    period_start = fields.Date(required=True, metadata={"description": "First day (inclusive)."})
    period_end = fields.Date(required=True, metadata={"description": "Last day (inclusive)."})
    size = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=10_000_000),
        metadata={"description": "Young people the scheme could reach in the period."},
    )
    note = fields.String(
        load_default="",
        validate=validate.Length(max=500),
        metadata={"description": "Where the figure came from (e.g. the service's caseload)."},
    )
    entered_by = fields.String(dump_only=True)
    entered_at = fields.DateTime(dump_only=True)


class CohortSizeQueryArgsSchema(Schema):
    scheme_id = fields.String(validate=validate.Length(min=1, max=36))
