"""Purchase requests: what is raised, each life-cycle step's body, and the request as it stands."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.budget.api.common import Pence
from services.budget.domain.rules import STATES
from shared.pagination import PageArgsSchema, PageEnvelopeSchema


class TransitionSchema(Schema):
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    at = fields.DateTime()
    by = fields.String()
    role = fields.String()
    reason = fields.String(allow_none=True)


class RequestSchema(Schema):
    """A request is raised for a listing's cost option, or for equipment from a named supplier."""

    id = fields.String(dump_only=True)
    scheme_id = fields.String(dump_only=True)
    person_id = fields.String(required=True)
    plan_id = fields.String(dump_only=True)
    goal_id = fields.String(required=True)
    listing_id = fields.UUID(load_default=None, allow_none=True)
    cost_option_id = fields.UUID(load_default=None, allow_none=True)
    provider_id = fields.String(dump_only=True, allow_none=True)
    supplier = fields.String(
        load_only=True, load_default=None, validate=validate.Length(min=1, max=200)
    )
    payee = fields.String(dump_only=True)
    item = fields.String(load_default=None, validate=validate.Length(min=1, max=300))
    category = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=80)
    )
    provider_verified = fields.Boolean(dump_only=True)
    amount_pence = Pence(
        load_default=None, metadata={"description": "Defaults to the listing's price."}
    )
    submit = fields.Boolean(
        load_only=True, load_default=False, metadata={"description": "Submit straight away."}
    )
    state = fields.String(dump_only=True, metadata={"enum": list(STATES)})
    reason = fields.String(dump_only=True, allow_none=True)
    approved_by = fields.String(dump_only=True, allow_none=True)
    approved_at = fields.DateTime(dump_only=True, allow_none=True)
    submitted_at = fields.DateTime(dump_only=True, allow_none=True)
    payment_reference = fields.String(dump_only=True, allow_none=True)
    paid_on = fields.Date(dump_only=True, allow_none=True)
    paid_pence = fields.Integer(dump_only=True)
    paid_by = fields.String(dump_only=True, allow_none=True)
    recovered_pence = fields.Integer(dump_only=True)
    evidence_reference = fields.String(dump_only=True, allow_none=True)
    evidence_note = fields.String(dump_only=True, allow_none=True)
    activity_started_on = fields.Date(dump_only=True, allow_none=True)
    payment_run_id = fields.String(
        dump_only=True, allow_none=True, metadata={"description": "The payment run it is in."}
    )
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    history = fields.List(fields.Nested(TransitionSchema), dump_only=True)
    actions = fields.List(
        fields.String(),
        dump_only=True,
        metadata={
            "description": "The steps the caller may take now, named as their paths "
            "(POST /requests/{id}/{action}); pages show buttons from this list."
        },
    )


class RequestPageSchema(PageEnvelopeSchema):
    items = fields.List(fields.Nested(RequestSchema))


class RequestQueryArgsSchema(PageArgsSchema):
    state = fields.String(validate=validate.OneOf(STATES))
    person_id = fields.String()
    provider_id = fields.String()


class ApprovalSchema(Schema):
    amount_pence = Pence(
        load_default=None, metadata={"description": "Approve less than asked (needs a reason)."}
    )
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class OrderSchema(Schema):
    reference = fields.String(load_default=None, validate=validate.Length(max=100))


class PaymentSchema(Schema):
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


class RecoverySchema(Schema):
    amount_pence = Pence(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
