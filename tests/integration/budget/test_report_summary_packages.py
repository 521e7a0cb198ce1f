"""Ongoing packages count in the commissioners' report as purchases do, on SQLite and PostgreSQL,
for every budget type: set up (approved, the term held), instalments paid one by one and in a
payment run (paid on the pot's day, the activity started), ended early (the rest released) and a
transfer (the paid history moves pots). The summary kept with each change equals the one computed
from the base tables, the report made from either is the same, and `verify` names a difference."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import update

from services.budget.adapters import report_summary
from services.budget.adapters.report_summary import ReportPerson
from services.budget.service_layer import packages as pk
from services.budget.service_layer import payment_run_settlement, payment_runs, transfers
from services.budget.service_layer import requests as rq
from services.budget.service_layer.commands import CreatePaymentRun, MarkRunPaid
from services.budget.service_layer.commissioning_report import commissioner_report
from services.budget.service_layer.verify import verify_ledger
from shared.clock import utcnow
from shared.db import Database
from tests.integration.budget.factories import (
    ADMIN,
    ADVISOR,
    FINANCE,
    TODAY,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)
from tests.integration.budget.helpers import StubDirectory, migrated

TYPES = ("notional", "third_party", "direct_payment")
PEOPLE = 8  # per scheme: enough that nothing is withheld
MONTHLY = 3_000
FIRST_DAY, RUN_DAY = TODAY, TODAY + timedelta(days=30)


def _package(db: Database, person_id: str, goal_id: str) -> dict:  # type: ignore[type-arg]
    values = {
        "person_id": person_id,
        "goal_id": goal_id,
        "supplier": "Harbour Gym",
        "item": "Gym membership",
        "category": "sport-fitness",
        "frequency": "monthly",
        "instalments": 3,
        "instalment_pence": MONTHLY,
        "starts_on": TODAY,
    }
    return pk.create_package(db, StubDirectory(), ADVISOR, values, today=TODAY)


def _breaches(db: Database) -> list[dict]:  # type: ignore[type-arg]
    with db.session() as s:
        report = verify_ledger(s)
    return [b for b in report.as_dict()["breaches"] if b["invariant"] == "report_summary"]  # type: ignore[index, union-attr]


def _report(db: Database) -> dict:  # type: ignore[type-arg]
    # The packages are set up now (real time) and paid in the test's days: a period covering both.
    end = max(date(2027, 1, 31), utcnow().date() + timedelta(days=1))
    return commissioner_report(db, ADMIN, date(2026, 11, 1), end, today=TODAY)


def test_packages_count_in_the_report_as_the_base_tables_say(database_url):
    db = migrated(database_url)
    pots, people = {}, {}
    for budget_type in TYPES:
        extra = {"third_party_name": "Sussex Brokerage"} if budget_type == "third_party" else {}
        scheme = create_scheme(
            db, name=f"Scheme {budget_type}", budget_type=budget_type, cap_pence=50_000, **extra
        )
        pots[budget_type] = create_pot(db, scheme_id=scheme.id, name=f"Pot {budget_type}")
        people[budget_type] = [create_young_person(db, scheme_id=scheme.id) for _ in range(PEOPLE)]
    packages = {}
    for budget_type in TYPES:
        for n, (person_id, goal_id) in enumerate(people[budget_type]):
            made = _package(db, person_id, goal_id)
            packages[person_id] = made["id"]
            pk.pay_instalment(  # the first alone
                db, FINANCE, made["id"], 1, {"reference": f"BACS-{n}", "paid_on": FIRST_DAY}
            )
            if n == 0:  # and a purchase beside it, paid on the same day
                req = create_request(
                    db, person_id=person_id, goal_id=goal_id, state="approved", amount_pence=900
                )
                rq.pay_request(db, FINANCE, req["id"], {"reference": "B", "paid_on": FIRST_DAY})
    assert not _breaches(db)

    # The second instalment of every package in a run, paid on its day.
    run = payment_runs.create_run(db, CreatePaymentRun(actor=FINANCE, due_by=RUN_DAY))
    assert run["instalment_count"] == PEOPLE * len(TYPES)
    payment_run_settlement.mark_paid(
        db, MarkRunPaid(actor=FINANCE, run_id=run["id"], paid_on=RUN_DAY)
    )
    # Half end early: the third instalment is released, no longer held.
    for person_id, _ in people["notional"][:4] + people["direct_payment"][:4]:
        pk.end_package(db, ADVISOR, packages[person_id], "Moved away")
    assert not _breaches(db)

    report = _report(db)
    assert report["reach"]["total"]["reached"] == {"count": PEOPLE * len(TYPES)}
    by_pot = {p["id"]: p for p in report["pots"]}
    for budget_type, pot in pots.items():
        figures = by_pot[pot.id]
        assert figures["people_paid_in_period"] == {"count": PEOPLE}
        assert figures["paid_in_period_pence"] == PEOPLE * 2 * MONTHLY + 900
        ended = 4 if budget_type != "third_party" else 0
        if ended:  # held for the 4 still going: a small group, so neither it nor what is left
            assert (figures["held_pence"], figures["remaining_pence"]) == (None, None)
            assert figures["paid_to_date_pence"] == figures["paid_in_period_pence"]
        else:
            assert figures["held_pence"] == PEOPLE * MONTHLY
    assert report["speed"]["activity_start"]["people"] == {"count": PEOPLE * len(TYPES)}
    assert report["speed"]["approval"]["people"] == {"count": PEOPLE * len(TYPES)}

    # A transfer moves a young person's paid instalments to their new pot, and ends the package.
    moved, _ = people["third_party"][0]
    transfers.transfer_person(
        db, ADMIN, moved, {"to_scheme_id": pots["notional"].scheme_id, "reason": "Moved"}
    )
    assert not _breaches(db)

    kept = _report(db)
    with db.write() as s:  # the summary from the base tables alone
        report_summary.rebuild(s)
    assert _report(db) == kept
    assert not _breaches(db)


def test_verify_names_a_package_missing_from_the_summary(database_url):
    db = migrated(database_url)
    scheme = create_scheme(db, cap_pence=50_000)
    create_pot(db, scheme_id=scheme.id)
    person_id, goal_id = create_young_person(db, scheme_id=scheme.id)
    made = _package(db, person_id, goal_id)
    pk.pay_instalment(db, FINANCE, made["id"], 1, {"reference": "BACS-1", "paid_on": TODAY})
    assert not _breaches(db)
    with db.write() as s:  # as the summary was before it counted packages
        s.execute(update(ReportPerson).values(held_pence=0, first_paid_on=None))
    found = _breaches(db)
    assert len(found) == 1 and person_id in found[0]["detail"], found
