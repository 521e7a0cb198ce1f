"""What the taxonomy API answers."""

from __future__ import annotations

from marshmallow import Schema, fields


class TaxonomyTermSchema(Schema):
    id = fields.String()
    slug = fields.String()
    name = fields.String()
    description = fields.String()
    parent = fields.String(allow_none=True)
    excluded = fields.Boolean()
    needs_qualification = fields.Boolean()
