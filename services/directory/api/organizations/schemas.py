"""What the providers API (organisations and their due diligence) accepts and answers."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.directory.adapters.records import CheckFieldsSchema
from shared.pagination import MAX_PER_PAGE


class ProviderQueryArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class ProviderCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))
    website = fields.URL(allow_none=True, validate=validate.Length(max=500))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    works_with_children = fields.Boolean(load_default=True)


class DueDiligenceCheckCreateSchema(CheckFieldsSchema):
    """A check an admin records: its kind, expiry, and the evidence reference."""


class DueDiligenceCheckSchema(Schema):
    id = fields.String()
    kind = fields.String()
    expires_on = fields.String()
    checked_on = fields.String()
    checked_by = fields.String()
    reference = fields.String()
    notes = fields.String()
    recorded_at = fields.String(allow_none=True)


class ProviderSchema(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String()
    email = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    works_with_children = fields.Boolean()
    due_diligence_state = fields.String()
    due_diligence_reason = fields.String()
    verified_until = fields.String(allow_none=True)
    listing_count = fields.Integer()
    last_modified = fields.String(allow_none=True)
    checks = fields.List(fields.Nested(DueDiligenceCheckSchema))
    missing = fields.List(fields.String())
