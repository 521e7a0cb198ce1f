"""Schemas for check-ins, feedback links and answers."""

from marshmallow import Schema, fields, validate

from shared.pagination import PageArgsSchema, PageEnvelopeSchema

STATUSES = ("open", "answered", "closed")


class LinkStateSchema(Schema):
    state = fields.String(metadata={"description": "active, used, revoked or expired"})
    issued_at = fields.DateTime()
    expires_at = fields.DateTime()


class ObservationSchema(Schema):
    id = fields.String(dump_only=True)
    author_sub = fields.String(dump_only=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    created_at = fields.DateTime(dump_only=True)


class CheckInSchema(Schema):
    id = fields.String()
    person_id = fields.String()
    kind = fields.String(metadata={"description": "baseline or follow_up"})
    week = fields.Integer(
        metadata={"description": "Weeks after the activity started (0: baseline)"}
    )
    activity_id = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    due_on = fields.Date()
    due = fields.Boolean(metadata={"description": "Open and due today or earlier"})
    status = fields.String(metadata={"description": "open, answered or closed"})
    instruments = fields.List(fields.String())
    instrument_set = fields.String(metadata={"description": "The scheme's set it asks"})
    respondent = fields.String(
        metadata={"description": "self, or proxy: the child's parent or carer answers"}
    )
    answered_at = fields.DateTime(allow_none=True)
    answered_via = fields.String(
        allow_none=True,
        metadata={"description": "link, advisor, or carer (a parent's proxy answer for a child)"},
    )
    link = fields.Nested(LinkStateSchema, allow_none=True)


class CheckInDetailSchema(CheckInSchema):
    answers = fields.Dict(allow_none=True)
    scores = fields.Dict(keys=fields.String(), values=fields.Float(), allow_none=True)
    observations = fields.List(fields.Nested(ObservationSchema))


class CheckInPageSchema(PageEnvelopeSchema):
    items = fields.List(fields.Nested(CheckInSchema), required=True)


class CheckInQueryArgsSchema(PageArgsSchema):
    person_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(STATUSES))
    due_by = fields.Date(metadata={"description": "Only check-ins due on or before this day"})


class PersonCheckInsSchema(Schema):
    person_id = fields.String()
    advisor_sub = fields.String()
    consent_evaluation = fields.Boolean()
    consent_case_study = fields.Boolean()
    checkins = fields.List(fields.Nested(CheckInSchema))


class IssuedLinkSchema(Schema):
    checkin_id = fields.String()
    token = fields.String(metadata={"description": "Shown once; only its hash is stored"})
    page_path = fields.String(metadata={"description": "The young person's page on the gateway"})
    api_path = fields.String(metadata={"description": "The public API behind it"})
    expires_at = fields.DateTime()


class AnswersSchema(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(max=80)),
        values=fields.Raw(allow_none=True),
        required=True,
        validate=validate.Length(max=50),
        metadata={
            "description": "Question key -> answer: a whole number for scales and choices, "
            "words for free text (see the form's `sections[].items[].key`)."
        },
    )
