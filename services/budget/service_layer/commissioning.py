"""The commissioners' and the Panel's report: what every section shares.

The report (`commissioning_report`) gives reach against the cohort (`commissioning_reach`), spend
by pot with each pot's run-out forecast (`commissioning_pots`) and by funder
(`commissioning_funders`), days from referral (`commissioning_speed`) and reviews on time
(`commissioning_reviews`); cohort sizes are entered through `cohort_sizes`. This module holds the
period, who may read, the schemes reported on, and the two helpers the money figures share.

Every figure is computed by the database (grouped queries, window functions) over the chosen
period and schemes; only the grouped answers come back. Counts of young people go through the
suite's small-number suppression, and so does every figure made from a group of them: a sum of
money or a median from 1-7 young people is withheld with the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    PurchaseRequest,
    Scheme,
)
from services.budget.service_layer.access import require, scheme_scope
from shared.errors import NotFound, ValidationFailed
from shared.identity import Identity
from shared.suppression import Cell

READERS = ("commissioner", "budget_holder", "admin")
MAX_PERIOD_DAYS = 366 * 5


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_before(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)


def period_of(start: date | None, end: date | None) -> Period:
    """A report's period; both ends are needed, in order, and at most five years apart."""
    errors: dict[str, list[str]] = {}
    if start is None:
        errors["from"] = ["Give the first day of the period."]
    if end is None:
        errors["to"] = ["Give the last day of the period."]
    if start and end and end < start:
        errors["to"] = ["The last day must be on or after the first."]
    if start and end and (end - start).days > MAX_PERIOD_DAYS:
        errors["to"] = ["A report covers at most five years."]
    if errors or start is None or end is None:
        raise ValidationFailed("The period is not valid.", errors=errors)
    return Period(start, end)


def scope_of(session: Session, actor: Identity, scheme_id: str | None) -> frozenset[str] | None:
    """The schemes reported on: a budget holder's own, a commissioner's or admin's any."""
    require(actor, *READERS)
    scope = None if actor.role in ("commissioner", "admin") else scheme_scope(session, actor)
    if scheme_id is None:
        return scope
    if (scope is not None and scheme_id not in scope) or session.get(Scheme, scheme_id) is None:
        raise NotFound("No scheme with that id among yours.")
    return frozenset({scheme_id})


def scoped(stmt: Any, column: Any, scope: frozenset[str] | None) -> Any:
    """The statement limited to the schemes in `scope` (all of them when it is None)."""
    return stmt if scope is None else stmt.where(column.in_(scope))


def net_paid() -> Any:
    """A request's paid money less what was recovered, as SQL."""
    return PurchaseRequest.paid_pence - PurchaseRequest.recovered_pence


def shown_money(cell: Cell, pence: int | None) -> int | None:
    """Money made from a group of young people is shown only when the group's count is."""
    return None if cell.suppressed else int(pence or 0)
