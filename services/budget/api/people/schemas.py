"""Young people (pseudonymous: a case reference, never a name) and their budgets."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.budget.api.common import Pence
from services.budget.domain import eligibility
from shared.pagination import PageArgsSchema, PageEnvelopeSchema


class FundingSchema(Schema):
    pot_id = fields.String()
    pot_name = fields.String()
    funder = fields.String()
    funding_stream = fields.String(metadata={"description": "health, education or social_care"})
    amount_pence = fields.Integer()


class BudgetSchema(Schema):
    allocation_pence = fields.Integer()
    held_pence = fields.Integer()
    paid_pence = fields.Integer()
    remaining_pence = fields.Integer()
    funding = fields.List(
        fields.Nested(FundingSchema),
        metadata={"description": "Where the allocation came from, pot by pot (joint funding)."},
    )


class FundingPartSchema(Schema):
    pot_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    amount_pence = Pence(required=True)


class EligibilityReviewViewSchema(Schema):
    reviewed_on = fields.Date()
    continues = fields.Boolean()
    next_review_on = fields.Date(allow_none=True)
    note = fields.String()


class EligibilitySchema(Schema):
    """Section 117 aftercare, or an EHC plan or continuing-care decision (the scheme says which)."""

    id = fields.String(dump_only=True)
    basis = fields.String(required=True, validate=validate.OneOf(eligibility.BASES))
    mha_section = fields.String(
        allow_none=True,
        validate=validate.OneOf(eligibility.MHA_SECTIONS),
        metadata={"description": "The Mental Health Act section that led to aftercare."},
    )
    aftercare_plan_date = fields.Date(allow_none=True)
    responsible_nhs_body = fields.String(allow_none=True, validate=validate.Length(min=1, max=200))
    responsible_council = fields.String(allow_none=True, validate=validate.Length(min=1, max=200))
    ehc_plan_reference = fields.String(allow_none=True, validate=validate.Length(min=1, max=60))
    continuing_care_decided_on = fields.Date(allow_none=True)
    next_review_on = fields.Date(
        allow_none=True, metadata={"description": "The next aftercare (or annual) review."}
    )
    ended_on = fields.Date(dump_only=True, allow_none=True)
    recorded_at = fields.DateTime(dump_only=True)
    reviews = fields.List(fields.Nested(EligibilityReviewViewSchema), dump_only=True)


class EligibilityReviewSchema(Schema):
    reviewed_on = fields.Date(required=True)
    continues = fields.Boolean(required=True)
    next_review_on = fields.Date(load_default=None)
    note = fields.String(load_default="", validate=validate.Length(max=2000))


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
    funding = fields.List(
        fields.Nested(FundingPartSchema),
        load_only=True,
        validate=validate.Length(min=1, max=3),
        metadata={"description": "Joint funding: the part each pot gives (instead of pot_id)."},
    )
    eligibility = fields.Nested(EligibilitySchema, allow_none=True)
    enrolled_at = fields.DateTime(dump_only=True)
    status = fields.String(dump_only=True)
    left_on = fields.Date(dump_only=True, allow_none=True)
    budget = fields.Nested(BudgetSchema, dump_only=True)


class PersonPageSchema(PageEnvelopeSchema):
    items = fields.List(fields.Nested(PersonSchema))


class PersonQueryArgsSchema(PageArgsSchema):
    advisor_sub = fields.String()


class ReassignmentSchema(Schema):
    advisor_sub = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ConsentSchema(Schema):
    consent_evaluation = fields.Boolean()
    consent_case_study = fields.Boolean()


class TransferSchema(Schema):
    """Where the person goes: another scheme here, or another council (their record is exported)."""

    to_scheme_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36))
    to_council = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    pot_id = fields.String(load_default=None, validate=validate.Length(min=1, max=36))
    allocation_pence = Pence(load_default=None)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    eligibility = fields.Nested(EligibilitySchema, load_default=None)


class TransferRecordSchema(Schema):
    id = fields.String()
    person_id = fields.String()
    from_scheme_id = fields.String()
    to_scheme_id = fields.String(allow_none=True)
    to_council = fields.String(allow_none=True)
    rule = fields.String(metadata={"description": "return or carry: the old scheme's rule"})
    remaining_pence = fields.Integer()
    returned_pence = fields.Integer()
    carried_pence = fields.Integer()
    new_allocation_pence = fields.Integer()
    reason = fields.String()
    transferred_on = fields.Date()


class LedgerMovementSchema(Schema):
    """One movement of the person's money: allocated, held, paid, released, returned."""

    id = fields.Integer()
    kind = fields.String(
        metadata={"description": "allocation, hold, pay, release, package_hold, package_pay, ..."}
    )
    status = fields.String(metadata={"description": "pending or posted"})
    request_id = fields.String(allow_none=True)
    amount_pence = fields.Integer()
    memo = fields.String(allow_none=True)
    at = fields.String(metadata={"description": "When it was recorded (UTC, ISO 8601)"})


