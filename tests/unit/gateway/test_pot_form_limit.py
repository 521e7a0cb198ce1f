"""The admin's pot form takes exactly what the budget API takes."""

from __future__ import annotations

from marshmallow import validate

from services.budget.api.pots.schemas import PotSchema
from services.gateway.web.admin.forms import POT_MOST_PENCE


def test_the_pot_forms_most_is_the_budget_apis_most():
    [limit] = [
        v for v in PotSchema().fields["amount_pence"].validators if isinstance(v, validate.Range)
    ]
    assert limit.max == POT_MOST_PENCE
