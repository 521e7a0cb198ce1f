"""Schemas for the instruments this service knows."""

from marshmallow import Schema, fields

from services.outcomes.api.feedback.schemas import QuestionSchema


class InstrumentScoreSchema(Schema):
    key = fields.String(metadata={"description": "instrument.score"})
    label = fields.String()
    higher_is_better = fields.Boolean()
    min = fields.Float()
    max = fields.Float()
    meaningful_change = fields.Float(allow_none=True)
    bands = fields.List(fields.Dict())


class InstrumentSchema(Schema):
    id = fields.String()
    title = fields.String()
    licence = fields.String()
    attribution = fields.String()
    validated = fields.Boolean()
    optional = fields.Boolean()
    items = fields.List(fields.Nested(QuestionSchema))
    scores = fields.List(fields.Nested(InstrumentScoreSchema))
