"""Finance's forms, with their GOV.UK messages."""

from __future__ import annotations

from services.gateway.web.forms import DateParts, FormSchema, Pounds, Text


class PayForm(FormSchema):
    """Recording a payment. Whether the amount may be paid, and whether a reduced payment has its
    reason, is the budget service's to decide; its refusals land on these fields."""

    reference = Text(
        required="Enter the payment reference from the finance system",
        label="The payment reference",
    )
    amount = Pounds(invalid="Enter the amount paid in pounds and pence, like 45.00")
    reason = Text(blank="Enter why less than the approved amount was paid", label="The reason")
    service_fields = {"amount_pence": "amount"}
    summary_field = "reference"


class InstalmentForm(FormSchema):
    """Recording one instalment of an ongoing package as paid (always its scheduled amount)."""

    reference = Text(
        required="Enter the payment reference from the finance system",
        label="The payment reference",
    )
    summary_field = "reference"


class NewRunForm(FormSchema):
    """A payment run: everything approved up to a day, for every scheme or one."""

    due = DateParts("due", invalid="Enter a real date, for example 30 11 2026")
    scheme_id = Text()
    service_fields = {"due_by": "due-day"}
    summary_field = "due-day"

    def anchor(self, field_id: str) -> str:
        return "due-day" if field_id == "due-day" else field_id


class CancelRunForm(FormSchema):
    reason = Text(required="Enter why the run is being cancelled", label="The reason")
    summary_field = "reason"
