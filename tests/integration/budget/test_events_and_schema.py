"""Events for outcomes follow docs/contracts.md and commit with the change; the models match the migrations."""

from __future__ import annotations

from datetime import date

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from services.budget.adapters.orm import Base, OutboxEvent
from services.budget.seed import seed
from services.budget.service_layer import packages as pk
from services.budget.service_layer import payment_run_settlement as settlement
from services.budget.service_layer import payment_runs as runs
from services.budget.service_layer import people
from services.budget.service_layer import requests as rq
from services.budget.service_layer.commands import CreatePaymentRun, MarkRunPaid, ReassignPerson
from services.budget.service_layer.unit_of_work import as_uow
from services.budget.service_layer.verify import verify_ledger
from tests.integration.budget.helpers import (
    ADVISOR,
    FINANCE,
    HOLDER,
    TODAY,
    StubDirectory,
    funded_scheme,
    migrated,
    person_with_plan,
)

CONTRACT = {
    "person.enrolled": {
        "person_id",
        "scheme_id",
        "advisor_sub",
        "birth_year",
        "consent_evaluation",
        "consent_case_study",
        "enrolled_at",
    },
    "plan.created": {"person_id", "plan_id", "goals", "next_review_date", "agreed_on"},
    "request.approved": {
        "request_id",
        "person_id",
        "plan_id",
        "goal_id",
        "listing_id",
        "cost_option_id",
        "provider_id",
        "category",
        "amount_pence",
        "approved_at",
        "first_for_person",
    },
    "request.paid": {"request_id", "person_id", "amount_pence", "paid_at"},
    "activity.started": {
        "request_id",
        "person_id",
        "listing_id",
        "provider_id",
        "category",
        "started_on",
    },
    "person.reassigned": {"person_id", "advisor_sub", "previous_advisor_sub"},
    "scheme.changed": {"scheme_id", "name", "kind", "min_age", "max_age"},
}


def events(db):  # type: ignore[no-untyped-def]
    with db.session() as session:
        return [
            (e.topic, e.payload)
            for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.seq))
        ]


def test_each_step_writes_the_contracted_event_and_nothing_personal(tmp_path):
    db = migrated(f"sqlite:///{tmp_path / 'b.db'}")
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    directory = StubDirectory()
    for _ in range(2):
        req = rq.create_request(
            db,
            directory,
            ADVISOR,
            {
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "S",
                "item": "kit",
                "amount_pence": 500,
                "submit": True,
            },
        )
        rq.approve_request(db, directory, HOLDER, req["id"])
    rq.pay_request(db, FINANCE, req["id"], {"reference": "B"})
    rq.add_evidence(db, ADVISOR, req["id"], {"reference": "r", "activity_started_on": TODAY})
    cmd = ReassignPerson(actor=HOLDER, person_id=person_id, advisor_sub="advisor-9")
    people.reassign_person(cmd, as_uow(db))
    written = events(db)
    assert [t for t, _ in written] == [
        "scheme.changed",
        "person.enrolled",
        "plan.created",
        "request.approved",
        "request.approved",
        "request.paid",
        "activity.started",
        "person.reassigned",
    ]
    for topic, payload in written:
        assert set(payload) == CONTRACT[topic], topic
        assert "case_reference" not in payload and "birth_date" not in payload
    approvals = [p for t, p in written if t == "request.approved"]
    assert [a["first_for_person"] for a in approvals] == [True, False]


# An ongoing package uses the same topics, with its id as `request_id` and `package_id` beside it.
PACKAGE_EXTRA = {"package_id"}


def _package_events(db, since: int):  # type: ignore[no-untyped-def]
    return [(t, p) for t, p in events(db)[since:]]


