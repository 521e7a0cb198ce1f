"""Schemas for events arriving from other services."""

from marshmallow import Schema, fields, validate

from shared.outbox import MAX_BATCH


class EventSchema(Schema):
    id = fields.UUID(required=True)
    topic = fields.String(required=True, validate=validate.Length(min=1, max=80))
    payload = fields.Dict(required=True)
    occurred_at = fields.String(required=True, validate=validate.Length(max=40))


class EventReceiptSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(
        required=True,
        metadata={"description": "applied, duplicate, held, invalid or ignored (unknown topic)"},
    )


class EventBatchSchema(Schema):
    events = fields.List(
        fields.Dict(),
        required=True,
        validate=validate.Length(min=1, max=MAX_BATCH),
        metadata={
            "description": "Events in the order they were written, each as EventSchema "
            f"(id, topic, payload, occurred_at); at most {MAX_BATCH}."
        },
    )


class BatchReceiptSchema(Schema):
    received = fields.List(fields.Nested(EventReceiptSchema), required=True)


class ReplayQueryArgsSchema(Schema):
    everything = fields.Boolean(
        load_default=False,
        metadata={"description": "Re-apply every kept event, not only held ones (handlers upsert)"},
    )


class ReplayResultSchema(Schema):
    reapplied = fields.Integer()
    still_held = fields.Integer()
