"""Each young person's scheme, pot and referral day on the report summary (`report_people`,
migration 0016) stay what `people` says through every path that moves them, on SQLite and
PostgreSQL: enrolment (the row is made at the first approval, or by a package or a payment run),
reassignment to another advisor, a transfer to another scheme onto a named pot or the first that
can cover it, and a transfer back. The commissioners' report, which no longer joins `people`,
equals the straightforward computation from the requests and `people`."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select, update

from services.budget.adapters.orm import Person, PurchaseRequest
from services.budget.adapters.report_summary import ReportPerson
from services.budget.domain import rules
from services.budget.service_layer import payment_run_settlement, payment_runs, people, transfers
from services.budget.service_layer.commands import (
    CreatePaymentRun,
    EnrolPerson,
    MarkRunPaid,
    ReassignPerson,
)
from services.budget.service_layer.commissioning import Period
from services.budget.service_layer.commissioning_pots import pot_figures
from services.budget.service_layer.commissioning_report import commissioner_report
from services.budget.service_layer.unit_of_work import as_uow
from services.budget.service_layer.verify import verify_ledger
from shared.clock import utcnow
from shared.db import Database
from tests.integration.budget.factories import (
    ADMIN,
    ADVISOR,
    FINANCE,
    TODAY,
    create_plan,
    create_pot,
    create_request,
    create_scheme,
)
from tests.integration.budget.helpers import migrated


def _enrol(db: Database, scheme_id: str, referred_days_ago: int, pot_id: str | None = None) -> Any:
    cmd = EnrolPerson(
        actor=ADVISOR,
        scheme_id=scheme_id,
        case_reference=f"LC-place-{referred_days_ago}-{scheme_id[:6]}",
        birth_date=date(2006, 5, 1),
        pot_id=pot_id,
        referred_on=TODAY - timedelta(days=referred_days_ago),
    )
    person = people.enrol_person(cmd, as_uow(db), today=TODAY)
    goal = create_plan(db, person_id=person.id)["goals"][0]["id"]
    return person.id, goal


def _places(db: Database) -> dict[str, tuple[str, str, date]]:
    """Each summary row's (scheme, pot, referral day), and the same from `people`: equal."""
    with db.session() as s:
        kept = {
            r.person_id: (r.scheme_id, r.pot_id, r.referred_on)
            for r in s.scalars(select(ReportPerson))
        }
        actual = {
            p.id: (p.scheme_id, p.pot_id, p.referred_on)
            for p in s.scalars(select(Person).where(Person.id.in_(kept)))
        }
        report = verify_ledger(s)
    assert kept == actual
    assert report.ok, report.breaches
    return kept


def test_scheme_pot_and_referral_follow_every_path_that_moves_a_young_person(database_url):
    db = migrated(database_url)
    leavers, adults = create_scheme(db, name="Leavers"), create_scheme(db, name="Adults")
    first, second = (
        create_pot(db, scheme_id=leavers.id, name="Leavers' grant"),
        create_pot(db, scheme_id=leavers.id, name="Leavers' top-up"),
    )
    adults_first, adults_second = (
        create_pot(db, scheme_id=adults.id, name="Adults' grant"),
        create_pot(db, scheme_id=adults.id, name="Adults' top-up"),
    )
    mover, goal = _enrol(db, leavers.id, 30, pot_id=second.id)
    stayer, stayer_goal = _enrol(db, leavers.id, 12, pot_id=first.id)
    assert _places(db) == {}  # enrolled, nothing asked for yet: no row

    create_request(db, person_id=mover, goal_id=goal, state="submitted")
    assert _places(db) == {}  # submitted is not approved: still no row
    create_request(db, person_id=mover, goal_id=goal, state="approved", amount_pence=1_000)
    referred = TODAY - timedelta(days=30)
    assert _places(db) == {mover: (leavers.id, second.id, referred)}  # made at the first approval

    people.reassign_person(
        ReassignPerson(actor=ADMIN, person_id=mover, advisor_sub="a-2"), as_uow(db)
    )
    assert _places(db)[mover] == (leavers.id, second.id, referred)  # another caseload, same place

    create_request(db, person_id=stayer, goal_id=stayer_goal, state="approved")
    run = payment_runs.create_run(db, CreatePaymentRun(actor=FINANCE))
    payment_run_settlement.mark_paid(
        db, MarkRunPaid(actor=FINANCE, run_id=run["id"], paid_on=TODAY)
    )
    assert _places(db) == {
        mover: (leavers.id, second.id, referred),
        stayer: (leavers.id, first.id, TODAY - timedelta(days=12)),
    }

    values = {"to_scheme_id": adults.id, "pot_id": adults_second.id, "reason": "Moved"}
    transfers.transfer_person(db, ADMIN, mover, values)
    assert _places(db)[mover] == (adults.id, adults_second.id, referred)  # the pot named

    transfers.transfer_person(db, ADMIN, mover, {"to_scheme_id": leavers.id, "reason": "Back"})
    back = _places(db)[mover]  # the scheme's first pot that can cover it (as `people` says)
    assert back[0] == leavers.id and back[1] in (first.id, second.id) and back[2] == referred
    assert _places(db)[stayer] == (leavers.id, first.id, TODAY - timedelta(days=12))

    # Someone transferred before anything was approved gets their row on the new scheme.
    late, late_goal = _enrol(db, leavers.id, 40)
    transfers.transfer_person(db, ADMIN, late, {"to_scheme_id": adults.id, "reason": "Moved"})
    create_request(db, person_id=late, goal_id=late_goal, state="paid")
    scheme_id, pot_id, referred_on = _places(db)[late]
    assert (scheme_id, referred_on) == (adults.id, TODAY - timedelta(days=40))
    assert pot_id in (adults_first.id, adults_second.id)


