"""The advisor's caseload forms, with their GOV.UK messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.gateway.web.forms import Choice, DateParts, FormSchema, Pounds, Text, WholeNumber

MHA_SECTIONS = ("3", "37", "45A", "47", "48")
ELIGIBILITY_SERVICE_FIELDS = {
    "eligibility": "basis",
    "eligibility.basis": "basis",
    "eligibility.mha_section": "mha_section",
    "eligibility.aftercare_plan_date": "aftercare-day",
    "eligibility.responsible_nhs_body": "responsible_nhs_body",
    "eligibility.responsible_council": "responsible_council",
    "eligibility.ehc_plan_reference": "ehc_plan_reference",
    "eligibility.continuing_care_decided_on": "continuing_care-day",
    "eligibility.next_review_on": "eligibility_review-day",
    "allocation_pence": "allocation",
}


class EligibilityFields(FormSchema):
    """An eligibility record, for a scheme that needs one. Which fields a basis needs is the budget
    service's rule; its refusals land on these fields."""

    basis = Choice(
        invalid="Choose the basis",
        choices=("section_117", "ehc_plan", "continuing_care"),
        required=None,
    )
    mha_section = Choice(invalid="Choose the section", choices=MHA_SECTIONS, required=None)
    aftercare = DateParts("aftercare", invalid="Enter a real date, like 15 1 2026", required=None)
    responsible_nhs_body = Text(label="The responsible NHS body")
    responsible_council = Text(label="The responsible council")
    ehc_plan_reference = Text(label="The EHC plan reference")
    continuing_care = DateParts(
        "continuing_care", invalid="Enter a real date, like 2 9 2025", required=None
    )
    eligibility_review = DateParts(
        "eligibility_review", invalid="Enter a real date, like 15 1 2027", required=None
    )
    allocation = Pounds(invalid="Enter the allocation in pounds, like 1500")

    @staticmethod
    def record(data: Mapping[str, Any]) -> dict[str, Any] | None:
        """The eligibility record to send, or None when no basis was chosen."""
        if not data.get("basis"):
            return None
        dates = {
            "aftercare_plan_date": data.get("aftercare"),
            "continuing_care_decided_on": data.get("continuing_care"),
            "next_review_on": data.get("eligibility_review"),
        }
        record = {
            "basis": data["basis"],
            "mha_section": data.get("mha_section"),
            "responsible_nhs_body": data.get("responsible_nhs_body"),
            "responsible_council": data.get("responsible_council"),
            "ehc_plan_reference": data.get("ehc_plan_reference"),
            **{k: v.isoformat() for k, v in dates.items() if v is not None},
        }
        return {k: v for k, v in record.items() if v is not None}


GOAL_FIELDS = ("goal-1", "goal-2", "goal-3")


class EnrolForm(EligibilityFields):
    """Enrolling a young person. Who a scheme takes (age, open or closed, the record it needs) and
    how long a case reference may be is the budget service's to decide; its refusals land on these
    fields."""

    case_reference = Text(required="Enter the case reference", label="Case reference")
    birth = DateParts("birth", invalid="Enter a real date of birth, for example 14 3 2007")
    scheme_id = Choice(invalid="Choose the scheme")
    consent_evaluation = Text(load_default="")
    consent_case_study = Text(load_default="")
    service_fields = {"birth_date": "birth-day", **ELIGIBILITY_SERVICE_FIELDS}
    summary_field = "case_reference"


class TransferForm(EligibilityFields):
    """Moving a young person to another scheme, or to another council."""

    to_scheme_id = Choice(invalid="Choose where they are moving to", required=None)
    to_council = Text(label="The council's name")
    reason = Text(blank="Enter why they are moving", label="Why they are moving")
    service_fields = {**ELIGIBILITY_SERVICE_FIELDS, "pot_id": "to_scheme_id"}
    summary_field = "to_scheme_id"


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
