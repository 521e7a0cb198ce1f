"""Which scheme a report covers, and in what format."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ReportQueryArgsSchema(Schema):
    scheme_id = fields.String(load_default=None)
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))
