"""A payment run marked paid writes its `request.paid` events by one INSERT ... SELECT into the
outbox (payment_run_settlement._record_payments), which says so itself (`outbox_wake.written`):
its commit wakes this process's relay, so the events go at once, not at the next poll. On
SQLite and PostgreSQL, over real HTTP."""

from __future__ import annotations

from services.budget.adapters.orm import OutboxEvent
from shared.outbox import Delivered, Message, OutboxRelay
from shared.outbox_wake import listen, unlisten
from tests.integration.budget.test_payment_runs import _request, _world


class Receiver:
    def __init__(self) -> None:
        self.received: list[Message] = []

    def __call__(self, messages: list[Message]) -> Delivered:
        self.received.extend(messages)
        return Delivered(len(messages))


def test_marking_a_run_paid_wakes_the_relay_as_it_commits(budget_server):
    server = budget_server
    _, _, person_id, goal_id = _world(server)
    ids = {_request(server, person_id, goal_id, "approved")["id"] for _ in range(3)}
    run = server.post("/payment-runs", "finance", json={}).json()
    receiver = Receiver()
    relay = OutboxRelay(server.db, OutboxEvent, "outcomes", deliver_batch=receiver)
    assert relay.drain(timeout=30)  # what the world's set-up wrote
    receiver.received.clear()
    listen(relay)  # as `start` does, without the loop that would clear the wake
    try:
        refused = server.post(f"/payment-runs/{run['id']}/paid", "advisor", json={})
        assert refused.status_code == 403
        assert not relay._wake.is_set()  # nothing committed, nobody woken
        paid = server.post(f"/payment-runs/{run['id']}/paid", "finance", json={})
        assert paid.status_code == 200, paid.text
        assert relay._wake.is_set()
    finally:
        unlisten(relay)
    assert relay.run_once() == 3
    assert {m.topic for m in receiver.received} == {"request.paid"}
    assert {m.payload["request_id"] for m in receiver.received} == ids
