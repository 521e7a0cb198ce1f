"""bench/budget.py's timed calls through the load generator against the running suite: the
approvals each with their own Idempotency-Key and the holder's token, every status checked (a
refusal counted, not lost), the client's own CPU measured with the suite's."""

from __future__ import annotations

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
