"""The admin pages' forms, with their GOV.UK messages. The rules behind each (who may hold a
scheme's budget, what a check needs, whose caseload a person may join) are the services'."""

from __future__ import annotations

from services.gateway.web.forms import Choice, DateParts, FormSchema, Pounds, Text

CHECK_KINDS = {
    "insurance": "Public liability insurance",
    "safeguarding": "Safeguarding policy",
    "dbs": "DBS check",
    "qualification": "Qualification",
}
YES_NO = ("yes", "no")
# The most a pot may hold: the budget API's limit (its PotSchema; pots.amount_pence and the
# ledger are BIGINT). A council's whole section 117 or continuing-care budget can be millions.
POT_MOST_PENCE = 10**12
FUNDING_STREAMS = {
    "health": "Health (the NHS)",
    "education": "Education",
    "social_care": "Social care",
}


class PotForm(FormSchema):
    """A funding pot: whose money it is, how much, from when."""

    scheme_id = Choice(invalid="Choose the scheme this pot funds")
    name = Text(required="Enter the pot's name", label="The pot's name")
    funder = Text(required="Enter who funds it", label="The funder")
    funding_stream = Choice(
        invalid="Choose whose budget the money comes from: health, education or social care",
        choices=FUNDING_STREAMS,
    )
    amount = Pounds(
        required="Enter the amount in pounds, like 25000",
        invalid="Enter the amount in pounds, like 25000",
        most_pence=POT_MOST_PENCE,
        too_much="The amount must be £10,000,000,000 or less",
    )
    starts = DateParts("starts", invalid="Enter a real start date, for example 1 4 2026")
    service_fields = {"amount_pence": "amount", "starts_on": "starts-day"}
    summary_field = "name"


class AssignmentForm(FormSchema):
    """A budget holder assigned to a scheme: until then they see none of it."""

    scheme_id = Choice(invalid="Choose the scheme")
    sub = Text(required="Enter the budget holder's sign-in name", label="The sign-in name")
    summary_field = "sub"


class CheckForm(FormSchema):
    """A provider's due diligence check: what was checked, until when, and the evidence."""

    kind = Choice(invalid="Choose what was checked", choices=CHECK_KINDS)
    expires = DateParts("expires", invalid="Enter a real expiry date, for example 31 3 2027")
    reference = Text(load_default="", label="The evidence reference")
    notes = Text(load_default="", label="Notes")
    service_fields = {"expires_on": "expires-day"}
    summary_field = "kind"


class ReassignForm(FormSchema):
    """Another advisor's caseload for a young person."""

    advisor_sub = Text(required="Enter the advisor's sign-in name", label="The sign-in name")
    summary_field = "advisor_sub"


class ConsentForm(FormSchema):
    """The young person's consent choices, as they gave them."""

    consent_evaluation = Choice(
        invalid="Choose whether they agree to their answers being used in evaluation",
        choices=YES_NO,
    )
    consent_case_study = Choice(invalid="Choose whether they agree to a case study", choices=YES_NO)
    summary_field = "consent_evaluation"
