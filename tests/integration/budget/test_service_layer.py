"""The budget's use cases on a real database (SQLite and PostgreSQL): money only ever through the ledger."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import text

from services.budget.service_layer import people, plans, reports, schemes
from services.budget.service_layer import requests as rq
from services.budget.service_layer.commands import (
    ChangePlan,
    CreatePot,
    CreateScheme,
    EnrolPerson,
    PlanGoal,
)
from services.budget.service_layer.ledger import InsufficientFunds
from services.budget.service_layer.unit_of_work import as_uow
from services.budget.service_layer.verify import verify_ledger
from shared.errors import Conflict, NotFound, ValidationFailed
from tests.integration.budget import factories
from tests.integration.budget.helpers import (
    ADMIN,
    ADVISOR,
    ADVISOR_2,
    FINANCE,
    HOLDER,
    TODAY,
    StubDirectory,
    funded_scheme,
    person_with_plan,
)
from tests.support import module_database, rolled_back

migrated_budget = module_database("budget")


@pytest.fixture
def db(migrated_budget):
    """The module's database as one transaction, rolled back after the test."""
    with rolled_back(migrated_budget) as database:
        yield database


def assert_ledger_clean(db):
    with db.session() as session:
        report = verify_ledger(session)
    assert report.ok, report.as_dict()


def test_a_request_goes_from_draft_to_closed_and_the_money_is_traced(db):
    directory = StubDirectory()
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    listing = directory.add(str(uuid.uuid4()), price=4500)
    req = rq.create_request(
        db, directory, ADVISOR, {"person_id": person_id, "goal_id": goal_id, "listing_id": listing}
    )
    assert (req["state"], req["amount_pence"]) == ("draft", 4500)
    rq.submit_request(db, directory, ADVISOR, req["id"])
    assert rq.approve_request(db, directory, HOLDER, req["id"])["state"] == "approved"
    budget = people.get_person(db, ADVISOR, person_id)["budget"]
    assert budget.pop("funding")[0]["funding_stream"] == "health"
    assert budget == {
        "allocation_pence": 50000,
        "held_pence": 4500,
        "paid_pence": 0,
        "remaining_pence": 45500,
    }
    rq.order_request(db, FINANCE, req["id"], "PO-1")
    rq.pay_request(db, FINANCE, req["id"], {"reference": "BACS-1"})
    rq.add_evidence(
        db, ADVISOR, req["id"], {"reference": "receipt 9", "activity_started_on": TODAY}
    )
    done = rq.close_request(db, ADVISOR, req["id"])
    assert done["state"] == "closed"
    history = rq.get_request(db, HOLDER, req["id"])["history"]
    assert [h["to_state"] for h in history] == [
        "draft",
        "submitted",
        "approved",
        "ordered",
        "paid",
        "evidenced",
        "closed",
    ]
    assert all(h["at"] and h["by"] for h in history)
    assert people.get_person(db, ADVISOR, person_id)["budget"]["paid_pence"] == 4500
    assert "BACS-1" in reports.payment_run_csv(db, FINANCE, None, None)
    assert_ledger_clean(db)


def test_an_amount_over_what_is_left_is_refused_saying_how_much_is_left(db):
    directory = StubDirectory()
    scheme_id, _ = funded_scheme(db, cap=10_000)
    person_id, goal_id = person_with_plan(db, scheme_id)
    with pytest.raises(ValidationFailed) as err:
        rq.create_request(
            db,
            directory,
            ADVISOR,
            {
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "Bikes",
                "item": "bike",
                "amount_pence": 10_001,
            },
        )
    assert err.value.status == 422
    assert err.value.extra["remaining_pence"] == 10_000
    assert "£100.00" in err.value.detail


def test_two_approvals_that_together_overspend_leave_the_second_refused(db):
    directory = StubDirectory()
    scheme_id, _ = funded_scheme(db, cap=10_000)
    person_id, goal_id = person_with_plan(db, scheme_id)
    first, second = (
        rq.create_request(
            db,
            directory,
            ADVISOR,
            {
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "Bikes",
                "item": "bike",
                "amount_pence": 6000,
                "submit": True,
            },
        )
        for _ in range(2)
    )
    rq.approve_request(db, directory, HOLDER, first["id"])
    with pytest.raises(ValidationFailed) as err:
        rq.approve_request(db, directory, HOLDER, second["id"])
    assert err.value.extra["remaining_pence"] == 4000
    assert rq.get_request(db, HOLDER, second["id"])["state"] == "submitted"
    assert_ledger_clean(db)


