"""The budget → outcomes event contract (docs/contracts.md): what the budget service writes to its
outbox carries exactly the documented fields, and the outcomes service applies it as written.
Both sides run their real service layers on real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from services.budget.adapters.orm import OutboxEvent
from services.budget.service_layer import packages, schemes, transfers
from services.budget.service_layer.commands import UpdateScheme
from services.budget.service_layer.unit_of_work import as_uow
from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.adapters.orm import CheckIn, Person, SchemeInfo
from services.outcomes.service_layer import events
from services.outcomes.service_layer.commands import ReceiveEvent
from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork
from tests.integration.budget import factories
from tests.integration.budget.helpers import StubDirectory
from tests.support import module_database, rolled_back

CONTRACTS = Path(__file__).resolve().parents[3] / "docs" / "contracts.md"
TOPICS = ("scheme.changed", "person.enrolled", "person.transferred")

migrated_budget = module_database("budget")
migrated_outcomes = module_database("outcomes")


@pytest.fixture
def budget_db(migrated_budget):
    with rolled_back(migrated_budget) as database:
        yield database


@pytest.fixture
def outcomes_db(migrated_outcomes):
    with rolled_back(migrated_outcomes) as database:
        yield database


def documented_fields() -> dict[str, set[str]]:
    """Each topic's payload fields, read from the events table in docs/contracts.md."""
    table = CONTRACTS.read_text().split("## Budget → outcomes: events")[1].split("\n## ")[0]
    found: dict[str, set[str]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or not cells[0].startswith("`"):
            continue
        fields_text = ",".join(re.findall(r"`([^`]*)`", cells[1]))
        names = {re.sub(r"[?:].*", "", f.strip()) for f in fields_text.split(",")}
        for topic in re.findall(r"`([a-z_.]+)`", cells[0]):
            found[topic] = {n for n in names if n}
    return found


def outbox(db, topics):
    """What the relay would send, in its order."""
    with db.session() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.topic.in_(topics)).order_by(OutboxEvent.seq)
        ).all()
        return [(str(r.event_id), r.topic, dict(r.payload)) for r in rows]


def test_the_documented_fields_are_read_for_every_topic_this_contract_tests():
    documented = documented_fields()
    assert set(TOPICS) <= set(documented)
    assert documented["scheme.changed"] == {"scheme_id", "name", "kind", "min_age", "max_age"}


def test_a_scheme_and_a_transfer_reach_outcomes_exactly_as_documented(budget_db, outcomes_db):
    children = factories.create_scheme(
        budget_db,
        name="Children and young people",
        min_age=0,
        max_age=25,
        kind="children_young_people",
        eligibility="none",
        cap_basis="scheme",
    )
    adult = factories.create_scheme(budget_db, name="Adults", min_age=16, max_age=25)
    factories.create_pot(budget_db, scheme_id=children.id)
    factories.create_pot(budget_db, scheme_id=adult.id)
    person = factories.create_person(
        budget_db, scheme_id=children.id, birth_date=date(2008, 11, 24)
    )
    schemes.update_scheme(
        UpdateScheme(
            actor=factories.ADMIN,
            scheme_id=adult.id,
            changes={"max_age": 24},
            if_match=f'"{adult.id}.1"',
        ),
        as_uow(budget_db),
    )
    transfers.transfer_person(
        budget_db,
        factories.ADVISOR,
        person.id,
        {"to_scheme_id": adult.id, "reason": "Turned 18"},
        today=factories.TODAY,
    )
    documented = documented_fields()
    sent = outbox(budget_db, TOPICS)
    assert {topic for _, topic, _ in sent} == set(TOPICS)
    for _, topic, payload in sent:
        assert set(payload) == documented[topic], topic
    catalogue = load_catalogue()
    uow = SqlUnitOfWork(outcomes_db)
    for event_id, topic, payload in sent:
        body = {"id": event_id, "topic": topic, "payload": payload, "occurred_at": "2026-11-24"}
        assert events.receive(ReceiveEvent.of(body), uow, catalogue) == "applied", topic
    with outcomes_db.session() as session:
        assert session.get(Person, person.id).scheme_id == adult.id
        moved = session.get(SchemeInfo, adult.id)
        assert (moved.name, moved.min_age, moved.max_age) == ("Adults", 16, 24)
        kind = session.get(SchemeInfo, children.id).kind
        assert kind == "children_young_people"
        assert session.scalars(select(CheckIn)).all() == []


PURCHASE_TOPICS = ("request.approved", "activity.started", "request.paid")


def test_a_package_reaches_outcomes_as_a_purchase_does_and_gets_its_check_ins(
    budget_db, outcomes_db
):
    scheme = factories.create_scheme(budget_db, name="Care leavers")
    factories.create_pot(budget_db, scheme_id=scheme.id)
    person = factories.create_person(budget_db, scheme_id=scheme.id)
    goal_id = factories.create_plan(budget_db, person_id=person.id)["goals"][0]["id"]
    package = packages.create_package(
        budget_db,
        StubDirectory(),
        factories.ADVISOR,
        {
            "person_id": person.id,
            "goal_id": goal_id,
            "supplier": "Harbour Gym",
            "item": "Gym membership",
            "frequency": "monthly",
            "instalments": 3,
            "instalment_pence": 3_000,
            "starts_on": factories.TODAY,
        },
        today=factories.TODAY,
    )
    packages.pay_instalment(budget_db, factories.FINANCE, package["id"], 1, {"reference": "B-1"})

    documented = documented_fields()
    sent = outbox(
        budget_db, ("scheme.changed", "person.enrolled", "plan.created", *PURCHASE_TOPICS)
    )
    told = [(topic, payload) for _, topic, payload in sent if topic in PURCHASE_TOPICS]
    assert [topic for topic, _ in told] == list(PURCHASE_TOPICS)
    for topic, payload in told:
        assert set(payload) == documented[topic] | {"package_id"}, topic
        assert payload["request_id"] == payload["package_id"] == package["id"]
    catalogue = load_catalogue()
    uow = SqlUnitOfWork(outcomes_db)
    for event_id, topic, payload in sent:
        body = {"id": event_id, "topic": topic, "payload": payload, "occurred_at": "2026-11-24"}
        assert events.receive(ReceiveEvent.of(body), uow, catalogue) == "applied", topic
    with outcomes_db.session() as session:
        checkins = session.scalars(
            select(CheckIn).where(CheckIn.person_id == person.id).order_by(CheckIn.week)
        ).all()
    assert [(c.week, c.due_on) for c in checkins if c.week] == [
        (6, date(2027, 1, 5)),
        (12, date(2027, 2, 16)),
    ]
    assert {c.activity_id for c in checkins if c.week} == {package["id"]}
    assert [c.week for c in checkins] == [0, 6, 12]
