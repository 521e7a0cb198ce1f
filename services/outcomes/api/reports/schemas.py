"""Schemas for the evaluation report and providers' ratings."""

from marshmallow import Schema, fields, validate


class ReportQueryArgsSchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "html")))


class RatingSchema(Schema):
    provider_id = fields.String()
    ratings = fields.Integer(allow_none=True)
    mean_rating = fields.Float(allow_none=True)
    withheld = fields.String(allow_none=True)


class CostQueryArgsSchema(Schema):
    start = fields.Date(
        data_key="from", required=True, metadata={"description": "First day paid (inclusive)."}
    )
    end = fields.Date(
        data_key="to", required=True, metadata={"description": "Last day paid (inclusive)."}
    )
    scheme_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36))
    measure = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=120),
        metadata={"description": "A score key, e.g. ons4.life_satisfaction (the default)."},
    )
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class CostCellSchema(Schema):
    count = fields.Integer(allow_none=True)
    suppressed = fields.String()


class CostPeriodSchema(Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")


class CostMeasureSchema(Schema):
    key = fields.String()
    label = fields.String()
    instrument = fields.String()
    higher_is_better = fields.Boolean()
    meaningful_change = fields.Float()


class CostRowSchema(Schema):
    category = fields.String()
    pairs = fields.Nested(CostCellSchema)
    withheld = fields.String()
    spend_pence = fields.Integer()
    mean_spend_pence = fields.Integer()
    mean_change = fields.Float()
    mean_change_ci95 = fields.List(fields.Float())
    change_per_100 = fields.Float()
    change_per_100_ci95 = fields.List(fields.Float())
    improved = fields.Nested(CostCellSchema)
    cost_per_person_improved_pence = fields.Integer(allow_none=True)


class CostTotalSchema(Schema):
    pairs = fields.Nested(CostCellSchema)


class CostSuppressionSchema(Schema):
    threshold = fields.Integer()
    marker = fields.String()
    rule = fields.String()


class CostReportSchema(Schema):
    """Cost per improvement by kind of activity, small numbers withheld."""

    period = fields.Nested(CostPeriodSchema)
    scheme_id = fields.String(allow_none=True)
    measure = fields.Nested(CostMeasureSchema)
    suppression = fields.Nested(CostSuppressionSchema)
    method = fields.String()
    by_activity = fields.List(fields.Nested(CostRowSchema))
    total = fields.Nested(CostTotalSchema)
