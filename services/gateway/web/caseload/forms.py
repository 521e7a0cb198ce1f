"""The advisor's caseload forms, with their GOV.UK messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.gateway.web.forms import Choice, DateParts, FormSchema, Text, WholeNumber

GOAL_FIELDS = ("goal-1", "goal-2", "goal-3")


class EnrolForm(FormSchema):
    """Enrolling a young person. Who a scheme takes (age, open or closed) and how long a case
    reference may be is the budget service's to decide; its refusals land on these fields."""

    case_reference = Text(required="Enter the case reference", label="Case reference")
    birth = DateParts("birth", invalid="Enter a real date of birth, for example 14 3 2007")
    scheme_id = Choice(invalid="Choose the scheme")
    consent_evaluation = Text(load_default="")
    consent_case_study = Text(load_default="")
    service_fields = {"birth_date": "birth-day"}
    summary_field = "case_reference"


class PlanForm(FormSchema):
    """A plan: what the young person needs, ideas, up to three goals in their own words, and the
    version of the plan the advisor saw, so a change made meanwhile by someone else is refused.
    How many goals a plan needs and how long each text may be are the budget service's rules."""

    needs = Text(load_default="", label="What they need")
    ideas = Text(load_default="", label="Ideas you talked about")
    goal_1 = Text(data_key="goal-1", blank="Enter at least one goal", label="Each goal")
    goal_2 = Text(data_key="goal-2", label="Each goal")
    goal_3 = Text(data_key="goal-3", label="Each goal")
    version = WholeNumber(invalid="Open the plan again and make your change")
    service_fields = {"goals": "goal-1"}
    summary_field = "goal-1"

    def field_id(self, service_path: str, values: Mapping[str, Any]) -> str | None:
        """`goals.N.text` is the Nth goal the advisor filled in (empty boxes are not sent)."""
        parts = service_path.split(".")
        if parts[0] == "goals" and len(parts) > 1 and parts[1].isdigit():
            filled = [f for f in GOAL_FIELDS if str(values.get(f, "")).strip()]
            index = int(parts[1])
            return filled[index] if index < len(filled) else GOAL_FIELDS[0]
        return super().field_id(service_path, values)

    @staticmethod
    def goals(data: Mapping[str, Any]) -> list[str]:
        return [data[k] for k in ("goal_1", "goal_2", "goal_3") if data.get(k)]
