"""Form schemas read what a browser sent in GOV.UK words; a service's refusal lands on the field it names."""

from __future__ import annotations

from datetime import date

import pytest
from werkzeug.datastructures import MultiDict

from services.gateway.web.approvals.forms import DecisionForm
from services.gateway.web.caseload.forms import EnrolForm, PlanForm
from services.gateway.web.core import ServiceError
from services.gateway.web.feedback.forms import answers, feedback_form
from services.gateway.web.forms import choices, field_messages, read
from services.gateway.web.payments.forms import PayForm
from services.gateway.web.provider.forms import NewListingForm
from services.gateway.web.search.forms import FundForm


def refusal(detail: str, errors: dict | None = None, status: int = 422, **extra) -> ServiceError:  # type: ignore[type-arg]
    body = {
        "type": "https://phb-suite.example/problems/validation-failed",
        "title": "Invalid input",
    }
    body.update({"status": status, "detail": detail, **extra})
    if errors is not None:
        body["errors"] = errors
    return ServiceError(status, body)


def test_a_form_reads_pounds_as_pence_and_a_date_from_its_three_inputs():
    schema = choices(EnrolForm(), "scheme_id", ["s-1"])
    form = read(
        schema,
        MultiDict(
            {
                "case_reference": "  LC-1 ",
                "birth-day": "14",
                "birth-month": "3",
                "birth-year": "2007",
                "scheme_id": "s-1",
            }
        ),
    )
    assert form.valid, form.errors
    assert form.data["case_reference"] == "LC-1"
    assert form.data["birth"] == date(2007, 3, 14)
    paid = read(PayForm(), MultiDict({"reference": "R1", "amount": "£1,012.5"}))
    assert paid.valid and paid.data["amount"] == 101250


def test_what_the_page_cannot_read_is_named_in_page_order_with_govuk_words():
    schema = choices(EnrolForm(), "scheme_id", ["s-1"])
    form = read(
        schema,
        MultiDict({"scheme_id": "other", "birth-day": "31", "birth-month": "2", "birth-year": "7"}),
    )
    summary = form.context()["errors"]
    assert summary == [
        {"text": "Enter the case reference", "href": "#case_reference"},
        {"text": "Enter a real date of birth, for example 14 3 2007", "href": "#birth-day"},
        {"text": "Choose the scheme", "href": "#scheme_id"},
    ]
    assert form.status == 400


def test_a_get_reads_nothing_and_names_nothing():
    form = read(PayForm(), MultiDict(), when=False)
    assert form.valid and form.status == 200 and form.context()["errors"] == []


def test_the_services_length_limit_is_named_on_its_field_with_the_services_number():
    form = read(PayForm(), MultiDict({"reference": "R" * 150}))
    assert form.valid  # the page does not know the limit: the budget service does
    form.reject(
        refusal(
            "One or more fields are invalid.",
            {"reference": ["Longer than maximum length 100."]},
        )
    )
    assert form.errors == {"reference": "The payment reference must be 100 characters or fewer"}


def test_a_reduced_payment_without_a_reason_is_named_on_the_reason():
    form = read(PayForm(), MultiDict({"reference": "R1", "amount": "10"}))
    form.reject(
        refusal(
            "A reduced payment needs a written reason.", {"reason": ["Say why less is being paid."]}
        )
    )
    assert form.context()["errors"] == [
        {"text": "Enter why less than the approved amount was paid", "href": "#reason"}
    ]


def test_a_service_field_is_renamed_onto_the_forms_field():
    form = read(PayForm(), MultiDict({"reference": "R1", "amount": "90"}))
    form.reject(
        refusal("A payment can't be more than was approved.", {"amount_pence": ["At most 4500."]})
    )
    assert form.errors == {"amount": "A payment can't be more than was approved."}


def test_too_little_left_names_what_is_left_from_the_services_answer():
    schema = choices(FundForm(), "goal_id", ["g-1"])
    form = read(schema, MultiDict({"goal_id": "g-1", "amount": "600"}))
    form.reject(
        refusal(
            "Only £12.34 is left of this young person's budget.",
            {"amount_pence": ["At most 1234 pence is left."]},
            type="https://phb-suite.example/problems/insufficient-funds",
            remaining_pence=1234,
        )
    )
    assert form.errors == {"amount": "The amount must be £12.34 or less: that is what is left"}


def test_a_refusal_naming_no_field_of_the_form_is_shown_on_its_summary_field():
    form = read(PayForm(), MultiDict({"reference": "R1"}))
    form.reject(refusal("This request is not ordered.", status=409))
    assert form.errors == {"reference": "This request is not ordered."}
    other = read(PayForm(), MultiDict({"reference": "R1"}))
    other.reject(refusal("No such thing.", {"paid_on": ["Not a valid date."]}))
    assert other.errors == {"reference": "No such thing."}


