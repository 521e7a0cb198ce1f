"""A provider's view of a request for its listing: what was bought and paid, nothing personal."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.budget.domain.payment_runs import REMITTANCE_STATUSES
from shared.pagination import PageEnvelopeSchema


class ProviderRequestSchema(Schema):
    id = fields.String()
    listing_id = fields.String(allow_none=True)
    cost_option_id = fields.String(allow_none=True)
    item = fields.String()
    amount_pence = fields.Integer()
    state = fields.String()
    payment_status = fields.String(
        metadata={
            "enum": list(REMITTANCE_STATUSES),
            "description": "Approved, in a payment run, paid (see paid_on and payment_reference), "
            "or not to be paid (cancelled or expired).",
        }
    )
    payment_run_reference = fields.String(
        allow_none=True, metadata={"description": "The run that pays it, once it is in one."}
    )
    approved_at = fields.DateTime(allow_none=True)
    paid_on = fields.Date(allow_none=True)
    paid_pence = fields.Integer()
    payment_reference = fields.String(allow_none=True)
    paid_to = fields.String(
        metadata={
            "enum": ["you", "third_party", "young_person"],
            "description": "Whom the council pays, by the scheme's budget type: the provider "
            "(notional), the organisation managing the budget (third party, see paid_to_name), or "
            "the young person or their carer (direct payment), who then pay the provider.",
        }
    )
    paid_to_name = fields.String(
        allow_none=True, metadata={"description": "The managing organisation (third party only)."}
    )


class ProviderRequestPageSchema(PageEnvelopeSchema):
    items = fields.List(fields.Nested(ProviderRequestSchema))
