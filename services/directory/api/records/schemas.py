"""What the admins' records API accepts and answers: due diligence reminders, the audit trail,
export and import."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ExpiringQueryArgsSchema(Schema):
    within_days = fields.Integer(load_default=30, validate=validate.Range(min=0, max=366))


class AuditQueryArgsSchema(Schema):
    entity_id = fields.String(validate=validate.Length(max=36))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class ExpiringProviderSchema(Schema):
    provider_id = fields.String()
    provider_name = fields.String()
    email = fields.String(allow_none=True)
    due_diligence_state = fields.String()
    reason = fields.String()
    missing = fields.List(fields.String())
    expiring = fields.List(fields.Dict())
    first_expiry = fields.String(allow_none=True)


class AuditEntrySchema(Schema):
    id = fields.Integer()
    entity_type = fields.String()
    entity_id = fields.String()
    action = fields.String()
    field = fields.String(allow_none=True)
    old_value = fields.Raw(allow_none=True)
    new_value = fields.Raw(allow_none=True)
    actor = fields.String()
    actor_role = fields.String()
    at = fields.String(allow_none=True)


class ImportSummarySchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    rejected = fields.List(fields.Dict())
