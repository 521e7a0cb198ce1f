"""The advisor's search and funding forms, with their GOV.UK messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.gateway.web.core import ServiceError, money
from services.gateway.web.forms import Choice, FormSchema, Pounds, Text, WholeNumber

DIRECTORY_AWAY = (
    "We could not check this activity with the directory just now. Try again in a few minutes."
)


def _amount_refused(err: ServiceError, _values: Mapping[str, Any]) -> str:
    left = err.body.get("remaining_pence")
    if err.body.get("type", "").endswith("/insufficient-funds") and isinstance(left, int):
        return f"The amount must be {money(left)} or less: that is what is left"
    return err.detail


class FundForm(FormSchema):
    """Funding an activity from a young person's budget. Whether the amount is within what is left,
    and whether the activity can be funded at all, is the budget service's to decide."""

    goal_id = Choice(invalid="Choose the plan goal this activity helps with")
    amount = Pounds(
        required="Enter the amount in pounds and pence, like 12.50",
        invalid="Enter the amount in pounds and pence, like 12.50",
        rejected=_amount_refused,
    )
    service_fields = {"amount_pence": "amount", "listing_id": "amount", "cost_option_id": "amount"}
    summary_field = "amount"


class SearchForm(FormSchema):
    """The words, place and age of a search. How long the words or the place may be, which ages
    exist and whether a place can be found are the directory's to decide; its own words are shown.
    The other filters are choices the page offers, turned into the directory's parameters."""

    q = Text(label="Search words")
    near = Text(label="The town or postcode")
    age = WholeNumber(
        invalid="Age must be a whole number, like 17",
        rejected="Age must be a whole number, like 17",
    )
    field_words = True
    service_fields = {"radius_km": "radius", "lat": "near", "lng": "near"}
    summary_field = "q"


def _term_refused(err: ServiceError, _values: Mapping[str, Any]) -> str:
    left = err.body.get("remaining_pence")
    if err.body.get("type", "").endswith("/insufficient-funds") and isinstance(left, int):
        return f"Every month together must come to {money(left)} or less: that is what is left"
    return err.detail


class MonthlyForm(FormSchema):
    """Funding an activity monthly (a gym membership, a club's fees): the whole term is held from
    the budget at once. How many months are allowed and whether they fit is the budget's to say."""

    goal_id = Choice(invalid="Choose the plan goal this activity helps with")
    amount = Pounds(
        required="Enter the monthly amount in pounds and pence, like 25.00",
        invalid="Enter the monthly amount in pounds and pence, like 25.00",
        rejected=_term_refused,
    )
    months = WholeNumber(
        required="Enter how many months to pay for, like 12",
        invalid="Enter how many months to pay for as a whole number, like 12",
    )
    service_fields = {
        "instalment_pence": "amount",
        "amount_pence": "amount",
        "instalments": "months",
        "listing_id": "amount",
        "cost_option_id": "amount",
    }
    summary_field = "amount"
