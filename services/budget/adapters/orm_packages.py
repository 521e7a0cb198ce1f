"""Ongoing packages' tables: the package, its instalments, and instalments waiting in payment runs.

Kept apart from `orm` only for its length; `orm` re-exports these classes, and Alembic sees them
through the same metadata.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.budget.adapters.orm_base import Base
from shared.clock import utcnow


class Package(Base):
    """An ongoing package: a recurring commitment (a gym paid monthly, a support worker weekly).

    Its whole term is held from the young person's budget when it is made; each instalment's
    payment posts that instalment from the hold, and ending it early gives the rest back.
    """

    __tablename__ = "packages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    goal_id: Mapped[str] = mapped_column(ForeignKey("goals.id"))
    listing_id: Mapped[str | None] = mapped_column(String(36), index=True)
    cost_option_id: Mapped[str | None] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(36), index=True)
    payee: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(80))
    frequency: Mapped[str] = mapped_column(String(10))  # weekly or monthly
    instalment_pence: Mapped[int] = mapped_column(Integer)
    instalments: Mapped[int] = mapped_column(Integer)
    amount_pence: Mapped[int] = mapped_column(Integer)  # the whole term, held when made
    starts_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_by: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        CheckConstraint("instalment_pence > 0", name="instalment_positive"),
        CheckConstraint("instalments > 0", name="instalments_positive"),
        CheckConstraint("amount_pence = instalment_pence * instalments", name="term_whole"),
    )


class PackageInstalment(Base):
    """One instalment of a package: due, then paid once, or cancelled when the package ends early."""

    __tablename__ = "package_instalments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(ForeignKey("packages.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    amount_pence: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10))  # due, paid, cancelled
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_by: Mapped[str | None] = mapped_column(String(200))
    payment_run_id: Mapped[str | None] = mapped_column(
        ForeignKey("payment_runs.id"), index=True
    )  # the open run it waits in, if any

    __table_args__ = (
        UniqueConstraint("package_id", "number"),
        Index("ix_package_instalments_state_due_on", "state", "due_on"),
    )


class PaymentRunInstalment(Base):
    """A package instalment in a run, kept after the run is cancelled (like `PaymentRunItem`)."""

    __tablename__ = "payment_run_instalments"

    run_id: Mapped[str] = mapped_column(ForeignKey("payment_runs.id"), primary_key=True)
    instalment_id: Mapped[int] = mapped_column(
        ForeignKey("package_instalments.id"), primary_key=True, index=True
    )
    amount_pence: Mapped[int] = mapped_column(Integer)
