"""Young people (pseudonymous: a case reference, never a name) and their budgets."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.budget.api.common import Pence
from shared.pagination import PageArgsSchema, PageEnvelopeSchema


class BudgetSchema(Schema):
    allocation_pence = fields.Integer()
    held_pence = fields.Integer()
    paid_pence = fields.Integer()
    remaining_pence = fields.Integer()


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
    enrolled_at = fields.DateTime(dump_only=True)
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
