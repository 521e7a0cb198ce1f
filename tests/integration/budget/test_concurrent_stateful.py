"""Hypothesis drives batches of life-cycle calls, sent at once by concurrent clients over real HTTP.

Any mix of submit, approve, reject, order, cancel, expire, pay (in full or reduced), evidence and
recover, on the same or different requests, some of them retried with their Idempotency-Key. After
every batch: no 5xx; every refusal is a state conflict or a lack of budget; every retry got its
first answer back; and each request's state agrees with its money (`ledger/verify` and the budget
each young person sees). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from services.budget.service_layer import people
from services.budget.service_layer import requests as rq
from tests.integration.budget.factories import (
    ADMIN,
    create_pot,
    create_request,
    create_scheme,
    create_young_person,
)

CAP = 10_000
REQUESTS = 6
AMOUNTS = (2_000, 3_000, 4_000)
ACTIONS = {
    # action: (role, body, statuses a refusal may have besides 409 for "not from this state")
    "submit": ("advisor", {}, {422}),
    "approve": ("budget_holder", {}, {422}),
    "reject": ("budget_holder", {"reason": "Not this time."}, set()),
    "request-info": ("budget_holder", {"reason": "Which one?"}, set()),
    "order": ("finance", {"reference": "PO-9"}, set()),
    "cancel": ("advisor", {"reason": "Changed their mind."}, set()),
    "expire": ("budget_holder", {"reason": "Unused."}, set()),
    "pay": ("finance", {"reference": "BACS-9"}, set()),
    "pay-reduced": (
        "finance",
        {"reference": "BACS-8", "amount_pence": 1_500, "reason": "Sale"},
        set(),
    ),
    "evidence": ("advisor", {"reference": "receipt"}, set()),
    "recover": ("finance", {"amount_pence": 500, "reason": "Refund."}, {422}),
}
HOLDING = {"approved", "ordered"}
PAID = {"paid", "evidenced", "closed", "recovered"}


def concurrent_machine(server):  # type: ignore[no-untyped-def]
    def post(call):  # type: ignore[no-untyped-def]
        action, request_id, key = call
        role, body, _ = ACTIONS[action]
        return server.post(
            f"/requests/{request_id}/{action.removesuffix('-reduced')}",
            role,
            json=body,
            headers={"Idempotency-Key": key},
        )

    class Concurrent(RuleBasedStateMachine):
        @initialize(
            amounts=st.lists(st.sampled_from(AMOUNTS), min_size=REQUESTS, max_size=REQUESTS)
        )
        def world(self, amounts):  # type: ignore[no-untyped-def]
            scheme = create_scheme(server.db, cap_pence=CAP)
            create_pot(server.db, scheme_id=scheme.id, amount_pence=CAP)
            self.person_id, goal_id = create_young_person(server.db, scheme_id=scheme.id)
            self.ids = [
                create_request(
                    server.db,
                    person_id=self.person_id,
                    goal_id=goal_id,
                    amount_pence=a,
                    state="draft",
                )["id"]
                for a in amounts
            ]
            self.sent = 0
            self.answered: list[tuple[tuple[str, str, str], int, str]] = []

        @rule(
            batch=st.lists(
                st.tuples(st.sampled_from(sorted(ACTIONS)), st.integers(0, REQUESTS - 1)),
                min_size=2,
                max_size=8,
            ),
            retries=st.lists(st.integers(0, 1_000), max_size=3),
        )
        def at_once(self, batch, retries):  # type: ignore[no-untyped-def]
            calls = []
            for action, index in batch:
                self.sent += 1
                calls.append((action, self.ids[index], f"call-{self.sent}"))
            again = (
                [self.answered[i % len(self.answered)] for i in retries] if self.answered else []
            )
            calls.extend(call for call, _, _ in again)
            with ThreadPoolExecutor(len(calls)) as pool:
                answers = list(pool.map(post, calls))
            for call, answer in zip(calls[: len(batch)], answers, strict=False):
                action = call[0]
                if answer.status_code == 200:
                    self.answered.append((call, 200, answer.text))
                    continue
                allowed = {409} | ACTIONS[action][2]
                assert answer.status_code in allowed, (action, answer.status_code, answer.text)
                assert answer.headers["Content-Type"] == "application/problem+json"
                slug = answer.json()["type"].rsplit("/", 1)[1]
                assert slug == {409: "conflict", 422: _slug_422(action)}[answer.status_code], slug
                self.answered.append((call, answer.status_code, answer.text))
            for (_, status, text), answer in zip(again, answers[len(batch) :], strict=True):
                assert answer.headers["Idempotent-Replayed"] == "true"
                if status == 200:
                    assert (answer.status_code, answer.text) == (200, text)  # byte for byte
                else:  # the same refusal (its problem's request_id is the retry's own)
                    first = json.loads(text)
                    replayed = answer.json()
                    assert answer.status_code == status
                    assert (replayed["type"], replayed["detail"]) == (
                        first["type"],
                        first["detail"],
                    )

        @invariant()
        def money_agrees_with_every_state(self):  # type: ignore[no-untyped-def]
            if not hasattr(self, "ids"):
                return
            report = server.get("/ledger/verify", "finance").json()
            assert report["ok"], report["breaches"]
            states = [rq.get_request(server.db, ADMIN, i) for i in self.ids]
            held = sum(r["amount_pence"] for r in states if r["state"] in HOLDING)
            paid = sum(r["paid_pence"] - r["recovered_pence"] for r in states if r["state"] in PAID)
            budget = people.get_person(server.db, ADMIN, self.person_id)["budget"]
            assert (budget["held_pence"], budget["paid_pence"]) == (held, paid)
            assert budget["remaining_pence"] == CAP - held - paid >= 0

    return Concurrent


def _slug_422(action: str) -> str:
    return "validation-failed" if action == "recover" else "insufficient-funds"


def test_concurrent_random_transitions_keep_money_and_states_in_step(budget_server):
    machine = concurrent_machine(budget_server)
    machine.TestCase.settings = settings(
        max_examples=6,
        stateful_step_count=6,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate],  # each run is real HTTP: no shrinking
    )
    machine.TestCase().runTest()