def test_cancelling_an_approved_request_releases_its_hold(db):
    directory = StubDirectory()
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = rq.create_request(
        db,
        directory,
        ADVISOR,
        {
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "Bikes",
            "item": "bike",
            "amount_pence": 9000,
            "submit": True,
        },
    )
    rq.approve_request(db, directory, HOLDER, req["id"])
    with pytest.raises(ValidationFailed):
        rq.cancel_request(db, ADVISOR, req["id"], "")
    rq.cancel_request(db, ADVISOR, req["id"], "moved away")
    assert people.get_person(db, ADVISOR, person_id)["budget"]["remaining_pence"] == 50000
    with pytest.raises(Conflict) as err:
        rq.cancel_request(db, ADVISOR, req["id"], "again")
    assert "cancelled" in err.value.detail
    assert_ledger_clean(db)


def test_a_reduced_payment_needs_a_reason_and_releases_the_rest(db):
    directory = StubDirectory()
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = rq.create_request(
        db,
        directory,
        ADVISOR,
        {
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "Bikes",
            "item": "bike",
            "amount_pence": 9000,
            "submit": True,
        },
    )
    rq.approve_request(db, directory, HOLDER, req["id"])
    with pytest.raises(ValidationFailed):
        rq.pay_request(db, FINANCE, req["id"], {"reference": "B1", "amount_pence": 8000})
    rq.pay_request(
        db, FINANCE, req["id"], {"reference": "B1", "amount_pence": 8000, "reason": "discount"}
    )
    budget = people.get_person(db, ADVISOR, person_id)["budget"]
    assert (budget["paid_pence"], budget["remaining_pence"]) == (8000, 42000)
    with pytest.raises(ValidationFailed):
        rq.recover_request(db, FINANCE, req["id"], 8001, "refund")
    rq.recover_request(db, FINANCE, req["id"], 3000, "partial refund")
    assert people.get_person(db, ADVISOR, person_id)["budget"]["remaining_pence"] == 45000
    assert_ledger_clean(db)


def test_an_unfundable_or_excluded_listing_is_refused_and_nothing_is_created(db):
    directory = StubDirectory()
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    lapsed = directory.add(str(uuid.uuid4()), fundable=False)
    pub = directory.add(str(uuid.uuid4()), categories=("alcohol",))
    for listing in (lapsed, pub):
        with pytest.raises(ValidationFailed) as err:
            rq.create_request(
                db,
                directory,
                ADVISOR,
                {"person_id": person_id, "goal_id": goal_id, "listing_id": listing},
            )
        assert err.value.type_slug == "not-fundable"
    assert rq.list_requests(db, ADMIN, {}, 1, 10).total == 0


def test_small_requests_to_verified_providers_are_approved_by_the_schemes_rule(db):
    directory = StubDirectory()
    scheme_id, _ = funded_scheme(db, auto=5000)
    person_id, goal_id = person_with_plan(db, scheme_id)
    small = directory.add(str(uuid.uuid4()), price=2000)
    unverified = directory.add(str(uuid.uuid4()), price=2000, verified=False)
    big = directory.add(str(uuid.uuid4()), price=6000)
    states = [
        rq.create_request(
            db,
            directory,
            ADVISOR,
            {"person_id": person_id, "goal_id": goal_id, "listing_id": lid, "submit": True},
        )
        for lid in (small, unverified, big)
    ]
    assert [s["state"] for s in states] == ["approved", "submitted", "submitted"]
    assert states[0]["approved_by"] == "scheme-rule"
    assert_ledger_clean(db)


def test_an_advisor_cannot_see_or_act_for_another_advisors_young_person(db):
    directory = StubDirectory()
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    with pytest.raises(NotFound):
        people.get_person(db, ADVISOR_2, person_id)
    with pytest.raises(NotFound):
        rq.create_request(
            db,
            directory,
            ADVISOR_2,
            {
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "x",
                "item": "y",
                "amount_pence": 100,
            },
        )
    assert people.list_people(db, ADVISOR_2, 1, 20).total == 0
    assert people.list_people(db, ADVISOR, 1, 20).total == 1


