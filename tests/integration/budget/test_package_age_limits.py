"""Packages, age limits and transfers in the service layer on a real database (SQLite and
PostgreSQL): refused past the limit, ended by a transfer with the ledger clean, on the worklist."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.budget.domain.packages import PackagePastAgeLimit
from services.budget.domain.rules import AgeLimitReached
from services.budget.service_layer import packages as pk
from services.budget.service_layer import people, transfers
from services.budget.service_layer.worklist import worklist
from shared.errors import Conflict
from tests.integration.budget import factories
from tests.integration.budget.helpers import ADMIN, ADVISOR, TODAY, StubDirectory, migrated
from tests.integration.budget.test_service_layer import assert_ledger_clean


@pytest.fixture
def db(database_url):
    database = migrated(database_url)
    yield database
    database.dispose()


def reaching(limit: date, age: int) -> date:
    return limit.replace(year=limit.year - age)


def person_on(db, scheme_id: str, born: date) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    person = factories.create_person(db, scheme_id=scheme_id, birth_date=born)
    plan = factories.create_plan(db, person_id=person.id)
    return person.id, plan["goals"][0]["id"]


def gym(person_id: str, goal_id: str, months: int) -> dict:  # type: ignore[type-arg]
    return {
        "person_id": person_id,
        "goal_id": goal_id,
        "supplier": "Harbour Gym",
        "item": "Gym membership",
        "category": "sport-fitness",
        "frequency": "monthly",
        "instalments": months,
        "instalment_pence": 3_000,
        "starts_on": TODAY,
    }


def care_leavers(db) -> str:  # type: ignore[no-untyped-def]
    scheme = factories.create_scheme(db)  # 16-25
    factories.create_pot(db, scheme_id=scheme.id, amount_pence=1_000_000)
    return scheme.id


def test_a_package_past_the_age_limit_is_refused_naming_what_fits(db):
    limit = TODAY + timedelta(days=45)
    person_id, goal_id = person_on(db, care_leavers(db), reaching(limit, 26))
    with pytest.raises(PackagePastAgeLimit) as refused:
        pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id, 3), today=TODAY)
    assert refused.value.status == 409
    assert refused.value.extra["rule"] == "package-past-age-limit"
    assert refused.value.extra["instalments_that_fit"] == 2
    assert people.get_person(db, ADMIN, person_id)["budget"]["held_pence"] == 0
    made = pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id, 2), today=TODAY)
    assert made["held_pence"] == 6_000
    assert_ledger_clean(db)


def test_on_the_limit_day_no_package_is_set_up(db):
    person_id, goal_id = person_on(db, care_leavers(db), reaching(TODAY + timedelta(days=1), 26))
    limit_day = TODAY + timedelta(days=1)
    values = gym(person_id, goal_id, 1) | {"starts_on": limit_day}
    with pytest.raises(AgeLimitReached):
        pk.create_package(db, StubDirectory(), ADVISOR, values, today=limit_day)


def test_a_person_who_left_gets_no_package(db):
    person_id, goal_id = person_on(db, care_leavers(db), date(2006, 5, 1))
    transfers.transfer_person(
        db, ADVISOR, person_id, {"to_council": "Fictional Borough", "reason": "Moved"}, today=TODAY
    )
    with pytest.raises(Conflict) as refused:
        pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id, 1), today=TODAY)
    assert refused.value.extra["rule"] == "person-transferred-out"


def test_a_transfer_ends_live_packages_and_the_ledger_stays_clean(db):
    old = care_leavers(db)
    new = care_leavers(db)
    person_id, goal_id = person_on(db, old, date(2006, 5, 1))
    made = pk.create_package(db, StubDirectory(), ADVISOR, gym(person_id, goal_id, 4), today=TODAY)
    moved = transfers.transfer_person(
        db, ADVISOR, person_id, {"to_scheme_id": new, "reason": "Aftercare"}, today=TODAY
    )
    assert moved["packages_ended"] == [
        {"id": made["id"], "item": "Gym membership", "released_pence": 12_000}
    ]
    assert moved["transfer"]["remaining_pence"] == 50_000  # the rest came back before settling
    ended = pk.get_package(db, ADMIN, made["id"])
    assert ended["state"] == "ended" and ended["held_pence"] == 0
    kinds = [m["kind"] for m in transfers.history_of(db, ADVISOR, person_id)]
    assert kinds == ["allocation", "package_hold", "package_release", "return", "allocation"]
    assert_ledger_clean(db)


def test_a_live_package_of_someone_near_the_limit_is_on_the_worklist(db):
    scheme_id = care_leavers(db)
    limit = TODAY + timedelta(days=60)
    near, goal_id = person_on(db, scheme_id, reaching(limit, 26))
    made = pk.create_package(db, StubDirectory(), ADVISOR, gym(near, goal_id, 1), today=TODAY)
    far, far_goal = person_on(db, scheme_id, date(2006, 5, 1))
    pk.create_package(db, StubDirectory(), ADVISOR, gym(far, far_goal, 1), today=TODAY)
    work = worklist(db, ADVISOR, TODAY, ["package_ageing_out"])
    assert [(i["person_id"], i["subject_id"], i["days_late"]) for i in work["items"]] == [
        (near, made["id"], -60)
    ]
    assert work["counts"]["package_ageing_out"] == 1