class EndedPackageSchema(Schema):
    id = fields.String()
    item = fields.String()
    released_pence = fields.Integer()


class TransferResultSchema(Schema):
    transfer = fields.Nested(TransferRecordSchema)
    person = fields.Nested(PersonSchema)
    export = fields.Dict(
        metadata={"description": "Only to another council: the record, plan and ledger history."}
    )
    packages_ended = fields.List(
        fields.Nested(EndedPackageSchema),
        metadata={
            "description": "Live packages end on the transfer date; what they still held goes "
            "back to the budget and is settled with the rest by the old scheme's rule."
        },
    )


class CarerLinkSchema(Schema):
    """A parent or carer who may act for this child (under 16) on a scheme that allows it."""

    id = fields.String(dump_only=True)
    person_id = fields.String(dump_only=True)
    carer_sub = fields.String(required=True, validate=validate.Length(min=1, max=200))
    relationship = fields.String(required=True, validate=validate.Length(min=1, max=60))
    created_at = fields.DateTime(dump_only=True)


class FamilyMoneySchema(Schema):
    allocation_pence = fields.Integer()
    held_pence = fields.Integer(metadata={"description": "Set aside for what is arranged."})
    paid_pence = fields.Integer()
    remaining_pence = fields.Integer(metadata={"description": "Still available to spend."})


class FamilyPaymentSchema(Schema):
    paid_on = fields.Date(allow_none=True)
    item = fields.String()
    amount_pence = fields.Integer()
    reference = fields.String(allow_none=True)


class FamilyActivitySchema(Schema):
    kind = fields.String(metadata={"enum": ["purchase", "package"]})
    item = fields.String()
    provider = fields.String()
    category = fields.String(allow_none=True)
    status = fields.String(
        metadata={"enum": ["approved", "booked", "paid", "ongoing", "finished", "ended"]}
    )
    arranged_on = fields.Date(allow_none=True)
    starts_on = fields.Date(allow_none=True)
    frequency = fields.String(allow_none=True, metadata={"enum": ["weekly", "monthly", None]})
    amount_pence = fields.Integer(
        allow_none=True,
        metadata={"description": "What it costs (a package: each payment); none when notional."},
    )


class FamilyViewSchema(Schema):
    """What the young person, or the parent or carer acting for them, sees of the budget."""

    person_id = fields.String()
    scheme_name = fields.String()
    budget_type = fields.String(metadata={"enum": ["notional", "third_party", "direct_payment"]})
    budget_type_name = fields.String()
    managed_by = fields.String(
        allow_none=True, metadata={"description": "The organisation holding a third-party budget."}
    )
    money = fields.Nested(
        FamilyMoneySchema,
        allow_none=True,
        metadata={"description": "Shown for a direct payment or a third-party budget."},
    )
    payments_to_you = fields.List(
        fields.Nested(FamilyPaymentSchema),
        metadata={"description": "Payments to the young person or carer (direct payment only)."},
    )
    activities = fields.List(fields.Nested(FamilyActivitySchema))
