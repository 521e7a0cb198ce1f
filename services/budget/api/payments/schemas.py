"""The payment run's window."""

from __future__ import annotations

from marshmallow import Schema, fields


class PaymentRunQueryArgsSchema(Schema):
    paid_from = fields.Date(load_default=None, data_key="from")
    paid_to = fields.Date(load_default=None, data_key="to")