def test_a_package_tells_outcomes_like_a_purchase_baseline_when_set_up_follow_ups_once_paid(
    database_url,
):
    db = migrated(database_url)
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    before = len(events(db))
    values = {
        "person_id": person_id,
        "goal_id": goal_id,
        "supplier": "Harbour Gym",
        "item": "Gym membership",
        "category": "sport-fitness",
        "frequency": "monthly",
        "instalments": 3,
        "instalment_pence": 3_000,
        "starts_on": TODAY,
    }
    package = pk.create_package(db, StubDirectory(), ADVISOR, values, today=TODAY)
    set_up = _package_events(db, before)
    assert [t for t, _ in set_up] == ["request.approved"]
    (_, approved) = set_up[0]
    assert set(approved) == CONTRACT["request.approved"] | PACKAGE_EXTRA
    assert approved["request_id"] == approved["package_id"] == package["id"]
    assert (approved["amount_pence"], approved["first_for_person"]) == (9_000, True)
    assert approved["goal_id"] == goal_id and approved["category"] == "sport-fitness"

    seen = len(events(db))
    pk.pay_instalment(db, FINANCE, package["id"], 1, {"reference": "BACS-1"})
    pk.pay_instalment(db, FINANCE, package["id"], 2, {"reference": "BACS-2"})
    paid = _package_events(db, seen)
    assert [t for t, _ in paid] == ["activity.started", "request.paid", "request.paid"]
    for topic, payload in paid:
        assert set(payload) == CONTRACT[topic] | PACKAGE_EXTRA, topic
        assert payload["request_id"] == package["id"] and payload["person_id"] == person_id
    assert paid[0][1]["started_on"] == TODAY.isoformat()
    assert [p["amount_pence"] for t, p in paid if t == "request.paid"] == [3_000, 6_000]

    second = pk.create_package(db, StubDirectory(), ADVISOR, values, today=TODAY)
    assert events(db)[-1][1]["request_id"] == second["id"]
    assert events(db)[-1][1]["first_for_person"] is False


def test_a_package_paid_first_in_a_payment_run_starts_its_activity_once(database_url):
    db = migrated(database_url)
    scheme_id, _ = funded_scheme(db)
    person_id, goal_id = person_with_plan(db, scheme_id)
    values = {
        "person_id": person_id,
        "goal_id": goal_id,
        "supplier": "Harbour Gym",
        "item": "Gym membership",
        "frequency": "monthly",
        "instalments": 3,
        "instalment_pence": 3_000,
        "starts_on": TODAY,
    }
    package = pk.create_package(db, StubDirectory(), ADVISOR, values, today=TODAY)
    run = runs.create_run(db, CreatePaymentRun(actor=FINANCE, due_by=date(2026, 12, 31)))
    seen = len(events(db))

    settlement.mark_paid(db, MarkRunPaid(actor=FINANCE, run_id=run["id"]))
    settlement.mark_paid(db, MarkRunPaid(actor=FINANCE, run_id=run["id"]))  # paid: no more events

    paid = _package_events(db, seen)
    assert [t for t, _ in paid] == ["activity.started", "request.paid"]
    assert paid[0][1]["request_id"] == package["id"]
    assert paid[1][1]["amount_pence"] == 6_000  # two instalments fell due by the run's day


def test_a_refused_approval_writes_no_event(tmp_path):
    db = migrated(f"sqlite:///{tmp_path / 'b.db'}")
    scheme_id, _ = funded_scheme(db, cap=1000)
    person_id, goal_id = person_with_plan(db, scheme_id)
    reqs = [
        rq.create_request(
            db,
            StubDirectory(),
            ADVISOR,
            {
                "person_id": person_id,
                "goal_id": goal_id,
                "supplier": "S",
                "item": "kit",
                "amount_pence": 600,
                "submit": True,
            },
        )
        for _ in range(2)
    ]
    rq.approve_request(db, StubDirectory(), HOLDER, reqs[0]["id"])
    try:
        rq.approve_request(db, StubDirectory(), HOLDER, reqs[1]["id"])
    except Exception:  # noqa: BLE001 - refused, as it should be
        pass
    assert [t for t, _ in events(db)].count("request.approved") == 1


def test_the_seed_is_idempotent_writes_no_events_and_leaves_a_clean_ledger(database_url):
    db = migrated(database_url)
    assert "80 young people" in seed(db)
    assert seed(db) == "already seeded"
    assert events(db) == []
    with db.session() as session:
        assert verify_ledger(session).ok


def test_the_models_match_the_migrations(tmp_path):
    db = migrated(f"sqlite:///{tmp_path / 'b.db'}")
    with db.engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []
