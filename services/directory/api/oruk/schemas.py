"""What the ORUK 3.0 feed accepts (query arguments) and the page envelope it answers with."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

MAX_PER_PAGE = 100


class PageQueryArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    format = fields.String(validate=validate.OneOf(["json"]))
    search = fields.String(validate=validate.Length(max=200))


class ServiceQueryArgsSchema(PageQueryArgsSchema):
    text = fields.String(validate=validate.Length(max=200))
    taxonomy_term_id = fields.String(validate=validate.Length(max=80))
    taxonomy_id = fields.String(validate=validate.Length(max=36))
    organization_id = fields.String(validate=validate.Length(max=36))
    modified_after = fields.DateTime()
    minimal = fields.Boolean()
    full = fields.Boolean()


class ServiceAtLocationQueryArgsSchema(ServiceQueryArgsSchema):
    postcode = fields.String(validate=validate.Length(max=10))
    proximity = fields.Integer(validate=validate.Range(min=1, max=200_000))


class TaxonomyTermQueryArgsSchema(PageQueryArgsSchema):
    taxonomy_id = fields.String(validate=validate.Length(max=36))
    top_only = fields.Boolean()
    parent_id = fields.String(validate=validate.Length(max=36))


class OrganizationQueryArgsSchema(PageQueryArgsSchema):
    full_service = fields.Boolean()
    full = fields.Boolean()


class PageSchema(Schema):
    total_items = fields.Integer()
    total_pages = fields.Integer()
    page_number = fields.Integer()
    size = fields.Integer()
    first_page = fields.Boolean()
    last_page = fields.Boolean()
    empty = fields.Boolean()
    contents = fields.List(fields.Dict())


class ApiDetailsSchema(Schema):
    version = fields.String()
    profile = fields.String()
    openapi_url = fields.String()
