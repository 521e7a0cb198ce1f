"""Scheme kinds as data: the settings that make a scheme what it is, each kind's starting values,
and the checks that keep a scheme's settings consistent with one another.

A kind is a label and a set of defaults, never a code path: every rule reads the settings, so an
admin can make any of the three kinds (or a variation of one) without a change to the code.
"""

from __future__ import annotations

from typing import Any

from shared.errors import ValidationFailed

CARE_LEAVERS = "care_leavers"
MENTAL_HEALTH_S117 = "mental_health_s117"
CHILDREN_YOUNG_PEOPLE = "children_young_people"
KINDS = (CARE_LEAVERS, MENTAL_HEALTH_S117, CHILDREN_YOUNG_PEOPLE)
KIND_NAMES = {
    CARE_LEAVERS: "Care leavers' wellbeing budget",
    MENTAL_HEALTH_S117: "Mental health aftercare (section 117)",
    CHILDREN_YOUNG_PEOPLE: "Children and young people's PHB",
}

# Who holds the money (NHS England): the council arranges and pays (notional), an organisation
# holds it for the person (third party), or it is paid to the person or their carer (direct payment).
NOTIONAL, THIRD_PARTY, DIRECT_PAYMENT = "notional", "third_party", "direct_payment"
BUDGET_TYPES = (NOTIONAL, THIRD_PARTY, DIRECT_PAYMENT)
BUDGET_TYPE_NAMES = {
    NOTIONAL: "Notional (the council arranges and pays)",
    THIRD_PARTY: "Third-party managed",
    DIRECT_PAYMENT: "Direct payment",
}

# The cap: the same for everyone on the scheme, or a ceiling under which each plan sets its own.
CAP_SCHEME, CAP_PER_PLAN = "scheme", "per_plan"
CAP_BASES = (CAP_SCHEME, CAP_PER_PLAN)

# What is left when someone moves to another scheme.
RETURN_TO_POT, CARRY_OVER = "return", "carry"
CARRY_RULES = (RETURN_TO_POT, CARRY_OVER)

# The record a scheme needs before someone may be enrolled on it.
NO_RECORD, SECTION_117, EHC_OR_CONTINUING_CARE = "none", "section_117", "ehc_or_continuing_care"
ELIGIBILITY_RECORDS = (NO_RECORD, SECTION_117, EHC_OR_CONTINUING_CARE)

# A parent or carer acts for a child below this age (Gillick: from 16 a young person decides).
PARENT_ACTS_BELOW_AGE = 16

# A scheme's check-in questions and report age bands are the outcomes service's settings (it owns
# the instruments): GET/PUT /schemes/{id}/outcome-settings there, checked against these ages.

PRESETS: dict[str, dict[str, Any]] = {
    CARE_LEAVERS: {
        "min_age": 16,
        "max_age": 25,
        "cap_basis": CAP_SCHEME,
        "budget_type": NOTIONAL,
        "carry_over": RETURN_TO_POT,
        "eligibility": NO_RECORD,
        "parent_may_act": False,
    },
    MENTAL_HEALTH_S117: {
        "min_age": None,
        "max_age": None,
        "cap_basis": CAP_PER_PLAN,
        "budget_type": NOTIONAL,
        "carry_over": CARRY_OVER,
        "eligibility": SECTION_117,
        "parent_may_act": False,
    },
    CHILDREN_YOUNG_PEOPLE: {
        "min_age": 0,
        "max_age": 25,
        "cap_basis": CAP_PER_PLAN,
        "budget_type": NOTIONAL,
        "carry_over": CARRY_OVER,
        "eligibility": EHC_OR_CONTINUING_CARE,
        "parent_may_act": True,
    },
}


def with_preset(values: dict[str, Any]) -> dict[str, Any]:
    """A new scheme's settings: its kind's defaults, overridden by whatever the admin gave."""
    kind = values.get("kind") or CARE_LEAVERS
    return {**PRESETS[kind], **values, "kind": kind}


def check_settings(values: dict[str, Any]) -> None:
    """Every inconsistency between a scheme's settings, named field by field (422)."""
    errors: dict[str, list[str]] = {}
    low, high = values.get("min_age"), values.get("max_age")
    if low is not None and high is not None and low > high:
        errors["max_age"] = ["Must be at least min_age."]
    if values.get("budget_type") == THIRD_PARTY and not (values.get("third_party_name") or ""):
        errors["third_party_name"] = ["Name the organisation that manages a third-party budget."]
    if values.get("parent_may_act") and low is not None and low >= PARENT_ACTS_BELOW_AGE:
        errors["parent_may_act"] = [
            f"A parent or carer acts only for a child under {PARENT_ACTS_BELOW_AGE}; "
            f"this scheme starts at {low}."
        ]
    if values.get("auto_approve_pence", 0) > values.get("cap_pence", 0):
        errors["auto_approve_pence"] = ["Must not be more than the cap."]
    if errors:
        raise ValidationFailed("The scheme's settings do not fit together.", errors=errors)
