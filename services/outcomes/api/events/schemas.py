"""Schemas for events arriving from other services."""

from marshmallow import Schema, fields, validate


class EventSchema(Schema):
    id = fields.UUID(required=True)
    topic = fields.String(required=True, validate=validate.Length(min=1, max=80))
    payload = fields.Dict(required=True)
    occurred_at = fields.String(required=True, validate=validate.Length(max=40))


class EventReceiptSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "applied, duplicate or held"})


class ReplayQueryArgsSchema(Schema):
    everything = fields.Boolean(
        load_default=False,
        metadata={"description": "Re-apply every kept event, not only held ones (handlers upsert)"},
    )


class ReplayResultSchema(Schema):
    reapplied = fields.Integer()
    still_held = fields.Integer()
