"""Free text in every CSV report reaches a spreadsheet as text, never as a formula."""

from __future__ import annotations

import csv
import io

from services.budget.service_layer.reports import summary_csv
from services.outcomes.service_layer.reports import to_csv

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "=1+1", "@SUM(A1)", "+1-2", "-3+cmd", "\t=1"]


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_no_formula(text: str) -> None:
    for cell in cells(text):
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        if cell.startswith("-"):
            float(cell)  # only a plain negative number may start with a minus


def test_the_budget_summary_csv_neutralises_category_and_provider_names():
    report = {
        "spend": {
            "people_paid": {"count": 20},
            "total_paid_pence": 100,
            "by_category": [
                {"name": text, "people": {"count": 10}, "paid_pence": 10} for text in HOSTILE
            ],
            "by_provider": [
                {"name": text, "people": {"count": 9}, "paid_pence": -5} for text in HOSTILE
            ],
            "by_month": [{"name": "2026-11", "people": {"count": 20}, "paid_pence": 100}],
        },
        "reach": {"cohort": {"count": 30}, "reached": {"count": 20}, "reached_share": 0.667},
        "speed": {"approval": {"people": {"count": None, "suppressed": "primary"}}},
        "reviews_due": {"overdue": {"count": 0}},
        "pots": [{"id": "p1", "name": HOSTILE[0], "funder": HOSTILE[1]}],
    }
    written = summary_csv(report)
    assert_no_formula(written)
    assert "'" + HOSTILE[0] in cells(written)
    assert "-5" in cells(written)  # numbers stay numbers
    assert "[c]" in cells(written)  # a withheld count is marked, never a number


def test_the_outcomes_report_csv_neutralises_group_labels():
    report = {
        "population": {
            "baselines_answered": {"count": 12},
            "matched_pairs": {"count": 10},
            "completion_rate_pct": 80.0,
        },
        "measures": [{"key": "wemwbs", "pairs": {"count": 10}, "summary": None, "direction": {}}],
        "by_follow_up": [],
        "helped": {"answers": {text: {"count": 6} for text in HOSTILE}},
        "breakdowns": {
            "category": [
                {"group": text, "pairs": {"count": 6}, "mean_change": {"wemwbs": -1.5}}
                for text in HOSTILE
            ]
        },
    }
    written = to_csv(report)
    assert_no_formula(written)
    assert "'" + HOSTILE[1] in cells(written)
    assert "-1.5" in cells(written)
