"""Ongoing packages on a real database (SQLite and PostgreSQL): the term held, instalments paid once,
an early ending releasing exactly the rest, and the ledger clean after every step and every race."""

from __future__ import annotations

from datetime import date

import pytest

from services.budget.service_layer import packages as pk
from services.budget.service_layer import people
from services.budget.service_layer import requests as rq
from services.budget.service_layer.fundability import InsufficientBudget
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.integration.budget.helpers import (
    ADMIN,
    ADVISOR,
    ADVISOR_2,
    FINANCE,
    HOLDER,
    TODAY,
    StubDirectory,
    funded_scheme,
    migrated,
    person_with_plan,
)
from tests.integration.budget.test_race import race, verify_cli_is_clean
from tests.integration.budget.test_service_layer import assert_ledger_clean


@pytest.fixture
def db(database_url):
    database = migrated(database_url)
    yield database
    database.dispose()


def gym(person_id: str, goal_id: str, **values) -> dict:  # type: ignore[no-untyped-def]
    """A gym membership from a named supplier, £30 a month for a year, starting on TODAY."""
    return {
        "person_id": person_id,
        "goal_id": goal_id,
        "supplier": "Harbour Gym",
        "item": "Gym membership",
        "category": "sport-fitness",
        "frequency": "monthly",
        "instalments": 12,
        "instalment_pence": 3_000,
        "starts_on": TODAY,
        **values,
    }


def budget(db, person_id: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The young person's money; the one pot funding it all must match the allocation."""
    money = people.get_person(db, ADMIN, person_id)["budget"]
    (funding,) = money.pop("funding")
    assert funding["amount_pence"] == money["allocation_pence"]
    return dict(money)


def test_a_monthly_package_holds_its_whole_term_and_schedules_each_month(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    made = pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id), today=TODAY)
    assert (made["state"], made["amount_pence"], made["held_pence"]) == ("active", 36_000, 36_000)
    assert [i["due_on"] for i in made["schedule"][:3]] == [
        date(2026, 11, 24),
        date(2026, 12, 24),
        date(2027, 1, 24),
    ]
    assert made["schedule"][-1]["due_on"] == date(2027, 10, 24)
    assert budget(db, person_id) == {
        "allocation_pence": 50_000,
        "held_pence": 36_000,
        "paid_pence": 0,
        "remaining_pence": 14_000,
    }
    assert_ledger_clean(db)


def test_a_weekly_package_falls_due_every_seven_days(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    values = gym(person_id, goal_id, frequency="weekly", instalments=4, item="Support worker")
    made = pk.create_package(db, StubDirectory(), ADVISOR, values, today=TODAY)
    assert [i["due_on"].day for i in made["schedule"]] == [24, 1, 8, 15]


def test_each_payment_posts_one_instalment_and_the_last_completes_the_package(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    values = gym(person_id, goal_id, instalments=3)
    made = pk.create_package(db, StubDirectory(), ADVISOR, values, today=TODAY)
    first = pk.pay_instalment(db, FINANCE, made["id"], 1, {"reference": "BACS-1"})
    assert (first["held_pence"], first["paid_pence"], first["state"]) == (6_000, 3_000, "active")
    assert first["schedule"][0]["state"] == "paid"
    assert first["schedule"][0]["paid_by"] == FINANCE.sub
    assert_ledger_clean(db)
    pk.pay_instalment(db, FINANCE, made["id"], 3, {"reference": "BACS-3"})
    done = pk.pay_instalment(db, FINANCE, made["id"], 2, {"reference": "BACS-2"})
    assert (done["state"], done["held_pence"], done["paid_pence"]) == ("completed", 0, 9_000)
    assert done["actions"] == []
    assert budget(db, person_id)["paid_pence"] == 9_000
    assert_ledger_clean(db)


def test_an_instalment_is_paid_only_once(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    made = pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id), today=TODAY)
    pk.pay_instalment(db, FINANCE, made["id"], 1, {"reference": "BACS-1"})
    with pytest.raises(Conflict) as err:
        pk.pay_instalment(db, FINANCE, made["id"], 1, {"reference": "BACS-again"})
    assert "Instalment 1 is paid" in err.value.detail
    with pytest.raises(NotFound):
        pk.pay_instalment(db, FINANCE, made["id"], 13, {"reference": "BACS-13"})
    assert budget(db, person_id)["paid_pence"] == 3_000
    assert_ledger_clean(db)


def test_ending_early_releases_exactly_the_instalments_not_yet_paid(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    made = pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id), today=TODAY)
    for number in (1, 2):
        pk.pay_instalment(db, FINANCE, made["id"], number, {"reference": f"BACS-{number}"})
    ended = pk.end_package(db, ADVISOR, made["id"], "Moved to Brighton")
    assert (ended["state"], ended["reason"], ended["ended_by"]) == (
        "ended",
        "Moved to Brighton",
        ADVISOR.sub,
    )
    assert [i["state"] for i in ended["schedule"]] == ["paid"] * 2 + ["cancelled"] * 10
    assert budget(db, person_id) == {
        "allocation_pence": 50_000,
        "held_pence": 0,
        "paid_pence": 6_000,
        "remaining_pence": 44_000,
    }
    with pytest.raises(Conflict):
        pk.pay_instalment(db, FINANCE, made["id"], 3, {"reference": "BACS-3"})
    with pytest.raises(Conflict):
        pk.end_package(db, ADVISOR, made["id"], "again")
    assert_ledger_clean(db)


