"""Schemas for a scheme's outcome settings: its instrument sets and its report age bands."""

from marshmallow import Schema, fields, validate


class OutcomeSettingsSchema(Schema):
    instrument_set = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={
            "description": "The set the young person answers (a set whose respondent is self)"
        },
    )
    proxy_set = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "The set a parent or carer answers for a young child, or null"},
    )
    proxy_below_age = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        metadata={"description": "A child under this age (1-16) gets the proxy set"},
    )
    age_bands = fields.List(
        fields.String(validate=validate.Length(min=1, max=8)),
        required=True,
        metadata={
            "description": "Like ['0-4', '5-10', '11-15']: contiguous, covering the scheme's ages; "
            "an open last band ('65+') when the scheme has no upper age"
        },
    )


class SchemeFactsSchema(Schema):
    name = fields.String()
    kind = fields.String()
    min_age = fields.Integer(allow_none=True)
    max_age = fields.Integer(allow_none=True)


class InstrumentSetSchema(Schema):
    id = fields.String()
    title = fields.String()
    respondent = fields.String(metadata={"description": "self, or proxy (a parent or carer)"})
    instruments = fields.List(fields.String())
    form_title = fields.String()


class SchemeOutcomeSettingsSchema(OutcomeSettingsSchema):
    scheme_id = fields.String()
    scheme = fields.Nested(
        SchemeFactsSchema,
        allow_none=True,
        metadata={"description": "As the budget service announced it (null: not heard of yet)"},
    )
    chosen = fields.Boolean(metadata={"description": "False: the scheme kind's defaults"})
    version = fields.Integer()
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
    problems = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Settings that no longer fit the scheme (e.g. its ages changed)"},
    )
    choices = fields.List(fields.Nested(InstrumentSetSchema))
