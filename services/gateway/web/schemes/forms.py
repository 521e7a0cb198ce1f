"""The scheme settings form (admins). What a scheme may be is the budget service's to decide; its
refusals land on these fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.gateway.web.forms import Choice, FormSchema, Pounds, Text, WholeNumber

KINDS = {
    "care_leavers": "Care leavers' wellbeing budget",
    "mental_health_s117": "Mental health aftercare (section 117)",
    "children_young_people": "Children and young people's PHB",
}
CAP_BASES = {
    "scheme": "The same for everyone on the scheme",
    "per_plan": "Set by each person's plan, up to the cap",
}
BUDGET_TYPES = {
    "notional": "Notional: the council arranges and pays providers",
    "third_party": "Third-party managed: an organisation holds the money",
    "direct_payment": "Direct payment: paid to the person or their parent or carer",
}
CARRY_RULES = {
    "return": "Return what is left to this scheme's pot",
    "carry": "Carry what is left into the new scheme's allocation",
}
ELIGIBILITY = {
    "none": "No record needed",
    "section_117": "Section 117 aftercare record",
    "ehc_or_continuing_care": "EHC plan or continuing-care decision",
}
YES_NO = {"yes": "Yes", "no": "No"}


def listed(text: str | None) -> list[str]:
    """A comma-separated box as a list ('16-17, 18-25' → ['16-17', '18-25'])."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class SchemeForm(FormSchema):
    """A scheme's settings. Left empty on a new scheme, a setting takes its kind's default."""

    name = Text(required="Enter the scheme's name", label="Name")
    kind = Choice(invalid="Choose the kind of scheme", choices=KINDS)
    cap = Pounds(required="Enter the cap", invalid="Enter the cap in pounds, like 500")
    cap_basis = Choice(invalid="Choose how the cap applies", choices=CAP_BASES, required=None)
    min_age = WholeNumber(invalid="Enter the youngest age as a whole number, like 16")
    max_age = WholeNumber(invalid="Enter the oldest age as a whole number, like 25")
    auto_approve = Pounds(invalid="Enter an amount in pounds, like 50", free=True)
    excluded_categories = Text(load_default="")
    first_review_months = WholeNumber(invalid="Enter a number of months, like 3")
    review_months = WholeNumber(invalid="Enter a number of months, like 12")
    budget_type = Choice(invalid="Choose who holds the money", choices=BUDGET_TYPES, required=None)
    third_party_name = Text(load_default="", label="The organisation's name")
    carry_over = Choice(
        invalid="Choose what happens to what is left", choices=CARRY_RULES, required=None
    )
    eligibility = Choice(invalid="Choose the record needed", choices=ELIGIBILITY, required=None)
    parent_may_act = Choice(
        invalid="Say whether a parent or carer may act", choices=YES_NO, required=None
    )
    version = WholeNumber(invalid="Open the scheme again and make your change")
    service_fields = {
        "cap_pence": "cap",
        "auto_approve_pence": "auto_approve",
        "excluded_categories": "excluded_categories",
    }
    summary_field = "name"
    field_words = True

    def field_id(self, service_path: str, values: Mapping[str, Any]) -> str | None:
        """`excluded_categories.1` is the box the list was typed in."""
        head = service_path.split(".")[0]
        if head == "excluded_categories":
            return head
        return super().field_id(service_path, values)


def settings_body(data: Mapping[str, Any], *, new: bool) -> dict[str, Any]:
    """The settings to send: on a new scheme only what was given (the kind fills the rest); on a
    change every setting on the page, an empty age meaning no limit."""
    body: dict[str, Any] = {
        "name": data.get("name"),
        "kind": data.get("kind"),
        "cap_pence": data.get("cap"),
        "cap_basis": data.get("cap_basis"),
        "min_age": data.get("min_age"),
        "max_age": data.get("max_age"),
        "auto_approve_pence": data.get("auto_approve"),
        "excluded_categories": listed(data.get("excluded_categories")),
        "first_review_months": data.get("first_review_months"),
        "review_months": data.get("review_months"),
        "budget_type": data.get("budget_type"),
        "third_party_name": data.get("third_party_name") or None,
        "carry_over": data.get("carry_over"),
        "eligibility": data.get("eligibility"),
        "parent_may_act": {"yes": True, "no": False}.get(data.get("parent_may_act") or ""),
    }
    if new:
        return {k: v for k, v in body.items() if v not in (None, [], "")}
    keep_empty = ("min_age", "max_age", "third_party_name", "excluded_categories")
    return {k: v for k, v in body.items() if v not in (None, [], "") or k in keep_empty}


FIELDS = (
    "name",
    "kind",
    "cap",
    "cap_basis",
    "min_age",
    "max_age",
    "auto_approve",
    "excluded_categories",
    "first_review_months",
    "review_months",
    "budget_type",
    "third_party_name",
    "carry_over",
    "eligibility",
    "parent_may_act",
    "version",
)


def shown(values: Mapping[str, Any], scheme: Mapping[str, Any] | None) -> dict[str, str]:
    """What each box shows: what was typed, else the scheme's current setting, else nothing."""
    current: dict[str, str] = {name: "" for name in FIELDS}
    if scheme:
        current.update(
            name=scheme["name"],
            kind=scheme["kind"],
            cap=_pounds(scheme["cap_pence"]),
            cap_basis=scheme["cap_basis"],
            min_age="" if scheme["min_age"] is None else str(scheme["min_age"]),
            max_age="" if scheme["max_age"] is None else str(scheme["max_age"]),
            auto_approve=_pounds(scheme["auto_approve_pence"]),
            excluded_categories=", ".join(scheme["excluded_categories"]),
            first_review_months=str(scheme["first_review_months"]),
            review_months=str(scheme["review_months"]),
            budget_type=scheme["budget_type"],
            third_party_name=scheme["third_party_name"] or "",
            carry_over=scheme["carry_over"],
            eligibility=scheme["eligibility"],
            parent_may_act="yes" if scheme["parent_may_act"] else "no",
            version=str(scheme["version"]),
        )
    if values:
        current.update({name: str(values.get(name, "")) for name in FIELDS if name != "version"})
        current["version"] = str(values.get("version", current["version"]))
    return current


def _pounds(pence: int) -> str:
    return f"{pence // 100}" if pence % 100 == 0 else f"{pence // 100}.{pence % 100:02d}"
