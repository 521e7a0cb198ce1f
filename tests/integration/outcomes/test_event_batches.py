"""The budget's events reach outcomes in batches (`POST /events/batch`), through real HTTP, on
SQLite and PostgreSQL: one call for a relay's due events, each applied once however often or
overlapping the batches, a bad event named and the ones before it kept, only the budget service
let in, and over-large batches refused with problem+json."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import DeclarativeBase

from services.launcher import free_port
from services.outcomes.adapters.orm import CheckIn, InboxEvent, Person, ReceivedEvent
from shared.db import Database
from shared.http import ServiceClient
from shared.identity import Identity, service_identity
from shared.internal_tokens import demo_signer
from shared.outbox import MAX_BATCH, Message, OutboxMixin, OutboxRelay, add_event
from shared.outbox_http import HttpBatchDelivery
from tests.support import (
    STOP_TIMEOUT,
    internal_headers,
    migrate,
    postgres_database,
    require_postgres,
    wait_serving,
)


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    """The sender's outbox (the budget's has the same columns)."""


@dataclass
class Outcomes:
    url: str
    var_dir: Path
    db: Database
    sender_url: str  # a database for the sending side's outbox, on the same backend

    def post(self, body: Any, headers: dict[str, str] | None = None, **kw: Any):  # type: ignore[no-untyped-def]
        headers = self.budget() if headers is None else headers
        return requests.post(
            self.url + "/events/batch", headers=headers, timeout=30, json=body, **kw
        )

    def budget(self) -> dict[str, str]:
        return internal_headers(
            self.var_dir, service_identity("budget"), "outcomes", issuer="budget"
        )

    def received(self) -> list[tuple[str, str]]:
        with self.db.session() as session:
            rows = session.execute(
                select(ReceivedEvent.event_id, ReceivedEvent.status).order_by(ReceivedEvent.seq)
            )
            return [(e, s) for e, s in rows]

    def inbox(self) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(InboxEvent)) or 0)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def outcomes(request, tmp_path_factory) -> Iterator[Outcomes]:  # type: ignore[no-untyped-def]
    var_dir = tmp_path_factory.mktemp("outcomes-batches")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url, sender = f"sqlite:///{var_dir / 'outcomes.db'}", f"sqlite:///{var_dir / 'b.db'}"
        else:
            require_postgres()
            url = stack.enter_context(postgres_database())
            sender = stack.enter_context(postgres_database())
        migrate("outcomes", url)
        port = free_port()
        env = {
            **os.environ,
            "OUTCOMES_DATABASE_URL": url,
            "PHB_VAR_DIR": str(var_dir),
            "PHB_INLINE_WORKERS": "0",
        }
        log = var_dir / "outcomes.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "services.outcomes", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        stack.callback(process.wait, STOP_TIMEOUT)
        stack.callback(process.terminate)
        base = f"http://127.0.0.1:{port}"
        wait_serving(process, base + "/health", log)
        db = Database(url)
        stack.callback(db.dispose)
        yield Outcomes(base, var_dir, db, sender)


@pytest.fixture
def outbox(outcomes) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """The sender's outbox, empty for each test."""
    db = Database(outcomes.sender_url)
    Base.metadata.drop_all(db.engine)
    Base.metadata.create_all(db.engine)
    yield db
    db.dispose()


class CountingDelivery(HttpBatchDelivery):
    """The budget's delivery, counting the events of each HTTP call."""

    def __init__(self, outcomes: Outcomes, url: str | None = None, **kw: Any):
        client = ServiceClient(
            "outcomes",
            url or outcomes.url,
            signer=demo_signer(outcomes.var_dir, "budget"),
            read_timeout=30,
            retries=0,
        )
        super().__init__(client, "/events/batch", service_identity("budget"), **kw)
        self.calls: list[int] = []

    def _post(self, messages: list[Message], encoded: list[bytes]):  # type: ignore[no-untyped-def]
        self.calls.append(len(messages))
        return super()._post(messages, encoded)


def enrolment(person_id: str | None = None, **extra: Any) -> tuple[str, dict[str, Any]]:
    return "person.enrolled", {
        "person_id": person_id or str(uuid.uuid4()),
        "scheme_id": str(uuid.uuid4()),
        "advisor_sub": "adv-batches",
        "birth_year": 2007,
        "consent_evaluation": True,
        "consent_case_study": False,
        "enrolled_at": "2026-11-20T10:00:00+00:00",
        **extra,
    }


def approval(person_id: str) -> tuple[str, dict[str, Any]]:
    return "request.approved", {
        "request_id": str(uuid.uuid4()),
        "person_id": person_id,
        "category": "cycling",
        "amount_pence": 2000,
        "approved_at": "2026-11-24T09:00:00+00:00",
    }


def publish(db: Database, events: list[tuple[str, dict[str, Any]]]) -> list[str]:
    with db.write() as session:
        return [add_event(session, Outbox, "outcomes", topic, p) for topic, p in events]


def as_body(ids: list[str], events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "events": [
            {"id": i, "topic": t, "payload": p, "occurred_at": "2026-11-24T10:00:00+00:00"}
            for i, (t, p) in zip(ids, events, strict=True)
        ]
    }


def relay(outbox: Database, delivery: HttpBatchDelivery) -> OutboxRelay:
    return OutboxRelay(outbox, Outbox, "outcomes", deliver_batch=delivery, base_delay=30)


def test_the_relay_delivers_its_due_events_in_one_call_applied_in_order(outcomes, outbox):
    """An approval before its enrolment is held, then applied when the enrolment arrives later in
    the same batch: the baseline check-in is made, as one event a call made it."""
    early, late = str(uuid.uuid4()), str(uuid.uuid4())
    events = [approval(early), enrolment(early), enrolment(late), approval(late)]
    ids = publish(outbox, events)
    delivery = CountingDelivery(outcomes)
    assert relay(outbox, delivery).run_once() == 4
    assert delivery.calls == [4]
    got = dict(outcomes.received())
    assert [got[i] for i in ids] == ["applied", "applied", "applied", "applied"]
    with outcomes.db.session() as session:
        checkins = session.scalars(select(CheckIn).where(CheckIn.person_id.in_([early, late])))
        assert sorted(c.person_id for c in checkins) == sorted([early, late])


def test_an_id_of_32_hex_digits_is_answered_as_it_was_sent_and_kept_once(outcomes, outbox):
    """The budget's payment runs on SQLite write event ids as 32 hex digits, not a UUID's usual
    spelling: the receipt must name the id as sent, or the relay would never mark it delivered."""
    person = str(uuid.uuid4())
    publish(outbox, [enrolment(person), approval(person)])
    bare = uuid.uuid4().hex
    with outbox.write() as session:
        last = session.scalars(select(Outbox).order_by(Outbox.seq.desc())).first()
        last.event_id = bare
    delivery = CountingDelivery(outcomes)
    assert relay(outbox, delivery).run_once() == 2
    assert delivery.calls == [2]
    assert dict(outcomes.received())[str(uuid.UUID(bare))] == "applied"
    again = outcomes.post(as_body([bare], [approval(person)]))
    assert again.json()["received"] == [{"id": bare, "status": "duplicate"}]


def test_a_redelivered_or_overlapping_batch_applies_each_event_once(outcomes):
    events = [enrolment() for _ in range(8)]
    ids = [str(uuid.uuid4()) for _ in events]
    before = outcomes.inbox()
    first = outcomes.post(as_body(ids[:5], events[:5]))
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["received"]] == ["applied"] * 5
    again = outcomes.post(as_body(ids[:5], events[:5]))
    assert [r["status"] for r in again.json()["received"]] == ["duplicate"] * 5
    overlap = outcomes.post(as_body(ids[3:], events[3:]))
    assert [(r["id"], r["status"]) for r in overlap.json()["received"]] == [
        (ids[3], "duplicate"),
        (ids[4], "duplicate"),
        (ids[5], "applied"),
        (ids[6], "applied"),
        (ids[7], "applied"),
    ]
    twice = outcomes.post(as_body([ids[0], ids[0]], [events[0], events[0]]))
    assert [r["status"] for r in twice.json()["received"]] == ["duplicate", "duplicate"]
    assert outcomes.inbox() == before + 8
    received = [e for e, _ in outcomes.received() if e in ids]
    assert received == ids  # each once, in the order sent
    with outcomes.db.session() as session:
        people = session.scalar(
            select(func.count()).where(Person.id.in_([p["person_id"] for _, p in events]))
        )
    assert people == 8


def test_a_malformed_event_is_named_and_the_ones_before_it_are_delivered_alone(outcomes, outbox):
    events = [enrolment(), enrolment(), ("", {"n": 1}), enrolment()]
    ids = publish(outbox, events)
    delivery = CountingDelivery(outcomes)
    assert relay(outbox, delivery).run_once() == 2
    assert delivery.calls == [4, 2]  # refused whole, naming event 2; then the two before it
    got = dict(outcomes.received())
    assert [got.get(i) for i in ids] == ["applied", "applied", None, None]
    with outbox.session() as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.seq)).all()
    assert [r.delivered_at is not None for r in rows] == [True, True, False, False]
    assert [r.attempts for r in rows] == [0, 0, 1, 0]
    assert "422" in rows[2].last_error and "Event 2 is not a valid event" in rows[2].last_error


def test_an_event_that_fails_as_it_is_applied_undoes_the_batch_and_is_named(outcomes, outbox):
    """A scheme id that is no string fails in the database, not in the handler's checks: outcomes
    applies none of the batch and names the event; the relay delivers the ones before it."""
    events = [enrolment(), enrolment(scheme_id={"not": "a string"}), enrolment()]
    ids = publish(outbox, events)
    answer = outcomes.post(as_body([str(uuid.uuid4()) for _ in events], events))
    assert answer.status_code == 422
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["event_index"] == 1 and "Traceback" not in answer.text
    delivery = CountingDelivery(outcomes)
    assert relay(outbox, delivery).run_once() == 1
    assert delivery.calls == [3, 1]
    got = dict(outcomes.received())
    assert [got.get(i) for i in ids] == ["applied", None, None]
    with outbox.session() as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.seq)).all()
    assert [r.attempts for r in rows] == [0, 1, 0]
    assert "event-not-applied" in rows[1].last_error


def test_a_failed_call_leaves_every_event_of_the_batch_pending(outcomes, outbox):
    ids = publish(outbox, [enrolment() for _ in range(3)])
    down = CountingDelivery(outcomes, url=f"http://127.0.0.1:{free_port()}")
    assert relay(outbox, down).run_once() == 0
    with outbox.session() as session:
        rows = session.scalars(select(Outbox).order_by(Outbox.seq)).all()
    assert [r.event_id for r in rows] == ids
    assert [(r.delivered_at, r.attempts) for r in rows] == [(None, 1), (None, 0), (None, 0)]
    assert "unavailable" in rows[0].last_error


def test_batches_are_cut_to_the_size_a_call_may_carry(outcomes, outbox):
    events = [enrolment(note="x" * 600) for _ in range(5)]
    ids = publish(outbox, events)
    delivery = CountingDelivery(outcomes, max_bytes=2000, max_events=MAX_BATCH)
    assert relay(outbox, delivery).run_once() == 5
    assert delivery.calls == [2, 2, 1]
    got = dict(outcomes.received())
    assert [got[i] for i in ids] == ["applied"] * 5


def hostile_callers(outcomes: Outcomes) -> dict[str, tuple[dict[str, str], int]]:
    var = outcomes.var_dir
    return {
        "no token": ({}, 401),
        "the directory service": (
            internal_headers(var, service_identity("directory"), "outcomes", issuer="directory"),
            401,
        ),
        "an admin's token from the gateway": (
            internal_headers(var, Identity(sub="admin-1", role="admin"), "outcomes"),
            403,
        ),
        "the gateway claiming a service": (
            internal_headers(var, service_identity("gateway"), "outcomes"),
            401,
        ),
        "the budget's token for another service": (
            internal_headers(var, service_identity("budget"), "directory", issuer="budget"),
            401,
        ),
    }


@pytest.mark.parametrize(
    "caller",
    [
        "no token",
        "the directory service",
        "an admin's token from the gateway",
        "the gateway claiming a service",
        "the budget's token for another service",
    ],
)
def test_only_the_budget_service_may_send_events(outcomes, caller):
    headers, status = hostile_callers(outcomes)[caller]
    events = [enrolment()]
    before = outcomes.inbox()
    answer = outcomes.post(as_body([str(uuid.uuid4())], events), headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert outcomes.inbox() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({}, "events"),
        ({"events": "not a list"}, "events"),
        ("big", "events"),
    ],
    ids=["empty", "missing", "not a list", "more than the most"],
)
def test_a_batch_must_hold_one_to_the_most_events(outcomes, body, field):
    if body == "big":
        events = [enrolment() for _ in range(MAX_BATCH + 1)]
        body = as_body([str(uuid.uuid4()) for _ in events], events)
    before = outcomes.inbox()
    answer = outcomes.post(body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert field in answer.json()["errors"]
    assert outcomes.inbox() == before


def test_every_bad_field_of_every_event_is_named_and_nothing_applied(outcomes):
    events = [enrolment() for _ in range(4)]
    body = as_body([str(uuid.uuid4()) for _ in events], events)
    body["events"][1]["id"] = "not-a-uuid"
    body["events"][3]["topic"] = ""
    del body["events"][3]["payload"]
    before = outcomes.inbox()
    answer = outcomes.post(body)
    assert answer.status_code == 422
    problem = answer.json()
    assert set(problem["errors"]) == {"events.1.id", "events.3.topic", "events.3.payload"}
    assert problem["event_index"] == 1
    assert outcomes.inbox() == before


def test_a_body_over_the_limit_is_refused_with_problem_json(outcomes):
    before = outcomes.inbox()
    answer = outcomes.post(
        None,
        data=b'{"events": [' + b" " * 1_100_000 + b"]}",
        headers={**outcomes.budget(), "Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert outcomes.inbox() == before