def test_a_young_person_outside_the_schemes_ages_is_refused(db):
    scheme_id, _ = funded_scheme(db)
    with pytest.raises(ValidationFailed) as err:
        people.enrol_person(
            EnrolPerson(
                actor=ADVISOR,
                scheme_id=scheme_id,
                case_reference="LC-2",
                birth_date=date(1995, 1, 1),
            ),
            as_uow(db),
            today=TODAY,
        )
    assert "ends at age 25" in err.value.detail


def test_a_second_scheme_with_a_bigger_cap_and_no_age_limit_needs_no_code(db):
    settings = {"name": "s117 aftercare", "cap_pence": 150_000, "min_age": None, "max_age": None}
    aftercare = schemes.create_scheme(CreateScheme(actor=ADMIN, settings=settings), as_uow(db))
    schemes.create_pot(
        CreatePot(
            actor=ADMIN,
            scheme_id=aftercare.id,
            name="ICB",
            funder="ICB",
            amount_pence=300_000,
            starts_on=TODAY,
        ),
        as_uow(db),
    )
    person = people.enrol_person(
        EnrolPerson(
            actor=ADVISOR,
            scheme_id=aftercare.id,
            case_reference="MH-1",
            birth_date=date(1970, 1, 1),
        ),
        as_uow(db),
        today=TODAY,
    )
    assert person.allocation_pence == 150_000
    assert_ledger_clean(db)


def test_allocations_never_exceed_the_pot(db):
    scheme_id, pot_id = funded_scheme(db, pot_pence=120_000)
    cmd = EnrolPerson(
        actor=ADVISOR, scheme_id=scheme_id, case_reference="LC", birth_date=date(2006, 1, 1)
    )
    people.enrol_person(cmd, as_uow(db), today=TODAY)
    people.enrol_person(cmd, as_uow(db), today=TODAY)
    with pytest.raises(InsufficientFunds):
        people.enrol_person(cmd, as_uow(db), today=TODAY)
    assert schemes.get_pot(db, ADMIN, pot_id)["unallocated_pence"] == 20_000
    assert_ledger_clean(db)


def test_verify_notices_a_cached_balance_that_does_not_match_the_entries(db):
    scheme_id, _ = funded_scheme(db)
    person_id, _ = person_with_plan(db, scheme_id)
    with db.write() as session:
        session.execute(
            text("UPDATE ledger_accounts SET balance_pence = balance_pence + 1 WHERE id = :id"),
            {"id": f"person:{person_id}"},
        )
    with db.session() as session:
        report = verify_ledger(session)
    assert not report.ok
    assert "cached_balance" in {b.invariant for b in report.breaches}


def test_the_database_itself_refuses_an_overspent_balance(db):
    scheme_id, _ = funded_scheme(db)
    person_id, _ = person_with_plan(db, scheme_id)
    with pytest.raises(Exception, match="(?i)check|constraint"):
        with db.write() as session:
            session.execute(
                text("UPDATE ledger_accounts SET balance_pence = -1 WHERE id = :id"),
                {"id": f"person:{person_id}"},
            )


def test_approvals_unused_past_the_schemes_limit_expire_and_release_their_hold(db):
    from datetime import timedelta

    from shared.outbox import utcnow

    directory = StubDirectory()
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = rq.create_request(
        db,
        directory,
        ADVISOR,
        {
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "S",
            "item": "kit",
            "amount_pence": 7000,
            "submit": True,
        },
    )
    rq.approve_request(db, directory, HOLDER, req["id"])
    assert rq.expire_stale_holds(db, now=utcnow() + timedelta(days=30)) == []
    assert rq.expire_stale_holds(db, now=utcnow() + timedelta(days=91)) == [req["id"]]
    assert rq.get_request(db, ADMIN, req["id"])["state"] == "expired"
    assert people.get_person(db, ADVISOR, person_id)["budget"]["remaining_pence"] == 50000
    assert_ledger_clean(db)


