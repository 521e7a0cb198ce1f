"""Health and wellbeing plans: needs, goals in the young person's words, ideas, review dates."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class GoalSchema(Schema):
    id = fields.String()
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class PlanSchema(Schema):
    id = fields.String(dump_only=True)
    person_id = fields.String(dump_only=True)
    needs = fields.String(load_default="", validate=validate.Length(max=5000))
    ideas = fields.String(load_default="", validate=validate.Length(max=5000))
    goals = fields.List(
        fields.Nested(GoalSchema), required=True, validate=validate.Length(min=1, max=20)
    )
    next_review_date = fields.Date(load_default=None)
    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class PlanPatchSchema(Schema):
    needs = fields.String(validate=validate.Length(max=5000))
    ideas = fields.String(validate=validate.Length(max=5000))
    goals = fields.List(fields.Nested(GoalSchema), validate=validate.Length(min=1, max=20))
    next_review_date = fields.Date()
