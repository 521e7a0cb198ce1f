"""Schemas for the evaluation report and providers' ratings."""

from marshmallow import Schema, fields, validate


class ReportQueryArgsSchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "html")))


class RatingSchema(Schema):
    provider_id = fields.String()
    ratings = fields.Integer(allow_none=True)
    mean_rating = fields.Float(allow_none=True)
    withheld = fields.String(allow_none=True)