def test_a_budget_holder_may_approve_less_than_asked_only_with_a_reason(db):
    directory = StubDirectory()
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = rq.create_request(
        db,
        directory,
        ADVISOR,
        {
            "person_id": person_id,
            "goal_id": goal_id,
            "supplier": "S",
            "item": "kit",
            "amount_pence": 9000,
            "submit": True,
        },
    )
    with pytest.raises(ValidationFailed):
        rq.approve_request(db, directory, HOLDER, req["id"], {"amount_pence": 6000})
    approved = rq.approve_request(
        db, directory, HOLDER, req["id"], {"amount_pence": 6000, "reason": "Second-hand is fine"}
    )
    assert (approved["amount_pence"], approved["reason"]) == (6000, "Second-hand is fine")
    assert people.get_person(db, ADVISOR, person_id)["budget"]["held_pence"] == 6000
    assert_ledger_clean(db)


def test_a_plan_review_keeps_named_goals_retires_missing_ones_and_refuses_a_stale_version(db):
    from shared.concurrency import etag
    from shared.errors import PreconditionFailed, PreconditionRequired

    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    plan = plans.plans_of(db, ADVISOR, person_id)[0]

    def change(actor=ADVISOR, today=None, **values):
        cmd = ChangePlan(actor=actor, plan_id=plan["id"], **values)
        return plans.change_plan(cmd, as_uow(db), today=today)

    changed = change(
        goals=(PlanGoal(text="Join a club"),),
        next_review_date=date(2027, 9, 1),
        if_match=etag(plan["id"], plan["version"]),
        today=TODAY,
    )
    assert [g["text"] for g in changed["goals"]] == ["Join a club"]
    assert changed["version"] == plan["version"] + 1
    stale = etag(plan["id"], plan["version"])
    with pytest.raises(PreconditionFailed):
        change(needs="x", if_match=stale)
    with pytest.raises(PreconditionRequired):
        change(needs="x", if_match=None)
    current = etag(plan["id"], changed["version"])
    with pytest.raises(ValidationFailed):
        change(next_review_date=date(2028, 6, 1), if_match=current, today=TODAY)
    with pytest.raises(ValidationFailed):  # a retired goal can't be spent against
        rq.create_request(
            db,
            StubDirectory(),
            ADVISOR,
            {
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "S",
                "item": "I",
                "amount_pence": 100,
            },
        )
    with pytest.raises(NotFound):
        change(actor=ADVISOR_2, needs="x", if_match=current)


def test_a_request_and_its_scheme_are_read_in_one_statement_for_those_who_may_see_it(db):
    """The approval's read (`access.approval_read`) lets through exactly whom `request_for` does:
    the advisor of the caseload, the scheme's assigned budget holders, finance and admins; it reads
    what an approval decides on, as the database holds it, in one statement."""
    from sqlalchemy import event

    from services.budget.service_layer.access import approval_read, request_for
    from shared.identity import Identity

    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id)
    unassigned = Identity(sub="holder-elsewhere", role="budget_holder")
    statements: list[str] = []
    with db.session() as session:
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(session.get_bind(), "before_cursor_execute", listen)
        if db.sqlite:  # (the read goes to SQLite's driver itself: its trace callback counts it)
            driver = session.connection().connection.driver_connection
            driver.set_trace_callback(statements.append)
        try:
            for who in (ADVISOR, HOLDER, FINANCE, ADMIN):
                statements.clear()
                found, scheme = approval_read(session, who, req["id"])
                assert (found.id, found.person_id, scheme.id) == (req["id"], person_id, scheme_id)
                assert (found.state, found.amount_pence) == (req["state"], req["amount_pence"])
                assert (found.created_by, found.approved_by) == (req["created_by"], None)
                assert (found.listing_id, found.scheme_id) == (None, scheme_id)
                # (the test's rolled-back database adds savepoints of its own)
                assert [s for s in statements if "SAVEPOINT" not in s] == statements[-1:]
            for who in (ADVISOR_2, unassigned):
                with pytest.raises(NotFound):
                    approval_read(session, who, req["id"])
                with pytest.raises(NotFound):
                    request_for(session, who, req["id"])
            with pytest.raises(NotFound):
                approval_read(session, ADMIN, str(uuid.uuid4()))
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", listen)
            if db.sqlite:
                driver.set_trace_callback(None)