def test_an_empty_reason_the_service_requires_is_asked_for_in_the_decisions_words():
    form = read(DecisionForm(), MultiDict({"decision": "reject", "reason": ""}))
    form.reject(
        refusal(
            "One or more fields are invalid.", {"reason": ["Length must be between 1 and 2000."]}
        )
    )
    assert form.errors == {"reason": "Enter the reason: the advisor and young person will see it"}
    asked = read(DecisionForm(), MultiDict({"decision": "request-info"}))
    asked.reject(
        refusal("A written reason is required.", {"reason": ["A written reason is required."]})
    )
    assert asked.errors == {"reason": "Enter what information you need"}


def test_nested_service_errors_land_on_the_goal_the_advisor_filled_in():
    typed = {"goal-1": "", "goal-2": "Swim", "goal-3": "g" * 3000, "needs": "n" * 5001}
    form = read(PlanForm(), MultiDict(typed))
    form.reject(
        refusal(
            "One or more fields are invalid.",
            {
                "goals": {"1": {"text": ["Length must be between 1 and 2000."]}},
                "needs": ["Longer than maximum length 5000."],
            },
        )
    )
    assert form.context()["field_errors"] == {
        "needs": "What they need must be 5000 characters or fewer",
        "goal-3": "Each goal must be 2000 characters or fewer",
    }
    assert [e["href"] for e in form.context()["errors"]] == ["#needs", "#goal-3"]


def test_a_listings_location_errors_land_on_its_own_inputs():
    schema = choices(NewListingForm(), "category", ["sport"])
    form = read(
        schema, MultiDict({"name": "Swim", "category": "sport", "town": "T" * 90, "postcode": "ZZ"})
    )
    assert form.valid
    form.reject(
        refusal(
            "One or more fields are invalid.",
            {
                "location": {
                    "town": ["Longer than maximum length 80."],
                    "postcode": ["We can't place 'ZZ'."],
                }
            },
        )
    )
    assert form.errors == {
        "town": "The town must be 80 characters or fewer",
        "postcode": "Enter a real postcode, like TN34 1AA",
    }


def test_a_price_needs_what_it_pays_for_even_with_other_errors():
    schema = choices(NewListingForm(), "category", ["sport"])
    form = read(
        schema, MultiDict({"name": "", "category": "sport", "town": "Hastings", "price": "0"})
    )
    assert form.errors == {
        "name": "Enter the name of the activity",
        "unit": "Choose what the price pays for",
    }


@pytest.mark.parametrize(
    ("errors", "flat"),
    [
        ({"a": ["x"]}, {"a": ["x"]}),
        ({"a": {"b": ["x"], "c": {"0": {"d": ["y"]}}}}, {"a.b": ["x"], "a.c.0.d": ["y"]}),
        ({"a": [{"b": ["x"]}, {}]}, {"a.0.b": ["x"]}),
        ({"a": "x"}, {"a": ["x"]}),
        (None, {}),
        (["x"], {}),
    ],
)
def test_a_problems_errors_flatten_to_dotted_fields(errors, flat):
    assert field_messages(errors) == flat


SPEC = {
    "sections": [
        {
            "items": [
                {
                    "key": "swemwbs.1",
                    "text": "I've been feeling optimistic",
                    "type": "numeric",
                    "required": True,
                },
                {
                    "key": "difference",
                    "text": "What difference has it made?",
                    "type": "text",
                    "required": False,
                },
            ]
        }
    ]
}


def test_a_check_in_form_is_built_from_the_outcomes_services_questions():
    schema = feedback_form(SPEC)
    missing = read(schema, MultiDict({}))
    assert missing.context()["errors"] == [
        {"text": "Choose an answer: I've been feeling optimistic", "href": "#q-swemwbs-1"}
    ]
    given = read(schema, MultiDict({"swemwbs.1": "4", "difference": " More friends "}))
    assert given.valid
    assert answers(schema, given.data) == {"swemwbs.1": 4, "difference": "More friends"}


def test_the_outcomes_services_own_words_for_an_answer_are_shown_on_its_question():
    schema = feedback_form(SPEC)
    form = read(schema, MultiDict({"swemwbs.1": "4", "difference": "x" * 1001}))
    form.reject(
        refusal(
            "Some answers need another look.",
            {"difference": ["Please keep this to 1000 characters or fewer."]},
        )
    )
    assert form.context()["errors"] == [
        {"text": "Please keep this to 1000 characters or fewer.", "href": "#q-difference"}
    ]