def test_ending_needs_a_written_reason(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    made = pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id), today=TODAY)
    with pytest.raises(ValidationFailed) as err:
        pk.end_package(db, ADVISOR, made["id"], "  ")
    assert "reason" in err.value.errors
    assert pk.get_package(db, ADVISOR, made["id"])["state"] == "active"


def test_a_term_larger_than_what_is_left_is_refused_and_holds_nothing(db):
    scheme_id, _ = funded_scheme(db, cap=30_000)
    person_id, goal_id = person_with_plan(db, scheme_id)
    with pytest.raises(InsufficientBudget) as err:
        pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id), today=TODAY)
    assert err.value.extra["remaining_pence"] == 30_000
    assert pk.list_packages(db, ADMIN, {}, 1, 10).total == 0
    assert budget(db, person_id)["held_pence"] == 0
    assert_ledger_clean(db)


def test_a_bad_term_names_every_bad_field(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    with pytest.raises(ValidationFailed) as err:
        pk.create_package(
            db,
            StubDirectory(),
            ADVISOR,
            gym(person_id, goal_id, instalments=25, starts_on=date(2026, 11, 1)),
            today=TODAY,
        )
    assert set(err.value.errors) == {"starts_on"}
    with pytest.raises(ValidationFailed) as err:
        pk.create_package(
            db, StubDirectory(), ADVISOR, gym(person_id, goal_id, instalments=25), today=TODAY
        )
    assert set(err.value.errors) == {"instalments"}


def test_a_package_for_an_excluded_category_is_refused(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    with pytest.raises(ValidationFailed) as err:
        pk.create_package(
            db,
            StubDirectory(),
            ADVISOR,
            gym(person_id, goal_id, category="gambling"),
            today=TODAY,
        )
    assert "category" in err.value.errors


def test_a_listing_package_takes_its_price_from_the_directory(db):
    directory = StubDirectory()
    listing = directory.add("9b0c1d2e-0000-4000-8000-000000000001", price=2_500)
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    values = gym(person_id, goal_id, listing_id=listing, instalment_pence=None, supplier=None)
    made = pk.create_package(db, directory, ADVISOR, values, today=TODAY)
    assert (made["instalment_pence"], made["amount_pence"]) == (2_500, 30_000)
    assert made["provider_id"] == "prov-9b0c"


def test_another_caseload_and_other_roles_can_neither_see_nor_act(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    with pytest.raises(NotFound):
        pk.create_package(db, StubDirectory(), ADVISOR_2, gym(person_id, goal_id), today=TODAY)
    made = pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id), today=TODAY)
    with pytest.raises(NotFound):
        pk.get_package(db, ADVISOR_2, made["id"])
    with pytest.raises(NotFound):
        pk.end_package(db, ADVISOR_2, made["id"], "not mine")
    assert pk.list_packages(db, ADVISOR_2, {}, 1, 10).total == 0
    assert pk.list_packages(db, HOLDER, {}, 1, 10).total == 1
    with pytest.raises(Forbidden):
        pk.pay_instalment(db, ADVISOR, made["id"], 1, {"reference": "x"})
    with pytest.raises(Forbidden):
        pk.create_package(db, StubDirectory(), HOLDER, gym(person_id, goal_id), today=TODAY)
    assert pk.get_package(db, FINANCE, made["id"])["actions"] == ["pay"]
    assert pk.get_package(db, ADVISOR, made["id"])["actions"] == ["end"]


def test_whoever_set_up_a_package_may_not_pay_it(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    made = pk.create_package(db, StubDirectory(), ADMIN, gym(person_id, goal_id), today=TODAY)
    assert "pay" not in made["actions"]
    with pytest.raises(Forbidden):
        pk.pay_instalment(db, ADMIN, made["id"], 1, {"reference": "BACS-1"})


def test_packages_and_requests_share_one_budget(db):
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id), today=TODAY)
    with pytest.raises(InsufficientBudget):
        rq.create_request(
            db,
            StubDirectory(),
            ADVISOR,
            {
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "Bikes",
                "item": "bike",
                "amount_pence": 15_000,
            },
        )
    assert_ledger_clean(db)


