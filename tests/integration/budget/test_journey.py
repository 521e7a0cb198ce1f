"""The whole journey through the gateway on the seeded suite: enrolment to a paid, evidenced activity.

The seeded suite gives the listings, providers and demo users; each young person is enrolled in a
scheme of the test's own with a pot of its own, so no test spends the demo pot another relies on."""

from __future__ import annotations

import importlib.util
import uuid

from shared.demo import DEMO_PROVIDER_ID, demo_uuid
from tests.integration.web.factories import create_scheme
from tests.support import run_cli

BASE = "/api/budget"
HOLDER = "demo-budget-holder"  # create_scheme assigns them to the test's scheme


def verify_suite_ledger(suite) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(["budget", "verify"], suite.suite.env)
    assert "ledger OK" in result.stdout, result.stdout


def call(suite, method, path, role, sub=None, **kwargs):  # type: ignore[no-untyped-def]
    return suite.api(method, BASE + path, role=role, sub=sub, **kwargs)


def enrol_with_plan(suite, advisor="demo-advisor"):  # type: ignore[no-untyped-def]
    person = call(
        suite,
        "POST",
        "/people",
        "advisor",
        advisor,
        json={
            "scheme_id": create_scheme(suite),
            "case_reference": f"LC-{uuid.uuid4().hex[:6]}",
            "birth_date": "2007-03-14",
            "consent_evaluation": True,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert person.status_code == 201, person.text
    assert person.json()["budget"]["remaining_pence"] == 50_000
    plan = call(
        suite,
        "POST",
        f"/people/{person.json()['id']}/plans",
        "advisor",
        advisor,
        json={
            "needs": "Isolated since moving",
            "goals": [{"text": "Make friends and get out more"}],
        },
    )
    assert plan.status_code == 201, plan.text
    return person.json()["id"], plan.json()["goals"][0]["id"]


def step(suite, request_id, action, role, sub=None, **body):  # type: ignore[no-untyped-def]
    answer = call(
        suite,
        "POST",
        f"/requests/{request_id}/{action}",
        role,
        sub,
        json=body or None,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def finish(suite, request_id):  # type: ignore[no-untyped-def]
    assert (
        step(suite, request_id, "approve", "budget_holder", "demo-budget-holder")["state"]
        == "approved"
    )
    assert (
        step(suite, request_id, "order", "finance", "demo-finance", reference="PO-77")["state"]
        == "ordered"
    )
    paid = step(
        suite,
        request_id,
        "pay",
        "finance",
        "demo-finance",
        reference="BACS-9001",
        paid_on="2026-11-24",
    )
    assert paid["state"] == "paid"
    evidenced = step(
        suite,
        request_id,
        "evidence",
        "advisor",
        "demo-advisor",
        reference="Receipt 4471; attendance confirmed",
        activity_started_on="2026-11-24",
    )
    assert evidenced["state"] == "evidenced"
    closed = step(suite, request_id, "close", "advisor", "demo-advisor")
    assert closed["state"] == "closed"
    return closed


def test_an_advisor_takes_a_young_person_from_enrolment_to_a_paid_evidenced_purchase(suite):
    person_id, goal_id = enrol_with_plan(suite)
    raised = call(
        suite,
        "POST",
        "/requests",
        "advisor",
        "demo-advisor",
        json={
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "Cycle Hub",
            "item": "Push bike and lock",
            "amount_pence": 18_500,
            "submit": True,
        },
    )
    assert raised.status_code == 201, raised.text
    finish(suite, raised.json()["id"])
    person = call(suite, "GET", f"/people/{person_id}", "advisor", "demo-advisor").json()
    assert person["budget"].pop("funding")[0]["amount_pence"] == 50_000
    assert person["budget"] == {
        "allocation_pence": 50_000,
        "held_pence": 0,
        "paid_pence": 18_500,
        "remaining_pence": 31_500,
    }
    history = call(
        suite, "GET", f"/requests/{raised.json()['id']}", "budget_holder", HOLDER
    ).json()["history"]
    assert [h["to_state"] for h in history][-3:] == ["paid", "evidenced", "closed"]
    run = call(suite, "GET", "/payments/run.csv", "finance")
    assert run.status_code == 200 and "BACS-9001" in run.text
    verify_suite_ledger(suite)


def test_another_advisor_cannot_see_or_act_for_the_young_person(suite):
    person_id, goal_id = enrol_with_plan(suite, "demo-advisor")
    assert (
        call(suite, "GET", f"/people/{person_id}", "advisor", "demo-advisor-2").status_code == 404
    )
    raised = call(
        suite,
        "POST",
        "/requests",
        "advisor",
        "demo-advisor-2",
        json={
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "S",
            "item": "I",
            "amount_pence": 100,
        },
    )
    assert raised.status_code == 404
    mine = call(suite, "GET", "/people?per_page=100", "advisor", "demo-advisor-2").json()["items"]
    assert mine and all(p["advisor_sub"] == "demo-advisor-2" for p in mine)
    assert (
        call(
            suite, "GET", f"/people/{person_id}", "provider", provider_id=DEMO_PROVIDER_ID
        ).status_code
        == 403
    )


def test_the_seeded_ledger_is_clean_and_the_report_has_headline_figures(suite):
    report = call(suite, "GET", "/reports/summary", "budget_holder", HOLDER)
    assert report.status_code == 200
    body = report.json()
    assert body["reach"]["cohort"]["count"] >= 80
    assert body["speed"]["approval"]["median_days"] is not None
    assert body["spend"]["total_paid_pence"] > 0
    csv = call(suite, "GET", "/reports/summary?format=csv", "budget_holder", HOLDER)
    assert (
        csv.headers["Content-Type"].startswith("text/csv")
        and "speed,referral_to_approval,median_days," in csv.text
    )
    fresh = call(
        suite, "GET", f"/people/{demo_uuid('person', 0)}", "advisor", "demo-advisor"
    ).json()
    assert fresh["budget"]["remaining_pence"] == 50_000
    assert call(suite, "GET", "/ledger/verify", "admin").json()["ok"] is True
    assert (
        call(
            suite, "GET", "/provider/requests", "provider", provider_id=DEMO_PROVIDER_ID
        ).status_code
        == 200
    )
    verify_suite_ledger(suite)


def _directory_listing(words: tuple[str, ...]) -> str | None:
    """A demo listing whose name and town contain `words`, from the directory's demo catalogue."""
    if importlib.util.find_spec("services.directory.demo_data") is None:
        return None
    from services.directory import demo_data  # type: ignore[attr-defined]

    for n in range(2000):
        try:
            listing = demo_data.listing(n)  # type: ignore[attr-defined]
        except (IndexError, KeyError):
            break
        text = repr(listing).lower()
        if all(w in text for w in words):
            return demo_uuid("listing", n)
    return None


def test_a_salsa_class_in_eastbourne_is_funded_through_the_directory(suite):
    listing_id = _directory_listing(("salsa", "eastbourne"))
    assert listing_id is not None, "no salsa class in Eastbourne in the demo catalogue"
    person_id, goal_id = enrol_with_plan(suite)
    raised = call(
        suite,
        "POST",
        "/requests",
        "advisor",
        "demo-advisor",
        json={"person_id": person_id, "goal_id": goal_id, "listing_id": listing_id, "submit": True},
    )
    assert raised.status_code == 201, raised.text
    request = raised.json()
    assert request["listing_id"] == listing_id and request["amount_pence"] > 0
    if request["state"] == "submitted":
        finish(suite, request["id"])
    verify_suite_ledger(suite)


def test_an_unfundable_listing_is_refused_with_the_directorys_reason(suite):
    unfundable = None
    for n in range(0, 190):
        listing_id = demo_uuid("listing", n)
        answer = suite.api(
            "GET", f"/api/directory/listings/{listing_id}/fundability", role="budget_holder"
        )
        if answer.status_code == 200 and not answer.json()["fundable"]:
            unfundable = answer.json()
            break
    assert unfundable is not None, "the demo catalogue has no unfundable listing"
    person_id, goal_id = enrol_with_plan(suite)
    refused = call(
        suite,
        "POST",
        "/requests",
        "advisor",
        "demo-advisor",
        json={
            "person_id": person_id,
            "goal_id": goal_id,
            "listing_id": unfundable["listing_id"],
            "amount_pence": 1000,
        },
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/not-fundable")
    assert refused.json()["reasons"] == unfundable["reasons"]
    mine = call(suite, "GET", f"/requests?person_id={person_id}", "advisor", "demo-advisor")
    assert mine.json()["total"] == 0
    verify_suite_ledger(suite)
