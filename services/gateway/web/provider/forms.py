"""The provider's listing forms, with their GOV.UK messages."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, validates_schema

from services.gateway.web.forms import Choice, FormSchema, Pounds, Text, WholeNumber

LISTING_UNITS = (
    ("per_session", "A session"),
    ("per_month", "A month"),
    ("per_year", "A year"),
    ("one_off", "One-off"),
)
STALE_LISTING = (
    "Someone else changed this listing after you opened it. "
    "Their version is shown below: make your change again."
)


class ListingTextForm(FormSchema):
    """What every listing form has. How long a name, description or address may be, and which
    ages an activity may be for, are the directory's rules; its refusals land on these fields."""

    name = Text(required="Enter the name of the activity", label="The name")
    description = Text(load_default="", label="The description")
    summary_field = "name"


class NewListingForm(ListingTextForm):
    category = Choice(invalid="Choose what kind of activity it is")
    address_1 = Text(load_default="", label="The address")
    town = Text(required="Enter the town where it happens", label="The town")
    postcode = Text(load_default=None, rejected="Enter a real postcode, like TN34 1AA")
    price = Pounds(
        free=True, invalid="Enter the price in pounds and pence, like 8.50, or 0 if it is free"
    )
    unit = Choice(
        invalid="Choose what the price pays for",
        choices=dict(LISTING_UNITS),
        required=None,
        load_default=None,
    )
    service_fields = {
        "categories": "category",
        "location.address_1": "address_1",
        "location.town": "town",
        "location.postcode": "postcode",
        "cost_options.0.unit": "unit",
        "cost_options": "price",
    }

    @validates_schema(skip_on_field_errors=False)
    def _a_price_pays_for_something(self, data: dict[str, Any], **_kw: Any) -> None:
        if data.get("price") is not None and not data.get("unit"):
            raise ValidationError("Choose what the price pays for", field_name="unit")


class EditListingForm(ListingTextForm):
    minimum_age = WholeNumber(
        invalid="Youngest age must be a whole number between 0 and 120",
        rejected="Youngest age must be a whole number between 0 and 120",
    )
    maximum_age = WholeNumber(
        invalid="Oldest age must be a whole number between 0 and 120",
        rejected="Oldest age must be a whole number between 0 and 120",
    )
    etag = Text(load_default="")
