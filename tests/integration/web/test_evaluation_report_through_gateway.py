"""The evaluation report through the gateway, over the demo's schemes (care leavers, section 117
aftercare, a children's scheme): the care leavers' benchmark is drawn from care leavers' schemes
only and says so, and no two counts of pairs it publishes differ by 1-7, in JSON, CSV and HTML."""

from __future__ import annotations

import csv
import io
import itertools
import time

from shared.suppression import is_small
from tests.factories.outcomes import create_paired_activity_through
from tests.integration.web.client import WebClient
from tests.integration.web.factories import create_scheme


def _report(suite, fmt: str = "json"):  # type: ignore[no-untyped-def]
    answer = suite.api(
        "GET", "/api/outcomes/reports/evaluation", role="commissioner", params={"format": fmt}
    )
    assert answer.status_code == 200, answer.text
    return answer


def _aftercare_pairs(suite, n: int) -> str:  # type: ignore[no-untyped-def]
    """A section 117 aftercare scheme (announced to outcomes by the budget service) with `n`
    young people paired on the same questions as care leavers, all scoring low before."""
    scheme_id = create_scheme(suite, kind="mental_health_s117")
    path = f"/api/outcomes/schemes/{scheme_id}/outcome-settings"
    deadline = time.monotonic() + 30
    while (suite.api("GET", path, role="admin").json().get("scheme") or {}).get(
        "kind"
    ) != "mental_health_s117":
        assert time.monotonic() < deadline, "outcomes never heard of the scheme"
        time.sleep(0.2)
    for _ in range(n):
        create_paired_activity_through(
            suite, category="gym", paid_pence=4_000, before=2, after=5, scheme_id=scheme_id
        )
    return scheme_id


def test_the_care_leavers_benchmark_is_drawn_from_and_shown_beside_care_leavers_alone(suite):
    _aftercare_pairs(suite, 9)
    report = _report(suite).json()
    web = WebClient(suite.gateway)
    web.sign_in("demo-commissioner")
    page = web.get("/dashboard/evaluation")
    assert page.status_code == 200
    text = " ".join(page.text.split())

    life = next(m for m in report["measures"] if m["key"] == "ons4.life_satisfaction")
    schemes = {row["group"] for row in report["breakdowns"]["scheme"]}
    assert len(schemes) > 1, schemes  # the demo pairs young people of more than one scheme
    bench = life["benchmark"]
    assert bench["scheme_kinds"] == ["care_leavers"]
    # Section 117 aftercare's young people answer the same questions: not counted in it.
    assert bench["all_pairs"] is False
    assert text.count("% of care leavers and") == 1
    assert "(young people on care leavers' schemes only)" in text


def test_no_two_published_counts_of_pairs_differ_by_one_to_seven(suite):
    report = _report(suite).json()
    population = report["population"]
    counts = [population[k]["count"] for k in ("matched_pairs", "baselines_answered")]
    counts += [m["pairs"]["count"] for m in report["measures"]]
    published = [c for c in counts if c]
    assert len(published) >= 2
    for a, b in itertools.combinations(published, 2):
        assert not is_small(abs(a - b)), (a, b, counts)

    rows = list(csv.reader(io.StringIO(_report(suite, "csv").text)))
    shown = {r[1]: r[-1] for r in rows if r[0] == "measure" and r[3] == "pairs"}
    assert shown == {
        m["key"]: "[c]" if m["pairs"]["count"] is None else str(m["pairs"]["count"])
        for m in report["measures"]
    }
    page = " ".join(_report(suite, "html").text.split())
    for m in report["measures"]:
        if m["pairs"].get("suppressed") == "secondary":
            assert m["withheld"] in page
