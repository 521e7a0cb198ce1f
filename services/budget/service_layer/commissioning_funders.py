"""The commissioners' report, funders: paid in the period by funder, with the young people it paid
for, suppressed together.

A young person is funded by one pot, so a funder's figures are its pots' sums (`pot_figures`):
no query of its own.
"""

from __future__ import annotations

from typing import Any

from services.budget.service_layer.commissioning import shown_money
from shared.suppression import suppress, total_cell


def funders_section(pot_rows: list[Any]) -> dict[str, Any]:
    """Paid in the period by funder, with the young people it paid for (suppressed together)."""
    rows: dict[str, tuple[int, int]] = {}
    for row in pot_rows:
        people, pence = rows.get(row.Pot.funder, (0, 0))
        rows[row.Pot.funder] = (
            people + int(row.period_people or 0),
            pence + int(row.period_pence or 0),
        )
    rows = {funder: figures for funder, figures in rows.items() if figures[0]}
    cells = suppress({funder: people for funder, (people, _) in rows.items()})
    total_people = sum(people for people, _ in rows.values())
    total = total_cell(total_people)
    return {
        "by_funder": [
            {
                "funder": funder,
                "people": cells[funder].as_dict(),
                "paid_pence": shown_money(cells[funder], pence),
            }
            for funder, (_, pence) in sorted(rows.items())
        ],
        "total": {
            "people": total.as_dict(),
            "paid_pence": shown_money(total, sum(p for _, p in rows.values())),
        },
    }
