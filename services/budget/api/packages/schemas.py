"""Ongoing packages: what is set up, each step's body, and the package with its schedule."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.budget.api.common import Pence
from services.budget.domain import packages as rules
from shared.pagination import PageArgsSchema, PageEnvelopeSchema


class InstalmentSchema(Schema):
    number = fields.Integer()
    due_on = fields.Date()
    amount_pence = fields.Integer()
    state = fields.String(metadata={"enum": list(rules.INSTALMENT_STATES)})
    payment_reference = fields.String(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    paid_by = fields.String(allow_none=True)
    payment_run_id = fields.String(
        allow_none=True,
        metadata={"description": "The unpaid payment run a due instalment waits in, if any."},
    )


class PackageSchema(Schema):
    """A recurring commitment for a listing's cost option, or from a named supplier."""

    id = fields.String(dump_only=True)
    scheme_id = fields.String(dump_only=True)
    person_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    plan_id = fields.String(dump_only=True)
    goal_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
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
    frequency = fields.String(required=True, validate=validate.OneOf(rules.FREQUENCIES))
    instalment_pence = Pence(
        load_default=None,
        metadata={"description": "Each payment; defaults to the listing's price."},
    )
    instalments = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=max(rules.MAX_INSTALMENTS.values())),
        metadata={"description": "How many payments: at most 104 weekly or 24 monthly."},
    )
    amount_pence = fields.Integer(dump_only=True, metadata={"description": "The whole term."})
    held_pence = fields.Integer(dump_only=True)
    paid_pence = fields.Integer(dump_only=True)
    starts_on = fields.Date(load_default=None, metadata={"description": "Defaults to today."})
    state = fields.String(dump_only=True, metadata={"enum": list(rules.STATES)})
    reason = fields.String(dump_only=True, allow_none=True)
    created_by = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    ended_by = fields.String(dump_only=True, allow_none=True)
    ended_at = fields.DateTime(dump_only=True, allow_none=True)
    schedule = fields.List(fields.Nested(InstalmentSchema), dump_only=True)
    actions = fields.List(
        fields.String(),
        dump_only=True,
        metadata={"description": "The steps the caller may take now: pay (an instalment), end."},
    )


class PackagePageSchema(PageEnvelopeSchema):
    items = fields.List(fields.Nested(PackageSchema))


class PackageQueryArgsSchema(PageArgsSchema):
    state = fields.String(validate=validate.OneOf(rules.STATES))
    person_id = fields.String()
    provider_id = fields.String()


class InstalmentPaymentSchema(Schema):
    reference = fields.String(required=True, validate=validate.Length(min=1, max=100))
    paid_on = fields.Date(load_default=None)


class EndingSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
