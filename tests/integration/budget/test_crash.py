"""SIGKILL the budget process mid-burst of approvals, restart it: acknowledged approvals survive, nothing doubles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from services.budget.service_layer import requests as rq
from services.launcher import free_port
from shared.identity import Identity
from tests.integration.budget.helpers import (
    ADMIN,
    ADVISOR,
    StubDirectory,
    funded_scheme,
    migrated,
    person_with_plan,
)
from tests.integration.budget.test_service_layer import assert_ledger_clean
from tests.support import STOP_TIMEOUT, internal_headers, run_cli, wait_serving

REQUESTS = 240


def start(env, port, log_path):  # type: ignore[no-untyped-def]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.budget", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_serving(process, f"http://127.0.0.1:{port}/health", log_path)
    return process


def test_a_killed_budget_process_keeps_every_acknowledged_approval_and_doubles_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'budget.db'}"
    db = migrated(url)
    scheme_id, _ = funded_scheme(db, pot_pence=50_000 * 12)
    ids = []
    for _ in range(12):
        person_id, goal_id = person_with_plan(db, scheme_id)
        for _ in range(REQUESTS // 12):
            ids.append(
                rq.create_request(
                    db,
                    StubDirectory(),
                    ADVISOR,
                    {
                        "person_id": person_id,
                        "goal_id": goal_id,
                        "supplier": "S",
                        "item": "kit",
                        "amount_pence": 1_000,
                        "submit": True,
                    },
                )["id"]
            )
    port = free_port()
    env = {
        **os.environ,
        "BUDGET_DATABASE_URL": url,
        "PHB_VAR_DIR": str(tmp_path),
        "DIRECTORY_URL": f"http://127.0.0.1:{free_port()}",
        "OUTCOMES_URL": f"http://127.0.0.1:{free_port()}",
    }
    holder = Identity(sub="holder", role="budget_holder")

    def headers(request_id: str) -> dict[str, str]:  # a fresh token per call: ids are single-use
        return {
            **internal_headers(tmp_path, holder, "budget"),
            "Idempotency-Key": f"approve-{request_id}",
        }

    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    log = tmp_path / "budget.log"
    process = start(env, port, log)

    def approve(request_id: str) -> None:
        try:
            answer = requests.post(
                f"http://127.0.0.1:{port}/requests/{request_id}/approve",
                headers=headers(request_id),
                timeout=60,  # a loaded machine can be slow; not a failure
            )
        except requests.RequestException:
            return
        if answer.status_code == 200:
            with lock:
                acknowledged[request_id] = answer.text

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(approve, i) for i in ids]
        while len(acknowledged) < REQUESTS // 4:
            # a budget process that died by itself fails the test now, not at pytest's timeout
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(STOP_TIMEOUT)
        for future in futures:
            future.result()
    assert 0 < len(acknowledged) < REQUESTS  # killed mid-burst
    process = start(env, port, log)
    try:
        for request_id, first_answer in list(acknowledged.items())[:20]:
            replay = requests.post(
                f"http://127.0.0.1:{port}/requests/{request_id}/approve",
                headers=headers(request_id),
                timeout=60,  # a loaded machine can be slow; not a failure
            )
            assert (replay.status_code, replay.text) == (200, first_answer)
        # Calls cut off by the kill: their keys are free at once (no "still running" wait).
        for request_id in [i for i in ids if i not in acknowledged]:
            retry = requests.post(
                f"http://127.0.0.1:{port}/requests/{request_id}/approve",
                headers=headers(request_id),
                timeout=60,  # a loaded machine can be slow; not a failure
            )
            assert retry.status_code == 200, retry.text
            acknowledged[request_id] = retry.text
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(STOP_TIMEOUT)
    states = {r["id"]: r["state"] for r in rq.list_requests(db, ADMIN, {}, 1, 100).items}
    for page in range(2, 4):
        states.update(
            {r["id"]: r["state"] for r in rq.list_requests(db, ADMIN, {}, page, 100).items}
        )
    assert len(acknowledged) == REQUESTS
    assert all(states[i] == "approved" for i in acknowledged)
    assert_ledger_clean(db)
    result = run_cli(["budget", "verify"], env)
    assert "ledger OK" in result.stdout
    db.dispose()
