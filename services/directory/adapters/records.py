"""The shapes of the directory's records (marshmallow): a listing's fields as people set them
through the API, and listings, providers and checks as an export writes and an import reads them.
Unknown fields are refused (marshmallow 4)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from services.directory.domain import rules

TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
ACCESSIBILITY = (
    "wheelchair_accessible",
    "step_free",
    "accessible_toilet",
    "hearing_loop",
    "quiet_space",
    "autism_friendly",
    "large_print",
    "sign_language",
)
CHECK_KINDS = rules.KINDS


def _is_uuid(value: str) -> None:

    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError) as err:
        raise ValidationError("Not a UUID.") from err


def _time(value: str) -> None:
    if not TIME.match(value):
        raise ValidationError("Use 24-hour HH:MM, e.g. 18:30.")


def _byday(value: str) -> None:
    days = [d.strip() for d in value.split(",")]
    if not days or any(d not in rules.DAYS for d in days):
        raise ValidationError("Use day codes MO,TU,WE,TH,FR,SA,SU separated by commas.")


def _language(value: str) -> None:
    if not LANGUAGE.match(value):
        raise ValidationError("Use an ISO 639 code such as en, pl or ar.")


class LocationFieldsSchema(Schema):
    id = fields.String(load_default=None, allow_none=True, validate=_is_uuid)
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    address_1 = fields.String(load_default="", validate=validate.Length(max=200))
    town = fields.String(load_default="", validate=validate.Length(max=80))
    postcode = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10))
    latitude = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=-90, max=90)
    )
    longitude = fields.Float(
        load_default=None, allow_none=True, validate=validate.Range(min=-180, max=180)
    )


class CostOptionFieldsSchema(Schema):
    id = fields.String(load_default=None, allow_none=True, validate=_is_uuid)
    amount_pence = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=0, max=rules.MAX_PRICE_PENCE)
    )
    currency = fields.String(load_default="GBP", validate=validate.OneOf(["GBP"]))
    unit = fields.String(required=True, validate=validate.OneOf(rules.UNITS))
    description = fields.String(load_default="", validate=validate.Length(max=200))


class ScheduleFieldsSchema(Schema):
    id = fields.String(load_default=None, allow_none=True, validate=_is_uuid)
    byday = fields.String(required=True, validate=[validate.Length(max=40), _byday])
    opens_at = fields.String(required=True, validate=_time)
    closes_at = fields.String(required=True, validate=_time)
    description = fields.String(load_default="", validate=validate.Length(max=200))

    @validates_schema
    def _order(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("opens_at") and data.get("closes_at") and data["opens_at"] >= data["closes_at"]:
            raise ValidationError("Must be after opens_at.", "closes_at")


def _ids_to_str(value: Any) -> Any:
    """fields.UUID loads uuid.UUID objects; the model keeps strings."""

    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {k: _ids_to_str(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ids_to_str(v) for v in value]
    return value


class ListingFieldsSchema(Schema):
    """Every field of a listing a person may set (the API's create, replace and patch bodies)."""

    organization_id = fields.String(validate=validate.Length(equal=36))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(validate=validate.Length(max=5000))
    url = fields.URL(allow_none=True, validate=validate.Length(max=500))
    email = fields.Email(allow_none=True, validate=validate.Length(max=200))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    status = fields.String(validate=validate.OneOf(rules.STATUSES))
    minimum_age = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, 120))
    maximum_age = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, 120))
    accessibility = fields.List(
        fields.String(validate=validate.OneOf(ACCESSIBILITY)), validate=validate.Length(max=20)
    )
    languages = fields.List(fields.String(validate=_language), validate=validate.Length(max=20))
    welcomes = fields.List(
        fields.String(validate=validate.OneOf(rules.WELCOMES)), validate=validate.Length(max=5)
    )
    categories = fields.List(
        fields.String(validate=validate.Length(max=80)), validate=validate.Length(min=1, max=10)
    )
    location = fields.Nested(LocationFieldsSchema, allow_none=True)
    cost_options = fields.List(
        fields.Nested(CostOptionFieldsSchema), validate=validate.Length(max=20)
    )
    schedules = fields.List(fields.Nested(ScheduleFieldsSchema), validate=validate.Length(max=30))

    @validates("organization_id")
    def _org(self, value: str, data_key: str) -> None:
        import uuid

        try:
            uuid.UUID(value)
        except ValueError as err:
            raise ValidationError("Not a UUID.") from err

    @validates_schema
    def _ages(self, data: dict[str, Any], **_: Any) -> None:
        lo, hi = data.get("minimum_age"), data.get("maximum_age")
        if lo is not None and hi is not None and lo > hi:
            raise ValidationError("Must not be above maximum_age.", "minimum_age")


class CheckFieldsSchema(Schema):
    """A due diligence check as an admin records it."""

    kind = fields.String(required=True, validate=validate.OneOf(CHECK_KINDS))
    expires_on = fields.Date(required=True)
    checked_on = fields.Date()
    reference = fields.String(load_default="", validate=validate.Length(max=200))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


class ListingImportSchema(ListingFieldsSchema):
    """A listing as the export writes it (computed fields are accepted and ignored)."""

    record = fields.String(load_only=True)
    id = fields.String(required=True, validate=validate.Length(equal=36))
    organization_id = fields.String(required=True, validate=validate.Length(equal=36))
    categories = fields.List(fields.String(validate=validate.Length(max=80)))
    organization_name = fields.String(load_only=True)
    stale = fields.Boolean(load_only=True)
    provider_state = fields.String(load_only=True)
    archived = fields.Boolean(load_default=False)
    assured_date = fields.Date(allow_none=True)
    version = fields.Integer(strict=True, validate=validate.Range(min=1))
    last_modified = fields.AwareDateTime(allow_none=True, default_timezone=None)
    created_at = fields.AwareDateTime(allow_none=True)

    @validates("id")
    def _id(self, value: str, data_key: str) -> None:
        import uuid

        try:
            uuid.UUID(value)
        except ValueError as err:
            raise ValidationError("Not a UUID.") from err

    def load(self, data: Any, **kwargs: Any) -> Any:
        values = super().load(data, **kwargs)
        for key in ("record", "organization_name", "stale", "provider_state"):
            values.pop(key, None)
        return _ids_to_str(values)


class CheckRecordSchema(CheckFieldsSchema):
    id = fields.String(required=True, validate=validate.Length(equal=36))
    checked_on = fields.Date(required=True)
    checked_by = fields.String(required=True, validate=validate.Length(max=200))
    recorded_at = fields.AwareDateTime(allow_none=True)


class ProviderImportSchema(Schema):
    record = fields.String(load_only=True)
    id = fields.String(required=True, validate=validate.Length(equal=36))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    email = fields.String(allow_none=True, validate=validate.Length(max=200))
    website = fields.String(allow_none=True, validate=validate.Length(max=500))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    works_with_children = fields.Boolean(load_default=True)
    created_at = fields.AwareDateTime(allow_none=True)
    last_modified = fields.AwareDateTime(allow_none=True)
    checks = fields.List(fields.Dict(), load_default=list)
