"""A randomised stateful test of the ledger: create, approve, cancel, pay, refund, retried idempotent calls.

After every step every invariant in DOMAIN.md is recomputed, and each young person's remaining
budget must equal a simple model of it. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from services.budget.service_layer import people
from services.budget.service_layer import requests as rq
from services.budget.service_layer.idempotency import Idempotency, KeyReused
from services.budget.service_layer.unit_of_work import run_once
from services.budget.service_layer.verify import verify_ledger
from shared.errors import DomainError
from tests.integration.budget.helpers import (
    ADMIN,
    ADVISOR,
    FINANCE,
    HOLDER,
    StubDirectory,
    funded_scheme,
    migrated,
    person_with_plan,
)

CAP = 20_000


def ledger_machine(db):  # type: ignore[no-untyped-def]
    directory = StubDirectory()

    class LedgerMachine(RuleBasedStateMachine):
        requests = Bundle("requests")

        @initialize()
        def scheme(self):  # type: ignore[no-untyped-def]
            scheme_id, _ = funded_scheme(db, pot_pence=CAP * 2, cap=CAP)
            self.people = [person_with_plan(db, scheme_id) for _ in range(2)]
            self.remaining = {person: CAP for person, _ in self.people}
            self.keys = 0

        @rule(target=requests, who=st.integers(0, 1), amount=st.integers(1, CAP // 2))
        def create(self, who, amount):  # type: ignore[no-untyped-def]
            person, goal = self.people[who]
            try:
                req = rq.create_request(
                    db,
                    directory,
                    ADVISOR,
                    {
                        "person_id": person,
                        "goal_id": goal,
                        "supplier": "Shop",
                        "item": "kit",
                        "amount_pence": amount,
                        "submit": True,
                    },
                )
            except DomainError:
                assert amount > self.remaining[person]
                return None
            return (req["id"], person, amount)

        def _try(self, call):  # type: ignore[no-untyped-def]
            try:
                return call()
            except DomainError:
                return None

        @rule(req=requests)
        def approve(self, req):  # type: ignore[no-untyped-def]
            if req and self._try(lambda: rq.approve_request(db, directory, HOLDER, req[0])):
                self.remaining[req[1]] -= req[2]

        @rule(req=requests)
        def cancel(self, req):  # type: ignore[no-untyped-def]
            if not req:
                return
            before = rq.get_request(db, ADMIN, req[0])["state"]
            if self._try(lambda: rq.cancel_request(db, ADVISOR, req[0], "changed plans")):
                if before in ("approved", "ordered"):
                    self.remaining[req[1]] += req[2]

        @rule(req=requests, reduce=st.integers(0, 100))
        def pay(self, req, reduce):  # type: ignore[no-untyped-def]
            if not req:
                return
            amount = max(1, req[2] - reduce)
            values = {"reference": "B", "amount_pence": amount, "reason": "discount"}
            if self._try(lambda: rq.pay_request(db, FINANCE, req[0], values)):
                self.remaining[req[1]] += req[2] - amount

        @rule(req=requests, amount=st.integers(1, 500))
        def refund(self, req, amount):  # type: ignore[no-untyped-def]
            if req and self._try(lambda: rq.recover_request(db, FINANCE, req[0], amount, "refund")):
                self.remaining[req[1]] += amount

        @rule(req=requests)
        def retried_approval(self, req):  # type: ignore[no-untyped-def]
            """The same key twice gives the same answer; the same key with another body changes nothing."""
            if not req:
                return
            self.keys += 1
            key = f"k{self.keys}-{req[0]}"
            body = json.dumps({"id": req[0]}).encode()

            def as_json(view):  # type: ignore[no-untyped-def]
                return json.loads(json.dumps(view, default=str))

            def work(uow):  # type: ignore[no-untyped-def]
                return as_json(rq.approve_request(uow, directory, HOLDER, req[0]))

            call = Idempotency.for_call(key, "test", body, dump=as_json)
            outcomes = []
            for _ in range(2):
                try:
                    outcome = run_once(db, call, work)
                    outcomes.append((outcome.status, outcome.body))
                except DomainError as err:
                    outcomes.append((err.status, err.detail))
                    continue
            first, again = outcomes
            if first[0] == 200:
                self.remaining[req[1]] -= req[2]
                assert again == first
            else:
                assert again[0] == first[0]  # a replayed failure stays a failure
            with pytest.raises(KeyReused):
                run_once(db, Idempotency.for_call(key, "test", b"another body"), work)

        @invariant()
        def ledger_holds(self):  # type: ignore[no-untyped-def]
            if not hasattr(self, "people"):
                return
            with db.session() as session:
                report = verify_ledger(session)
            assert report.ok, report.as_dict()
            for person, _ in self.people:
                budget = people.get_person(db, ADMIN, person)["budget"]
                assert budget["remaining_pence"] == self.remaining[person]
                assert budget["held_pence"] + budget["paid_pence"] <= CAP

    return LedgerMachine


def test_random_sequences_of_ledger_operations_keep_every_invariant(database_url):
    db = migrated(database_url)
    try:
        machine = ledger_machine(db)
        machine.TestCase.settings = settings(
            max_examples=12,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        machine.TestCase().runTest()
    finally:
        db.dispose()