# --- over real HTTP ---------------------------------------------------------------------------


def _http_package(budget_server, instalments: int = 12):  # type: ignore[no-untyped-def]
    db = budget_server.db
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    body = gym(person_id, goal_id, instalments=instalments, starts_on=None)
    body.pop("starts_on")
    answer = budget_server.post("/packages", "advisor", json=body)
    assert answer.status_code == 201, answer.text
    return person_id, answer.json()


def test_racing_payments_of_one_instalment_pay_it_once(budget_server):
    person_id, made = _http_package(budget_server)
    path = f"/packages/{made['id']}/instalments/1/pay"
    answers = race(
        [
            (
                lambda s, n=n: budget_server.post(
                    path, "finance", session=s, json={"reference": f"B{n}"}
                )
            )
            for n in range(16)
        ]
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 15
    refused = next(a for a in answers if a.status_code == 409)
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert budget(budget_server.db, person_id)["paid_pence"] == 3_000
    assert_ledger_clean(budget_server.db)
    verify_cli_is_clean(budget_server)


def test_an_ending_racing_payments_releases_exactly_what_was_not_paid(budget_server):
    person_id, made = _http_package(budget_server)
    pay = [
        (
            lambda s, n=n: budget_server.post(
                f"/packages/{made['id']}/instalments/{n}/pay",
                "finance",
                session=s,
                json={"reference": f"B{n}"},
            )
        )
        for n in range(1, 12)
    ]
    end = [
        lambda s: budget_server.post(
            f"/packages/{made['id']}/end", "advisor", session=s, json={"reason": "Stopped going"}
        )
    ]
    answers = race([*pay, *end])
    paid = sum(1 for a in answers[:-1] if a.status_code == 200)
    assert {a.status_code for a in answers[:-1]} <= {200, 409}
    assert answers[-1].status_code == 200, answers[-1].text
    ended = budget_server.get(f"/packages/{made['id']}", "advisor").json()
    assert ended["state"] == "ended"
    assert [i["state"] for i in ended["schedule"]].count("paid") == paid
    assert budget(budget_server.db, person_id) == {
        "allocation_pence": 50_000,
        "held_pence": 0,
        "paid_pence": paid * 3_000,
        "remaining_pence": 50_000 - paid * 3_000,
    }
    assert_ledger_clean(budget_server.db)
    verify_cli_is_clean(budget_server)


def test_racing_packages_never_hold_more_than_the_budget(budget_server):
    db = budget_server.db
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    body = gym(person_id, goal_id, instalments=4)  # £120 each: four fit in £500
    body.pop("starts_on")
    answers = race(
        [
            (lambda s: budget_server.post("/packages", "advisor", session=s, json=body))
            for _ in range(12)
        ]
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 4 + [422] * 8
    assert budget(db, person_id)["held_pence"] == 48_000
    assert_ledger_clean(db)


def test_a_retried_payment_with_its_key_is_replayed_not_paid_twice(budget_server):
    person_id, made = _http_package(budget_server)
    path = f"/packages/{made['id']}/instalments/2/pay"
    headers = {"Idempotency-Key": "pay-2"}
    first = budget_server.post(path, "finance", headers=headers, json={"reference": "B2"})
    again = budget_server.post(path, "finance", headers=headers, json={"reference": "B2"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.text == first.text and again.headers["Idempotent-Replayed"] == "true"
    other = budget_server.post(path, "finance", headers=headers, json={"reference": "B3"})
    assert other.status_code == 422
    assert budget(budget_server.db, person_id)["paid_pence"] == 3_000
    assert_ledger_clean(budget_server.db)


def test_bad_package_bodies_are_refused_naming_every_field(budget_server):
    answer = budget_server.post(
        "/packages",
        "advisor",
        json={"frequency": "yearly", "instalments": 0, "instalment_pence": -1},
    )
    assert answer.status_code == 422
    assert answer.headers["Content-Type"] == "application/problem+json"
    named = set(answer.json()["errors"])
    assert named >= {"person_id", "goal_id", "frequency", "instalments", "instalment_pence"}
