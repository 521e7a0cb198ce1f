"""bench/budget.py's timed calls through the load generator against the running suite: the
approvals each with their own Idempotency-Key and the holder's token, every status checked (a
refusal counted, not lost), the client's own CPU measured with the suite's."""

from __future__ import annotations

import time
import uuid

import pytest

from bench import budget
from tests.support import RunningSuite

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("kind", ["loop", "lean"])
def test_approvals_through_the_load_generator(
    suite: RunningSuite, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(budget.CLIENT, "kind", kind)
    client = budget.Client(suite)
    ids = budget.setup(client, 2, 3)
    meter = budget.CpuMeter(suite)
    rate, latencies, failures = budget.approve_all(client, ids, meter)
    assert (failures, len(latencies)) == ([], 6) and rate > 0
    assert meter.used["bench client"] > 0 and meter.used["budget"] > 0
    for request_id in ids:
        found = budget.ok(client.call("GET", f"/requests/{request_id}", "budget_holder"))
        assert found["state"] == "approved"
    # The same keys again: the stored answers (200); an unknown request: refused and counted.
    unknown = str(uuid.uuid4())
    rate, latencies, failures = budget.approve_all(client, [*ids[:2], unknown])
    assert (failures, len(latencies)) == ([404], 3)


def test_the_floors_through_the_load_generator(suite: RunningSuite) -> None:
    client = budget.Client(suite)
    floor = budget.http_floor(client, calls=50)
    assert 0 < floor["p50_ms"] <= floor["p95_ms"]
    assert floor["cpu_ms"]["bench client"] > 0 and floor["cpu_ms"]["gateway"] > 0
    identity = budget.identity_floor(client, calls=64)
    assert identity["per_s"] > 0 and identity["cpu_ms"]["budget"] > 0


@pytest.mark.parametrize("kind", ["loop", "lean"])
def test_the_race_through_either_client(
    suite: RunningSuite, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """32 approvals at once against a budget 16 of them fit: 16 approved, 16 refused, whichever
    client sends them (the load generator writes all 32 before reading any answer)."""
    monkeypatch.setitem(budget.CLIENT, "kind", kind)
    raced = budget.race(budget.Client(suite))
    assert (raced["approved"], raced["refused"], raced["other"]) == (16, 16, 0)
    assert raced["held_pence"] == 16 * 3_000 <= raced["allocation_pence"]


def test_tail_approvals_by_the_load_generator(suite: RunningSuite) -> None:
    """bench/tail.py's approvals: each with its own request id, its status, its young person and
    the wall-clock time its first byte was written, in the order they started."""
    from bench import tail

    client = budget.Client(suite)
    ids = budget.setup(client, 2, 20)
    person = {request_id: index % 2 for index, request_id in enumerate(ids)}
    lead, ids = ids[:4], ids[4:]  # a lead-in: approved first in the same loop, no records
    before = time.time()
    records = tail.approvals(client, ids, "t1", person, lead)
    after = time.time()
    assert [r["rid"] for r in records] == [f"t1-{request_id}" for request_id in ids]
    assert {r["status"] for r in records} == {200}
    assert [r["person"] for r in records] == [person[request_id] for request_id in ids]
    starts = [r["start"] for r in records]
    assert starts == sorted(starts) and before <= starts[0] and starts[-1] <= after
    assert all(0 < r["ms"] and r["start"] + r["ms"] / 1000 <= after + 0.01 for r in records)
    for request_id in [*lead, *ids[:3]]:
        found = budget.ok(client.call("GET", f"/requests/{request_id}", "budget_holder"))
        assert found["state"] == "approved"


@pytest.mark.parametrize("kind", ["loop", "lean"])
def test_a_round_with_a_lead_in(
    suite: RunningSuite, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lead-in's approvals are made (and metered) but not timed: the round's figures are its
    own approvals', the lead-in's seconds handed back apart."""
    monkeypatch.setitem(budget.CLIENT, "kind", kind)
    client = budget.Client(suite)
    ids = budget.setup(client, 2, 3)
    lead = budget.setup(client, 4, 1)
    lead_seconds: list[float] = []
    meter = budget.CpuMeter(suite)
    rate, latencies, failures = budget.approve_all(
        client, ids, meter, lead=lead, lead_seconds=lead_seconds
    )
    assert (failures, len(latencies), len(lead_seconds)) == ([], 6, 4) and rate > 0
    assert meter.used["budget"] > 0
    for request_id in [*lead, *ids]:
        found = budget.ok(client.call("GET", f"/requests/{request_id}", "budget_holder"))
        assert found["state"] == "approved"
    wave = budget.first_wave(lead_seconds + latencies)
    assert wave["first_ms"] > 0
