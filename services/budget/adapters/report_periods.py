"""Which young people of the commissioners' report summary (`report_people`) were active in a
period: asked of each row's first and last dates, and of their requests and packages only when
the period lies strictly between the two."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_

from services.budget.adapters.orm import Package, PackageInstalment, PurchaseRequest
from services.budget.adapters.report_summary import PEOPLE
from services.budget.domain import packages as package_rules


def active_in(first: Any, last: Any, lo: Any, hi: Any, probe: Any) -> Any:
    """SQL: a young person has a date in [lo, hi) given their first and last such dates; only
    when the period lies strictly between the two is `probe` (an EXISTS on their requests) asked."""
    return and_(
        first < hi,
        last >= lo,
        or_(first >= lo, last < hi, probe),
    )


def approved_between(lo: Any, hi: Any) -> Any:
    """SQL, correlated to `report_people`: the young person had a request approved, or a package
    set up, in [lo, hi)."""
    person = PEOPLE.c.person_id
    return (
        exists()
        .where(
            PurchaseRequest.person_id == person,
            PurchaseRequest.approved_at >= lo,
            PurchaseRequest.approved_at < hi,
        )
        .correlate(PEOPLE)
    ) | (
        exists()
        .where(Package.person_id == person, Package.created_at >= lo, Package.created_at < hi)
        .correlate(PEOPLE)
    )


def paid_between(lo: Any, hi: Any) -> Any:
    """SQL, correlated to `report_people`: the young person had a request or an instalment of a
    package paid in [lo, hi)."""
    person = PEOPLE.c.person_id
    return (
        exists()
        .where(
            PurchaseRequest.person_id == person,
            PurchaseRequest.paid_on >= lo,
            PurchaseRequest.paid_on < hi,
        )
        .correlate(PEOPLE)
    ) | (
        exists()
        .where(
            Package.person_id == person,
            PackageInstalment.package_id == Package.id,
            PackageInstalment.state == package_rules.PAID,
            PackageInstalment.paid_on >= lo,
            PackageInstalment.paid_on < hi,
        )
        .correlate(PEOPLE)
    )
