"""The commissioners' report, funders: paid in the period by funder, with the young people it paid
for, suppressed together.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    Person,
    Pot,
    PurchaseRequest,
)
from services.budget.service_layer.commissioning import (
    Period,
    net_paid,
    scoped,
    shown_money,
)
from shared.suppression import suppress, total_cell


def funders_section(
    session: Session, period: Period, scope: frozenset[str] | None
) -> dict[str, Any]:
    """Paid in the period by funder, with the young people it paid for (suppressed together)."""
    stmt = scoped(
        select(
            Pot.funder,
            func.count(distinct(PurchaseRequest.person_id)),
            func.sum(net_paid()),
        )
        .join(Person, Person.id == PurchaseRequest.person_id)
        .join(Pot, Pot.id == Person.pot_id)
        .where(PurchaseRequest.paid_on >= period.start, PurchaseRequest.paid_on <= period.end)
        .group_by(Pot.funder),
        Pot.scheme_id,
        scope,
    )
    rows = {
        funder: (int(people), int(pence or 0)) for funder, people, pence in session.execute(stmt)
    }
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
