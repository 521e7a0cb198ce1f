"""Schemes as configuration: kind, cap, ages, budget type, eligibility, reviews (its outcomes are set in the outcomes service)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.budget.api.common import Pence
from services.budget.domain import schemes as kinds


class SchemeSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(
        validate=validate.OneOf(kinds.KINDS),
        metadata={"description": "The kind of PHB; its defaults fill any setting not given."},
    )
    cap_pence = Pence(required=True)
    cap_basis = fields.String(
        validate=validate.OneOf(kinds.CAP_BASES),
        metadata={
            "description": "scheme: everyone gets the cap; per_plan: each plan sets an "
            "allocation up to the cap."
        },
    )
    min_age = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=130))
    max_age = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=130))
    excluded_categories = fields.List(fields.String(validate=validate.Length(min=1, max=80)))
    auto_approve_pence = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000_000))
    first_review_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=12))
    review_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=12))
    period_months = fields.Integer(strict=True, validate=validate.Range(min=1, max=60))
    hold_expiry_days = fields.Integer(strict=True, validate=validate.Range(min=1, max=365))
    budget_type = fields.String(
        validate=validate.OneOf(kinds.BUDGET_TYPES),
        metadata={
            "description": "Who is paid: the provider (notional), the managing organisation "
            "(third_party) or the person or carer (direct_payment)."
        },
    )
    third_party_name = fields.String(allow_none=True, validate=validate.Length(min=1, max=200))
    carry_over = fields.String(
        validate=validate.OneOf(kinds.CARRY_RULES),
        metadata={
            "description": "On a transfer out: return what is left to this scheme's pot, or "
            "carry it into the new allocation."
        },
    )
    eligibility = fields.String(
        validate=validate.OneOf(kinds.ELIGIBILITY_RECORDS),
        metadata={
            "description": "The record enrolment needs: none, section_117, or an EHC "
            "plan or continuing-care decision."
        },
    )
    parent_may_act = fields.Boolean(
        metadata={"description": "A linked parent or carer may act for a child under 16."}
    )
    active = fields.Boolean()
    combined_duties_allowed = fields.Boolean(
        metadata={
            "description": "Let the named team raise and approve, or approve and pay, the same "
            "request (off unless set)."
        }
    )
    combined_duties_team = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        validate=validate.Length(max=3),
        metadata={"description": "The subjects who may combine duties (at most 3)."},
    )
    version = fields.Integer(dump_only=True)


class SchemePatchSchema(SchemeSchema):
    """Any of a scheme's settings; those not sent are kept (checked together with them)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)  # marshmallow 4 reads no Meta.partial
        super().__init__(*args, **kwargs)
