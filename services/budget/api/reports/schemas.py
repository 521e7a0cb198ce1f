"""Which scheme a report covers, and in what format."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ReportQueryArgsSchema(Schema):
    scheme_id = fields.String(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


def _cell() -> fields.Nested:
    """A count of young people, or null with why it was withheld (CellSchema, defined below)."""
    return fields.Nested(lambda: CellSchema())


class SpendRowSchema(Schema):
    name = fields.String()
    people = _cell()
    paid_pence = fields.Integer(allow_none=True, metadata={"description": "null when withheld"})


class SpendSchema(Schema):
    people_paid = _cell()
    total_paid_pence = fields.Integer(allow_none=True)
    by_category = fields.List(fields.Nested(SpendRowSchema))
    by_provider = fields.List(fields.Nested(SpendRowSchema))
    by_month = fields.List(fields.Nested(SpendRowSchema))


class ReachSchema(Schema):
    cohort = _cell()
    reached = _cell()
    reached_share = fields.Float(allow_none=True)


class SpeedSchema(Schema):
    """Each mark: the young people with one, and the median days from referral (null from fewer
    than 8); SpeedMarkSchema is the commissioners' report's, below."""

    approval = fields.Nested(lambda: SpeedMarkSchema())
    payment = fields.Nested(lambda: SpeedMarkSchema())
    activity_start = fields.Nested(lambda: SpeedMarkSchema())


class PotReportSchema(Schema):
    id = fields.String()
    name = fields.String()
    funder = fields.String()
    amount_pence = fields.Integer()
    people = _cell()
    people_paid = _cell()
    allocated_pence = fields.Integer(allow_none=True)
    unallocated_pence = fields.Integer(allow_none=True)
    paid_pence = fields.Integer(allow_none=True)
    unspent_allocations_pence = fields.Integer(allow_none=True)
    average_spend_per_person_pence = fields.Integer(allow_none=True)
    more_people_fundable_at_average = fields.Integer(allow_none=True)


class ReviewsDueSchema(Schema):
    plans = _cell()
    overdue = _cell()
    due_within_30_days = _cell()


class ReportSchema(Schema):
    """The summary of the schemes the caller acts on (a budget holder: their assigned ones), with
    small numbers withheld."""

    as_of = fields.String()
    suppression = fields.Nested(lambda: SuppressionSchema())
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


class CommissionerQueryArgsSchema(Schema):
    start = fields.Date(
        data_key="from", required=True, metadata={"description": "First day (inclusive)."}
    )
    end = fields.Date(
        data_key="to", required=True, metadata={"description": "Last day (inclusive)."}
    )
    scheme_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class CellSchema(Schema):
    """A count of young people, or null with why it was withheld."""

    count = fields.Integer(allow_none=True)
    suppressed = fields.String(metadata={"description": "primary or secondary"})


class PeriodSchema(Schema):
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    days = fields.Integer()


class SchemeNameSchema(Schema):
    id = fields.String()
    name = fields.String()


class ReachRowSchema(Schema):
    scheme_id = fields.String()
    scheme = fields.String()
    reached = fields.Nested(CellSchema)
    cohort = fields.Integer(allow_none=True)
    cohort_period = fields.Nested(PeriodSchema, allow_none=True)
    reached_share = fields.Float(allow_none=True)


class ReachTotalSchema(Schema):
    reached = fields.Nested(CellSchema)
    cohort = fields.Integer(allow_none=True)
    cohort_period = fields.Nested(PeriodSchema, allow_none=True)
    reached_share = fields.Float(allow_none=True)


class CommissionerReachSchema(Schema):
    by_scheme = fields.List(fields.Nested(ReachRowSchema))
    total = fields.Nested(ReachTotalSchema)


class ForecastSchema(Schema):
    status = fields.String(metadata={"description": "lasts, runs_out_early, no_spend or withheld"})
    daily_rate_pence = fields.Integer(allow_none=True)
    runs_out_on = fields.Date(allow_none=True)
    days_short = fields.Integer()


class CommissionerPotSchema(Schema):
    id = fields.String()
    name = fields.String()
    funder = fields.String()
    scheme_id = fields.String()
    amount_pence = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    people_paid_in_period = fields.Nested(CellSchema)
    paid_in_period_pence = fields.Integer(allow_none=True)
    paid_to_date_pence = fields.Integer(allow_none=True)
    held_pence = fields.Integer(allow_none=True)
    remaining_pence = fields.Integer(allow_none=True)
    forecast = fields.Nested(ForecastSchema)


class FunderRowSchema(Schema):
    funder = fields.String()
    people = fields.Nested(CellSchema)
    paid_pence = fields.Integer(allow_none=True)


class FunderTotalSchema(Schema):
    people = fields.Nested(CellSchema)
    paid_pence = fields.Integer(allow_none=True)


class FundersSchema(Schema):
    by_funder = fields.List(fields.Nested(FunderRowSchema))
    total = fields.Nested(FunderTotalSchema)


class SpeedMarkSchema(Schema):
    people = fields.Nested(CellSchema)
    median_days = fields.Float(allow_none=True)


class CommissionerSpeedSchema(Schema):
    approval = fields.Nested(SpeedMarkSchema)
    activity_start = fields.Nested(SpeedMarkSchema)


class ReviewsSchema(Schema):
    due = fields.Nested(CellSchema)
    on_time = fields.Nested(CellSchema)
    late = fields.Nested(CellSchema)
    overdue = fields.Nested(CellSchema)
    on_time_share = fields.Float(allow_none=True)


class SuppressionSchema(Schema):
    threshold = fields.Integer()
    marker = fields.String()
    rule = fields.String()


class CommissionerReportSchema(Schema):
    """Reach against the cohort, spend by pot and funder, speed and reviews, for a period."""

    period = fields.Nested(PeriodSchema)
    as_of = fields.Date()
    schemes = fields.List(fields.Nested(SchemeNameSchema))
    suppression = fields.Nested(SuppressionSchema)
    reach = fields.Nested(CommissionerReachSchema)
    pots = fields.List(fields.Nested(CommissionerPotSchema))
    funders = fields.Nested(FundersSchema)
    speed = fields.Nested(CommissionerSpeedSchema)
    reviews = fields.Nested(ReviewsSchema)
