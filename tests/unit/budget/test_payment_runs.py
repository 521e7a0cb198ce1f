"""Payment run rules: why a request can't be in a run, the run's reference, the steps a run owns."""

from __future__ import annotations

from datetime import date

import pytest

from services.budget.domain import payment_runs as runs


@pytest.mark.parametrize(
    ("state", "open_run", "words"),
    [
        (None, None, "no request"),
        ("cancelled", None, "cancelled"),
        ("expired", None, "expired"),
        ("paid", None, "already been paid"),
        ("evidenced", None, "already been paid"),
        ("recovered", None, "already been paid"),
        ("submitted", None, "submitted, not approved"),
        ("info_requested", None, "info requested, not approved"),
        ("draft", None, "not approved"),
        ("approved", "PHB261201-AB", "already in payment run PHB261201-AB"),
    ],
)
def test_a_request_that_cannot_join_a_run_is_refused_in_words(state, open_run, words):
    refused = runs.why_unpayable("req-1", state, open_run)
    assert refused is not None and words in refused.reason
    assert refused.as_dict()["request_id"] == "req-1"


@pytest.mark.parametrize("state", ["approved", "ordered"])
def test_an_approved_or_ordered_request_in_no_run_may_join(state):
    assert runs.why_unpayable("req-1", state, None) is None


def test_the_refusal_names_every_request():
    err = runs.NotPayable(
        [runs.Unpayable("a", "paid", "It has already been paid."), runs.Unpayable("b", None, "x")]
    )
    assert (
        err.status == 409 and "a: It has already been paid." in err.detail and "b: x" in err.detail
    )
    assert [r["request_id"] for r in err.extra["requests"]] == ["a", "b"]


def test_the_reference_fits_a_bank_reference_and_names_the_day():
    reference = runs.reference_for(date(2026, 12, 1), "1a2b3c4d-0000-4000-8000-000000000000")
    assert reference == "PHB261201-1A2B3C4D" and len(reference) <= 18


def test_an_open_run_owns_paying_and_cancelling_its_requests():
    offered = ["order", "pay", "cancel", "expire"]
    assert runs.actions_in_run(offered, "approved", "run-1") == ["order"]
    assert runs.actions_in_run(offered, "approved", None) == offered
    assert runs.actions_in_run(["evidence"], "paid", "run-1") == ["evidence"]
    with pytest.raises(runs.InPaymentRun):
        runs.refuse_if_in_open_run("ordered", "run-1")
    runs.refuse_if_in_open_run("paid", "run-1")