def _straight_figures(db: Database, start: date, end: date, scheme_id: str | None) -> dict:  # type: ignore[type-arg]
    """Reach per scheme, each pot's young people and held money, and the median days from
    referral to the first approval, straight from the requests and `people` (no summary)."""
    lo, hi = start, end + timedelta(days=1)
    pr = PurchaseRequest
    in_scope = (Person.scheme_id == scheme_id) if scheme_id else Person.id.is_not(None)
    with db.session() as s:
        reach = dict(
            s.execute(
                select(Person.scheme_id, func.count(func.distinct(pr.person_id)))
                .join(Person, Person.id == pr.person_id)
                .where(pr.approved_at >= _at(lo), pr.approved_at < _at(hi), in_scope)
                .group_by(Person.scheme_id)
            ).all()
        )
        held = case((pr.state.in_(sorted(rules.HOLDING_STATES)), pr.amount_pence), else_=0)
        per_person = (
            select(
                pr.person_id,
                Person.pot_id,
                func.min(pr.paid_on).label("first_paid"),
                func.sum(held).label("held"),
                func.max(
                    case((pr.paid_on >= lo, case((pr.paid_on < hi, 1), else_=0)), else_=0)
                ).label("paid_in_period"),
            )
            .join(Person, Person.id == pr.person_id)
            .group_by(pr.person_id, Person.pot_id)
        ).subquery()
        pots = {}
        for r in s.execute(select(per_person)).all():
            if not ((r.first_paid is not None and r.first_paid <= end) or r.held > 0):
                continue
            people_, pence, paid = pots.get(r.pot_id, (0, 0, 0))
            pots[r.pot_id] = (people_ + 1, pence + int(r.held), paid + int(r.paid_in_period))
        firsts = s.execute(
            select(func.min(pr.approved_at), Person.referred_on)
            .join(Person, Person.id == pr.person_id)
            .where(in_scope)
            .group_by(pr.person_id, Person.referred_on)
        ).all()
    days = [
        (first.date() - referred).days
        for first, referred in firsts
        if first is not None and lo <= first.date() < hi
    ]
    return {
        "reach": reach,
        "pots": pots,
        "approval": (statistics.median(days) if days else None, len(days)),
    }


def _at(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def test_the_report_without_people_equals_the_straightforward_computation(database_url):
    db = migrated(database_url)
    leavers, adults = create_scheme(db, name="Leavers"), create_scheme(db, name="Adults")
    leavers_pots = [create_pot(db, scheme_id=leavers.id, name=name) for name in ("Grant", "Top-up")]
    adults_pot = create_pot(db, scheme_id=adults.id, name="Adults' grant")
    pot_scheme = {pot.id: leavers.id for pot in leavers_pots} | {adults_pot.id: adults.id}
    everyone = []
    for n in range(12):  # referred 5..60 days ago; half paid, half still held
        person, goal = _enrol(db, leavers.id, 5 + 5 * n, pot_id=leavers_pots[n % 2].id)
        create_request(db, person_id=person, goal_id=goal, state="paid", amount_pence=1_000 + n)
        if n % 3 == 0:
            create_request(db, person_id=person, goal_id=goal, state="approved", amount_pence=700)
        everyone.append(person)
    for n in range(10):
        person, goal = _enrol(db, adults.id, 3 + 7 * n)
        create_request(db, person_id=person, goal_id=goal, state="paid", amount_pence=2_000 + n)
    for person in everyone[:3]:  # paid, nothing held: they may move, and their history with them
        if person not in everyone[::3]:
            transfers.transfer_person(
                db, ADMIN, person, {"to_scheme_id": adults.id, "reason": "Moved"}
            )
    _places(db)

    start, end = date(2026, 11, 1), max(date(2027, 1, 31), utcnow().date() + timedelta(days=1))
    for scheme_id in (None, leavers.id, adults.id):
        want = _straight_figures(db, start, end, scheme_id)
        report = commissioner_report(db, ADMIN, start, end, scheme_id, today=TODAY)
        reach = {
            row["scheme_id"]: row["reached"]["count"]
            for row in report["reach"]["by_scheme"]
            if row["reached"]["count"]
        }
        assert reach == want["reach"]
        assert sum(want["reach"].values()) >= 8  # nothing withheld: the counts are compared
        approval = report["speed"]["approval"]
        assert (approval["median_days"], approval["people"]["count"]) == want["approval"]
        scope = frozenset({scheme_id}) if scheme_id else None
        with db.session() as s:
            rows = pot_figures(s, Period(start, end), scope)
        got = {
            r.Pot.id: (int(r.committed_people), int(r.held_pence), int(r.period_people))
            for r in rows
            if r.committed_people
        }
        assert got == {
            pot: figures
            for pot, figures in want["pots"].items()
            if scheme_id is None or pot_scheme[pot] == scheme_id
        }


def test_verify_names_a_summary_row_on_the_wrong_pot(database_url):
    db = migrated(database_url)
    scheme = create_scheme(db)
    pot, other = create_pot(db, scheme_id=scheme.id), create_pot(db, scheme_id=scheme.id, name="B")
    person, goal = _enrol(db, scheme.id, 10, pot_id=pot.id)
    create_request(db, person_id=person, goal_id=goal, state="approved")
    _places(db)
    with db.write() as s:
        s.execute(update(ReportPerson).values(pot_id=other.id))
    with db.session() as s:
        breaches = verify_ledger(s).as_dict()["breaches"]
    assert [b["invariant"] for b in breaches] == ["report_summary"]  # type: ignore[index]
    assert "report_people" in breaches[0]["detail"]  # type: ignore[index]
