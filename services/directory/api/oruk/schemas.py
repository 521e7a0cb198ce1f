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
    cursor = fields.String(
        validate=validate.Length(max=800),
        metadata={
            "description": "Where a page starts, from the `Link` header's rel=next of the page "
            "before: fast at any depth (it takes the place of `page`)."
        },
    )
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


class OrukPageSchema(Schema):
    total_items = fields.Integer()
    total_pages = fields.Integer()
    page_number = fields.Integer()
    size = fields.Integer()
    first_page = fields.Boolean()
    last_page = fields.Boolean()
    empty = fields.Boolean()
    contents = fields.List(fields.Dict())


class OrukApiDetailsSchema(Schema):
    version = fields.String()
    profile = fields.String()
    openapi_url = fields.String()


# ---- ORUK 3.0 records (HSDS-UK); optional fields are left out when empty, as the standard asks


class OrukTaxonomyTermSchema(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String()
    taxonomy = fields.String()
    taxonomy_id = fields.String()
    term = fields.String()
    parent_id = fields.String()


class OrukTaxonomySchema(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String()
    taxonomy_terms = fields.List(fields.Nested(OrukTaxonomyTermSchema))


class OrukOrganizationSchema(Schema):
    id = fields.String()
    name = fields.String()
    description = fields.String()
    email = fields.String()
    website = fields.String()
    services = fields.List(fields.Nested(lambda: OrukServiceSchema()))


class OrukAddressSchema(Schema):
    id = fields.String()
    location_id = fields.String()
    address_1 = fields.String()
    city = fields.String()
    state_province = fields.String()
    postal_code = fields.String()
    country = fields.String()
    address_type = fields.String()


class OrukAccessibilitySchema(Schema):
    id = fields.String()
    location_id = fields.String()
    description = fields.String()


class OrukLocationSchema(Schema):
    id = fields.String()
    location_type = fields.String()
    name = fields.String()
    latitude = fields.Float()
    longitude = fields.Float()
    addresses = fields.List(fields.Nested(OrukAddressSchema))
    accessibility = fields.List(fields.Nested(OrukAccessibilitySchema))


class OrukServiceAtLocationSchema(Schema):
    id = fields.String()
    service_id = fields.String()
    location_id = fields.String()
    location = fields.Nested(OrukLocationSchema)
    service = fields.Nested(lambda: OrukServiceSchema())
    proximity = fields.Integer(metadata={"description": "Metres from the postcode asked about"})
    postcode = fields.String(allow_none=True)


class OrukScheduleSchema(Schema):
    id = fields.String()
    service_id = fields.String()
    freq = fields.String()
    interval = fields.Integer()
    byday = fields.String()
    opens_at = fields.String()
    closes_at = fields.String()
    description = fields.String()


class OrukLanguageSchema(Schema):
    id = fields.String()
    service_id = fields.String()
    name = fields.String()
    code = fields.String()


class OrukCostOptionSchema(Schema):
    id = fields.String()
    service_id = fields.String()
    option = fields.String()
    amount = fields.Float()
    amount_description = fields.String()
    currency = fields.String()


class OrukContactSchema(Schema):
    id = fields.String()
    service_id = fields.String()
    name = fields.String()
    email = fields.String(allow_none=True)


class OrukAttributeSchema(Schema):
    id = fields.String()
    link_id = fields.String()
    link_type = fields.String()
    taxonomy_term_id = fields.String()
    taxonomy_term = fields.Nested(OrukTaxonomyTermSchema)


class OrukServiceSchema(Schema):
    id = fields.String()
    organization_id = fields.String()
    name = fields.String()
    description = fields.String()
    status = fields.String()
    url = fields.String()
    email = fields.String()
    minimum_age = fields.Integer()
    maximum_age = fields.Integer()
    fees = fields.String()
    assured_date = fields.String()
    last_modified = fields.String(allow_none=True)
    organization = fields.Nested(OrukOrganizationSchema)
    schedules = fields.List(fields.Nested(OrukScheduleSchema))
    service_at_locations = fields.List(fields.Nested(OrukServiceAtLocationSchema))
    languages = fields.List(fields.Nested(OrukLanguageSchema))
    cost_options = fields.List(fields.Nested(OrukCostOptionSchema))
    contacts = fields.List(fields.Nested(OrukContactSchema))
    attributes = fields.List(fields.Nested(OrukAttributeSchema))


class OrukServicePageSchema(OrukPageSchema):
    contents = fields.List(fields.Nested(OrukServiceSchema))


class OrukTaxonomyPageSchema(OrukPageSchema):
    contents = fields.List(fields.Nested(OrukTaxonomySchema))


class OrukTaxonomyTermPageSchema(OrukPageSchema):
    contents = fields.List(fields.Nested(OrukTaxonomyTermSchema))


class OrukOrganizationPageSchema(OrukPageSchema):
    contents = fields.List(fields.Nested(OrukOrganizationSchema))


class OrukServiceAtLocationPageSchema(OrukPageSchema):
    contents = fields.List(fields.Nested(OrukServiceAtLocationSchema))
