"""The commissioners' report summary is kept with every change it depends on, on SQLite and
PostgreSQL: approvals, activity, payments one by one and by payment run, recoveries, cancellations
and transfers; `verify` compares it with what the requests say and names any difference."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import exists, select, update

from services.budget.adapters import report_periods, report_summary
from services.budget.adapters.orm import PurchaseRequest
from services.budget.adapters.report_summary import ReportPerson, ReportPotDay
from services.budget.seed import seed
from services.budget.service_layer import payment_run_settlement, payment_runs, transfers
from services.budget.service_layer import requests as rq
from services.budget.service_layer.commands import CreatePaymentRun, MarkRunPaid
from services.budget.service_layer.verify import verify_ledger
from shared.db import Database
from tests.integration.budget.factories import (
    ADMIN,
    ADVISOR,
    FINANCE,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)
from tests.integration.budget.helpers import migrated


def _people(db: Database) -> dict[str, tuple[object, ...]]:
    with db.session() as s:
        return {
            r.person_id: (
                r.first_approved_at is not None,
                r.first_activity_on,
                r.first_paid_on,
                r.held_pence,
            )
            for r in s.scalars(select(ReportPerson))
        }


def _pot_days(db: Database) -> dict[tuple[str, date], int]:
    with db.session() as s:
        return {(r.pot_id, r.day): r.paid_pence for r in s.scalars(select(ReportPotDay))}


def _clean(db: Database) -> None:
    with db.session() as s:
        report = verify_ledger(s)
    assert report.ok, report.breaches
    assert report.checked["report_summary_rows"] > 0


def test_every_change_keeps_the_summary_equal_to_the_requests(database_url):
    db = migrated(database_url)
    scheme = create_scheme(db)
    pot = create_pot(db, scheme_id=scheme.id)
    person, goal = create_young_person(db, scheme_id=scheme.id)
    paid_on = date(2026, 11, 2)

    held = create_request(db, person_id=person, goal_id=goal, state="approved", amount_pence=2_000)
    ordered = create_request(db, person_id=person, goal_id=goal, state="ordered", amount_pence=500)
    create_request(db, person_id=person, goal_id=goal, state="submitted", amount_pence=900)
    assert _people(db) == {person: (True, None, None, 2_500)}
    assert _pot_days(db) == {}

    rq.pay_request(db, FINANCE, held["id"], {"reference": "BACS-1", "paid_on": paid_on})
    assert _people(db) == {person: (True, None, paid_on, 500)}
    assert _pot_days(db) == {(pot.id, paid_on): 2_000}

    started = date(2026, 11, 5)
    rq.add_evidence(
        db, ADVISOR, held["id"], {"reference": "receipt", "activity_started_on": started}
    )
    rq.recover_request(db, FINANCE, held["id"], 300, "Refund for a cancelled session")
    rq.cancel_request(db, ADVISOR, ordered["id"], "No longer needed")
    assert _people(db) == {person: (True, started, paid_on, 0)}
    assert _pot_days(db) == {(pot.id, paid_on): 1_700}
    _clean(db)


def test_a_payment_run_and_a_transfer_move_the_summary_in_bulk(database_url):
    db = migrated(database_url)
    scheme = create_scheme(db, name="Leavers")
    pot = create_pot(db, scheme_id=scheme.id)
    other = create_scheme(db, name="Adults")
    other_pot = create_pot(db, scheme_id=other.id, name="Adults' grant")
    a, goal_a = create_young_person(db, scheme_id=scheme.id)
    b, goal_b = create_young_person(db, scheme_id=scheme.id)
    for person, goal, pence in ((a, goal_a, 1_000), (a, goal_a, 2_000), (b, goal_b, 4_000)):
        create_request(db, person_id=person, goal_id=goal, state="approved", amount_pence=pence)
    run = payment_runs.create_run(db, CreatePaymentRun(actor=FINANCE))
    assert _people(db)[a][3] == 3_000  # in a run, still held

    day = date(2026, 11, 20)
    payment_run_settlement.mark_paid(db, MarkRunPaid(actor=FINANCE, run_id=run["id"], paid_on=day))
    assert {p: v[2:] for p, v in _people(db).items()} == {a: (day, 0), b: (day, 0)}
    assert _pot_days(db) == {(pot.id, day): 7_000}
    _clean(db)

    transfers.transfer_person(db, ADMIN, b, {"to_scheme_id": other.id, "reason": "Moved"})
    assert _pot_days(db) == {(pot.id, day): 3_000, (other_pot.id, day): 4_000}
    _clean(db)


def test_verify_names_a_summary_that_differs_from_the_requests(database_url):
    db = migrated(database_url)
    scheme = create_scheme(db)
    create_pot(db, scheme_id=scheme.id)
    person, goal = create_young_person(db, scheme_id=scheme.id)
    create_request(db, person_id=person, goal_id=goal, state="paid", amount_pence=1_500)
    _clean(db)
    with db.write() as s:
        s.execute(update(ReportPotDay).values(paid_pence=ReportPotDay.paid_pence + 1))
        s.execute(update(ReportPerson).values(first_approved_at=datetime(2020, 1, 1, tzinfo=UTC)))
    with db.session() as s:
        breaches = verify_ledger(s).as_dict()["breaches"]
    found = [b for b in breaches if b["invariant"] == "report_summary"]  # type: ignore[index]
    assert len(found) == 2, breaches
    assert any("report_people" in b["detail"] for b in found)  # type: ignore[index]
    assert any("report_pot_days" in b["detail"] for b in found)  # type: ignore[index]

    with db.write() as s:
        report_summary.rebuild(s)
    _clean(db)


def test_the_demo_seed_fills_the_summary(tmp_path):
    db = migrated(f"sqlite:///{tmp_path / 'seed.db'}")
    seed(db)
    assert _people(db) and _pot_days(db)
    _clean(db)


def test_who_was_approved_or_paid_in_a_period_is_read_from_the_first_and_last_dates(database_url):
    """Reach and the young people paid: the first and last dates answer, and the requests are
    asked only when the period lies strictly between them (a gap in the middle is not activity)."""
    db = migrated(database_url)
    scheme = create_scheme(db)
    create_pot(db, scheme_id=scheme.id)
    people = {}
    for name, days in (("gap", (1, 30)), ("middle", (1, 15, 30)), ("early", (1,)), ("late", (30,))):
        person, goal = create_young_person(db, scheme_id=scheme.id)
        people[name] = person
        for day in days:
            req = create_request(db, person_id=person, goal_id=goal, state="paid")
            with db.write() as s:  # the days are the test's: approved and paid that day of May
                s.execute(
                    update(PurchaseRequest)
                    .where(PurchaseRequest.id == req["id"])
                    .values(
                        approved_at=datetime(2026, 5, day, 12, tzinfo=UTC),
                        paid_on=date(2026, 5, day),
                    )
                )
    with db.write() as s:
        report_summary.rebuild(s)
    _clean(db)
    names = {v: k for k, v in people.items()}

    def active(lo: date, hi: date) -> tuple[set[str], set[str]]:
        rp = ReportPerson
        found = []
        with db.session() as s:
            for first, last, column, low, high in (
                (
                    rp.first_approved_at,
                    rp.last_approved_at,
                    PurchaseRequest.approved_at,
                    datetime.combine(lo, datetime.min.time(), UTC),
                    datetime.combine(hi, datetime.min.time(), UTC),
                ),
                (rp.first_paid_on, rp.last_paid_on, PurchaseRequest.paid_on, lo, hi),
            ):
                probe = (
                    exists()
                    .where(PurchaseRequest.person_id == rp.person_id, column >= low, column < high)
                    .correlate(rp)
                )
                ids = s.scalars(
                    select(rp.person_id).where(
                        report_periods.active_in(first, last, low, high, probe)
                    )
                )
                found.append({names[i] for i in ids})
        return found[0], found[1]

    both = active(date(2026, 5, 10), date(2026, 5, 20))  # between first and last: asked
    assert both == ({"middle"}, {"middle"})
    assert active(date(2026, 5, 1), date(2026, 5, 2)) == ({"gap", "middle", "early"},) * 2
    assert active(date(2026, 5, 30), date(2026, 6, 1)) == ({"gap", "middle", "late"},) * 2
    assert active(date(2026, 6, 1), date(2026, 7, 1)) == (set(), set())
