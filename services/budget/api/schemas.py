"""Request and response schemas for the budget API (marshmallow 4). Money is integer pence."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.budget.domain.rules import STATES
from shared.pagination import PageArgsSchema, PageEnvelopeSchema


def Pence(**kw):  # type: ignore[no-untyped-def]  # noqa: N802 - reads like a field class
    return fields.Integer(strict=True, validate=validate.Range(min=1, max=10_000_000), **kw)


class SchemeSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    cap_pence = Pence(required=True)
    min_age = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=130))
    max_age = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=130))
    excluded_categories = fields.List(fields.String(validate=validate.Length(min=1, max=80)))
    auto_approve_pence = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000_000))
    first_review_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=12))
    review_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=12))
    period_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=60))
    hold_expiry_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=365))
    active = fields.Boolean()


class SchemePatchSchema(SchemeSchema):
    class Meta:
        partial = True


class PotSchema(Schema):
    id = fields.String(dump_only=True)
    scheme_id = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    funder = fields.String(required=True, validate=validate.Length(min=1, max=200))
    amount_pence = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=10**12)
    )
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(allow_none=True)
    allocated_pence = fields.Integer(dump_only=True)
    unallocated_pence = fields.Integer(dump_only=True)


class BudgetSchema(Schema):
    allocation_pence = fields.Integer()
    held_pence = fields.Integer()
    paid_pence = fields.Integer()
    remaining_pence = fields.Integer()


class PersonSchema(Schema):
    id = fields.String(dump_only=True)
    scheme_id = fields.String(required=True)
    pot_id = fields.String(load_default=None)
    case_reference = fields.String(required=True, validate=validate.Length(min=1, max=60))
    birth_date = fields.Date(required=True)
    advisor_sub = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    consent_evaluation = fields.Boolean(load_default=False)
    consent_case_study = fields.Boolean(load_default=False)
    referred_on = fields.Date(load_default=None)
    allocation_pence = Pence(load_only=True, load_default=None)
    enrolled_at = fields.DateTime(dump_only=True)
    budget = fields.Nested(BudgetSchema, dump_only=True)


class PersonPageSchema(PageEnvelopeSchema):
    items = fields.List(fields.Nested(PersonSchema))


class PeopleArgsSchema(PageArgsSchema):
    advisor_sub = fields.String()


class ReassignSchema(Schema):
    advisor_sub = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ConsentSchema(Schema):
    consent_evaluation = fields.Boolean()
    consent_case_study = fields.Boolean()


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
    version = fields.Integer(
        strict=True, metadata={"description": "The version you changed; 412 if it moved on."}
    )


class RequestCreateSchema(Schema):
    person_id = fields.String(required=True)
    goal_id = fields.String(required=True)
    listing_id = fields.UUID(load_default=None)
    cost_option_id = fields.UUID(load_default=None)
    supplier = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    item = fields.String(load_default=None, validate=validate.Length(min=1, max=300))
    category = fields.String(load_default=None, validate=validate.Length(min=1, max=80))
    amount_pence = Pence(
        load_default=None, metadata={"description": "Defaults to the listing's price."}
    )
    submit = fields.Boolean(load_default=False, metadata={"description": "Submit straight away."})


class TransitionSchema(Schema):
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    at = fields.DateTime()
    by = fields.String()
    role = fields.String()
    reason = fields.String(allow_none=True)


class RequestSchema(Schema):
    id = fields.String()
    person_id = fields.String()
    plan_id = fields.String()
    goal_id = fields.String()
    listing_id = fields.String(allow_none=True)
    cost_option_id = fields.String(allow_none=True)
    provider_id = fields.String(allow_none=True)
    payee = fields.String()
    item = fields.String()
    category = fields.String(allow_none=True)
    provider_verified = fields.Boolean()
    amount_pence = fields.Integer()
    state = fields.String(metadata={"enum": list(STATES)})
    reason = fields.String(allow_none=True)
    approved_by = fields.String(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    payment_reference = fields.String(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    paid_pence = fields.Integer()
    recovered_pence = fields.Integer()
    evidence_reference = fields.String(allow_none=True)
    evidence_note = fields.String(allow_none=True)
    activity_started_on = fields.Date(allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    history = fields.List(fields.Nested(TransitionSchema))


class RequestPageSchema(PageEnvelopeSchema):
    items = fields.List(fields.Nested(RequestSchema))


class RequestArgsSchema(PageArgsSchema):
    state = fields.String(validate=validate.OneOf(STATES))
    person_id = fields.String()
    provider_id = fields.String()


class ApproveSchema(Schema):
    amount_pence = Pence(
        load_default=None, metadata={"description": "Approve less than asked (needs a reason)."}
    )
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class OrderSchema(Schema):
    reference = fields.String(load_default=None, validate=validate.Length(max=100))


class PaySchema(Schema):
    reference = fields.String(required=True, validate=validate.Length(min=1, max=100))
    paid_on = fields.Date(load_default=None)
    amount_pence = Pence(
        load_default=None, metadata={"description": "Less than approved needs a reason."}
    )
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class EvidenceSchema(Schema):
    reference = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Receipt or invoice reference, or 'attendance confirmed'."},
    )
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    activity_started_on = fields.Date(load_default=None)


class RecoverSchema(Schema):
    amount_pence = Pence(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ProviderRequestSchema(Schema):
    id = fields.String()
    listing_id = fields.String(allow_none=True)
    cost_option_id = fields.String(allow_none=True)
    item = fields.String()
    amount_pence = fields.Integer()
    state = fields.String()
    approved_at = fields.DateTime(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    paid_pence = fields.Integer()
    payment_reference = fields.String(allow_none=True)


class ProviderRequestPageSchema(PageEnvelopeSchema):
    items = fields.List(fields.Nested(ProviderRequestSchema))


class PaymentRunArgsSchema(Schema):
    paid_from = fields.Date(load_default=None, data_key="from")
    paid_to = fields.Date(load_default=None, data_key="to")


class ReportArgsSchema(Schema):
    scheme_id = fields.String(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