def test_an_approval_that_asks_the_directory_nothing_is_one_transaction(db):
    """Equipment: read, checked and approved in one transaction. A listing: checked, then the
    directory is asked with no transaction open, then approved (nothing kept of the first)."""
    from sqlalchemy import event

    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    equipment = factories.create_request(db, person_id=person_id, goal_id=goal_id)
    opened: list[str] = []  # (every transaction of the rolled-back test database is a savepoint)
    closed: list[str] = []
    open_when_asked: list[int] = []

    class WatchedDirectory(StubDirectory):
        def fundability(self, listing_id, cost_option_id):
            open_when_asked.append(len(opened) - len(closed))
            return super().fundability(listing_id, cost_option_id)

    directory = WatchedDirectory()
    listing = directory.add(str(uuid.uuid4()), price=2_500)
    listed = rq.create_request(
        db,
        directory,
        ADVISOR,
        {"person_id": person_id, "goal_id": goal_id, "listing_id": listing, "submit": True},
    )

    def listen(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if statement.startswith("SAVEPOINT"):
            opened.append(statement)
        elif statement.startswith(("RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            closed.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    open_when_asked.clear()
    try:
        approved = rq.approve_request(db, directory, HOLDER, equipment["id"])
        assert (approved["state"], len(opened)) == ("approved", 1)
        opened.clear(), closed.clear()
        approved = rq.approve_request(db, directory, HOLDER, listed["id"])
        assert (approved["state"], len(opened)) == ("approved", 2)
        assert open_when_asked == [0]
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    with db.session() as session:
        held = session.scalar(
            text("SELECT count(*) FROM request_transitions WHERE to_state = 'approved'")
        )
    assert held == 2  # the listing's first transaction left nothing
    assert_ledger_clean(db)


@pytest.mark.parametrize("keyed", [False, True], ids=["no key", "keyed"])
def test_an_approval_is_refused_in_the_same_order_as_before_and_changes_nothing(db, keyed):
    """404 for a request the caller may not see, 409 for its state, 403 for whoever raised it,
    422 for the amount: checked in that order, inside the one transaction, which is rolled back.
    With a key (on PostgreSQL the read is then made by the key's claim, with the token id's
    record), the same refusals, each kept as its key's answer."""
    from services.budget.domain.duties import RAISER_MAY_NOT_APPROVE
    from services.budget.service_layer.idempotency import Idempotency
    from services.budget.service_layer.unit_of_work import run_once
    from shared.errors import Forbidden
    from shared.identity import Identity

    scheme_id, _ = funded_scheme(db)
    # "holder" advises this young person and raised the request, and holds the scheme's budget
    advising = Identity(sub="holder", role="advisor")
    person_id, goal_id = person_with_plan(db, scheme_id, advisor=advising)
    req = factories.create_request(db, person_id=person_id, goal_id=goal_id, advisor=advising)
    elsewhere = Identity(sub="holder-elsewhere", role="budget_holder")
    raiser = Identity(sub="holder", role="budget_holder")
    too_much = {"amount_pence": req["amount_pence"] + 1}

    def approve(who, request_id=req["id"]):  # type: ignore[no-untyped-def]
        if not keyed:
            return rq.approve_request(db, StubDirectory(), who, request_id, too_much)
        key = Idempotency.for_call(str(uuid.uuid4()), f"{who.sub}|approve", b"{}")
        return run_once(
            db, key, lambda uow: rq.approve_request(uow, StubDirectory(), who, request_id, too_much)
        )

    with pytest.raises(NotFound):
        approve(HOLDER, str(uuid.uuid4()))
    with pytest.raises(NotFound):
        approve(elsewhere)
    with pytest.raises(Forbidden) as refused:
        approve(raiser)
    assert refused.value.extra.get("rule") == RAISER_MAY_NOT_APPROVE
    with pytest.raises(ValidationFailed) as refused:
        approve(HOLDER)
    assert "amount_pence" in refused.value.errors
    rq.reject_request(db, HOLDER, req["id"], "not needed")
    with pytest.raises(Conflict):
        approve(raiser)
    with db.session() as session:
        states = session.execute(
            text("SELECT to_state FROM request_transitions WHERE request_id = :id ORDER BY id"),
            {"id": req["id"]},
        ).scalars()
        assert list(states) == ["draft", "submitted", "rejected"]
    assert_ledger_clean(db)
