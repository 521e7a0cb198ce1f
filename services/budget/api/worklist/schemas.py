"""The advisor's worklist: what is due on the caller's young people, most late first."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.budget.domain import worklist as wl


class WorklistQueryArgsSchema(Schema):
    kind = fields.List(
        fields.String(validate=validate.OneOf(wl.KINDS)),
        load_default=None,
        metadata={"description": "Only these kinds (repeat the parameter for several)."},
    )


class WorkItemSchema(Schema):
    kind = fields.String(
        metadata={
            "enum": list(wl.KINDS),
            "description": "plan_review (due or overdue, per the scheme's cadence), info_requested "
            "(a request sent back to the advisor), ageing_out (the scheme's age limit within "
            f"{wl.AGEING_OUT_DAYS} days), closing_review (at the limit), package_ageing_out (a live "
            "package whose young person is within that time of the limit or past it; subject_id "
            "is the package), not_started (approved "
            f"{wl.NOT_STARTED_DAYS} days ago or more, no activity start recorded).",
        }
    )
    person_id = fields.String()
    case_reference = fields.String()
    scheme_id = fields.String()
    advisor_sub = fields.String()
    subject_id = fields.String(
        allow_none=True, metadata={"description": "The plan, request or package the item is about."}
    )
    due_on = fields.Date()
    days_late = fields.Integer(metadata={"description": "Days past due; negative: due in so many."})
    overdue = fields.Boolean()


class WorklistSchema(Schema):
    on = fields.Date(metadata={"description": "The date the list was worked out for."})
    total = fields.Integer()
    overdue = fields.Integer()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    items = fields.List(fields.Nested(WorkItemSchema))
