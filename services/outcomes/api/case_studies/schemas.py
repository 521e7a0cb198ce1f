"""Schemas for case studies."""

from marshmallow import Schema, fields, validate


class CaseStudySchema(Schema):
    id = fields.String(dump_only=True)
    person_id = fields.UUID(required=True)
    author_sub = fields.String(dump_only=True)
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    story = fields.String(required=True, validate=validate.Length(min=20, max=5000))
    age_band = fields.String(dump_only=True)
    place = fields.String(dump_only=True)
    category = fields.String(dump_only=True, allow_none=True)
    status = fields.String(dump_only=True, metadata={"description": "draft or approved"})
    approved_by = fields.String(dump_only=True, allow_none=True)
    approved_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class CaseStudyQueryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(("draft", "approved")))
