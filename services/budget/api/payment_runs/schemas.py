"""Payment runs: what finance asks for, and the run with its payees and lines."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.budget.domain.packages import INSTALMENT_STATES
from services.budget.domain.payment_runs import RUN_STATES
from services.budget.domain.rules import STATES
from shared.pagination import PageEnvelopeSchema

MAX_NAMED_REQUESTS = 20_000
LINE_KINDS = ("request", "instalment")


class PaymentRunCreateSchema(Schema):
    due_by = fields.Date(
        load_default=None,
        metadata={
            "description": "Requests approved, and package instalments falling due, on or before "
            "this day (default: today)."
        },
    )
    scheme_id = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=36),
        metadata={"description": "One scheme only."},
    )
    request_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=36)),
        load_default=None,
        validate=validate.Length(min=1, max=MAX_NAMED_REQUESTS),
        metadata={
            "description": "Exactly these requests, and no package instalments (409 naming any "
            "that can't be paid)."
        },
    )


class PaymentRunPaidSchema(Schema):
    paid_on = fields.Date(load_default=None, metadata={"description": "Default: today."})


class PaymentRunCancelSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class PaymentRunPayeeSchema(Schema):
    supplier_reference = fields.String(
        metadata={"description": "The directory's provider id; empty for a named supplier."}
    )
    payee = fields.String()
    request_count = fields.Integer()
    instalment_count = fields.Integer(metadata={"description": "Package instalments it covers."})
    total_pence = fields.Integer()


class PaymentRunLineSchema(Schema):
    kind = fields.String(
        metadata={"enum": list(LINE_KINDS), "description": "A request, or a package instalment."}
    )
    request_id = fields.String(allow_none=True)
    package_id = fields.String(allow_none=True)
    instalment_number = fields.Integer(allow_none=True)
    due_on = fields.Date(allow_none=True, metadata={"description": "When the instalment fell due."})
    supplier_reference = fields.String()
    payee = fields.String()
    item = fields.String()
    category = fields.String(allow_none=True)
    amount_pence = fields.Integer()
    state = fields.String(metadata={"enum": [*STATES, *INSTALMENT_STATES]})
    scheme_id = fields.String()
    pot_id = fields.String()
    pot = fields.String()
    funder = fields.String()
    cost_code = fields.String(allow_none=True)
    approved_by = fields.String(
        allow_none=True, metadata={"description": "Who approved it (an instalment: set it up)."}
    )
    approved_at = fields.DateTime(allow_none=True)
    paid_by = fields.String(allow_none=True)
    paid_on = fields.Date(allow_none=True)


class PaymentRunSummarySchema(Schema):
    """A run without its payees and lines (the list)."""

    id = fields.String()
    reference = fields.String()
    state = fields.String(metadata={"enum": list(RUN_STATES)})
    due_by = fields.Date()
    scheme_id = fields.String(allow_none=True)
    request_count = fields.Integer()
    instalment_count = fields.Integer()
    total_pence = fields.Integer()
    created_at = fields.DateTime()
    created_by = fields.String()
    paid_on = fields.Date(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    paid_by = fields.String(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    cancelled_by = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    approved_by_you = fields.List(
        fields.String(), metadata={"description": "Requests the caller approved: they can't pay."}
    )
    set_up_by_you = fields.List(
        fields.String(),
        metadata={
            "description": "Instalments (PACKAGE#N) of packages the caller set up: they can't pay."
        },
    )
    actions = fields.List(fields.String(), metadata={"description": "What the caller may do now."})


class PaymentRunSchema(PaymentRunSummarySchema):
    payees = fields.List(fields.Nested(PaymentRunPayeeSchema))
    lines = fields.List(fields.Nested(PaymentRunLineSchema))


class PaymentRunPageSchema(PageEnvelopeSchema):
    items = fields.List(fields.Nested(PaymentRunSummarySchema))
