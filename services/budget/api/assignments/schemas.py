"""A budget holder's assignment to a scheme: without one they see nothing of it."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class AssignmentSchema(Schema):
    id = fields.String(dump_only=True)
    scheme_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    sub = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "The budget holder's subject (their sign-in's `sub`)."},
    )
    created_at = fields.DateTime(dump_only=True)
    created_by = fields.String(dump_only=True)


class AssignmentQueryArgsSchema(Schema):
    scheme_id = fields.String()
    sub = fields.String()
