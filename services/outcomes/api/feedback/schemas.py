"""Schemas for the feedback form a link opens, and its answer."""

from marshmallow import Schema, fields


class QuestionSchema(Schema):
    key = fields.String()
    text = fields.String()
    required = fields.Boolean()
    type = fields.String(metadata={"description": "numeric, choice or text"})
    min = fields.Integer()
    max = fields.Integer()
    min_label = fields.String()
    max_label = fields.String()
    options = fields.List(fields.Dict())
    max_length = fields.Integer()


class SectionSchema(Schema):
    instrument = fields.String()
    title = fields.String()
    intro = fields.String()
    attribution = fields.String()
    items = fields.List(fields.Nested(QuestionSchema))


class FeedbackFormSchema(Schema):
    kind = fields.String()
    week = fields.Integer()
    title = fields.String()
    intro = fields.String()
    respondent = fields.String(
        metadata={"description": "self, or proxy: a parent or carer answers about their child"}
    )
    instrument_set = fields.String()
    expires_at = fields.DateTime()
    sections = fields.List(fields.Nested(SectionSchema))


class ThanksSchema(Schema):
    status = fields.String()
    message = fields.String()
