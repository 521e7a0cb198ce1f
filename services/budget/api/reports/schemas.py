"""Which scheme a report covers, and in what format."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ReportQueryArgsSchema(Schema):
    scheme_id = fields.String(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class SpendSchema(Schema):
    total_paid_pence = fields.Integer()
    by_category = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_provider = fields.Dict(keys=fields.String(), values=fields.Integer())
    by_month = fields.Dict(keys=fields.String(), values=fields.Integer())


class ReachSchema(Schema):
    cohort = fields.Integer()
    reached = fields.Integer()
    reached_share = fields.Float(allow_none=True)


class SpeedSchema(Schema):
    median_days_referral_to_approval = fields.Float(allow_none=True)
    people_with_approval = fields.Integer()
    median_days_referral_to_payment = fields.Float(allow_none=True)
    people_with_payment = fields.Integer()
    median_days_referral_to_activity_start = fields.Float(allow_none=True)
    people_with_activity_start = fields.Integer()


class PotReportSchema(Schema):
    id = fields.String()
    name = fields.String()
    funder = fields.String()
    amount_pence = fields.Integer()
    allocated_pence = fields.Integer()
    unallocated_pence = fields.Integer()
    paid_pence = fields.Integer()
    unspent_allocations_pence = fields.Integer()
    average_spend_per_person_pence = fields.Integer(allow_none=True)
    more_people_fundable_at_average = fields.Integer(allow_none=True)


class ReviewsDueSchema(Schema):
    overdue = fields.Integer()
    due_within_30_days = fields.Integer()
    plans = fields.Integer()


class ReportSchema(Schema):
    """The summary of the schemes the caller acts on (a budget holder: their assigned ones)."""

    as_of = fields.String()
    spend = fields.Nested(SpendSchema)
    reach = fields.Nested(ReachSchema)
    speed = fields.Nested(SpeedSchema)
    pots = fields.List(fields.Nested(PotReportSchema))
    reviews_due = fields.Nested(ReviewsDueSchema)


class BreachSchema(Schema):
    invariant = fields.String()
    detail = fields.String()


class LedgerCheckSchema(Schema):
    ok = fields.Boolean()
    checked = fields.Dict(keys=fields.String(), values=fields.Integer())
    breaches = fields.List(fields.Nested(BreachSchema))
