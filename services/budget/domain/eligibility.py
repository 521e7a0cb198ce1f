"""Eligibility records: the reason someone may have a PHB on a scheme that needs one.

Section 117 aftercare (NHS England): the section of the Mental Health Act that led to aftercare,
the aftercare plan's date, and the NHS body and council jointly responsible; reviewed at each
aftercare review. Children and young people: an EHC plan (its reference) or a continuing-care
decision (its date).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.budget.domain.schemes import EHC_OR_CONTINUING_CARE, NO_RECORD, SECTION_117
from shared.errors import ValidationFailed

S117, EHC_PLAN, CONTINUING_CARE = "section_117", "ehc_plan", "continuing_care"
BASES = (S117, EHC_PLAN, CONTINUING_CARE)
# The sections after which section 117 aftercare is owed (treatment and hospital orders, transfers).
MHA_SECTIONS = ("3", "37", "45A", "47", "48")
BASES_FOR = {
    NO_RECORD: (),
    SECTION_117: (S117,),
    EHC_OR_CONTINUING_CARE: (EHC_PLAN, CONTINUING_CARE),
}
REQUIRED = {
    S117: ("mha_section", "aftercare_plan_date", "responsible_nhs_body", "responsible_council"),
    EHC_PLAN: ("ehc_plan_reference",),
    CONTINUING_CARE: ("continuing_care_decided_on",),
}


def check_record(scheme_needs: str, record: dict[str, Any] | None, today: date) -> None:
    """Refuse (422, every missing field named under `eligibility.`) a record the scheme can't accept."""
    allowed = BASES_FOR[scheme_needs]
    if not allowed:
        return
    if not record:
        raise ValidationFailed(
            "This scheme needs an eligibility record.",
            errors={"eligibility": [f"Give the basis: {' or '.join(allowed)}."]},
        )
    errors: dict[str, list[str]] = {}
    basis = record.get("basis")
    if basis not in allowed:
        errors["eligibility.basis"] = [f"This scheme accepts {' or '.join(allowed)}."]
    else:
        for name in REQUIRED[basis]:
            if record.get(name) in (None, ""):
                errors[f"eligibility.{name}"] = ["Required for this basis."]
    for name in ("aftercare_plan_date", "continuing_care_decided_on"):
        if record.get(name) and record[name] > today:
            errors[f"eligibility.{name}"] = ["Can't be in the future."]
    review = record.get("next_review_on")
    if review and review < today:
        errors["eligibility.next_review_on"] = ["Must be today or later."]
    if errors:
        raise ValidationFailed("The eligibility record is incomplete.", errors=errors)


def satisfies(scheme_needs: str, basis: str | None) -> bool:
    """Whether a record on `basis` is what a scheme needing `scheme_needs` accepts."""
    allowed = BASES_FOR[scheme_needs]
    return not allowed or basis in allowed
