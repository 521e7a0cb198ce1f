"""The budget service's tables (SQLAlchemy 2 typed models).

Money lives only in `ledger_accounts` (cached balances, checked by constraints) and the append-only
`ledger_entries`; every other table refers to it. Amounts are integer pence.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.budget.adapters.orm_base import Base, OutboxEvent, UsedToken
from services.budget.adapters.orm_packages import (
    Package,
    PackageInstalment,
    PaymentRunInstalment,
)
from shared.clock import utcnow


class Scheme(Base):
    """A PHB scheme as configuration: cap, ages, what it may not fund, approval rule, reviews."""

    __tablename__ = "schemes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    cap_pence: Mapped[int] = mapped_column(Integer)
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    excluded_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    auto_approve_pence: Mapped[int] = mapped_column(Integer, default=0)
    first_review_months: Mapped[int] = mapped_column(Integer, default=3)
    review_months: Mapped[int] = mapped_column(Integer, default=12)
    period_months: Mapped[int] = mapped_column(Integer, default=12)
    hold_expiry_days: Mapped[int] = mapped_column(Integer, default=90)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Separation of duties may be waived only for a small named team (a small council office).
    combined_duties_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    combined_duties_team: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The kind's settings (services.budget.domain.schemes): data every rule reads, never a code path.
    kind: Mapped[str] = mapped_column(String(30), default="care_leavers")
    cap_basis: Mapped[str] = mapped_column(String(20), default="scheme")
    budget_type: Mapped[str] = mapped_column(String(20), default="notional")
    third_party_name: Mapped[str | None] = mapped_column(String(200))
    carry_over: Mapped[str] = mapped_column(String(20), default="return")
    eligibility: Mapped[str] = mapped_column(String(30), default="none")
    parent_may_act: Mapped[bool] = mapped_column(Boolean, default=False)
    # Not read since the outcomes service owns a scheme's check-in questions and age bands (its
    # /schemes/{id}/outcome-settings); kept until a migration drops them.
    instrument_set: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["ons4", "loneliness", "sleep"]
    )
    age_bands: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["16-17", "18-20", "21-25"])
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SchemeAssignment(Base):
    """A budget holder assigned to a scheme by an admin: without one they see nothing of it."""

    __tablename__ = "scheme_assignments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scheme_id: Mapped[str] = mapped_column(ForeignKey("schemes.id"), index=True)
    sub: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("scheme_id", "sub"),)


class Pot(Base):
    """A funding source (an NHS grant, a council top-up) that young people's allocations draw on."""

    __tablename__ = "pots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scheme_id: Mapped[str] = mapped_column(ForeignKey("schemes.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    funder: Mapped[str] = mapped_column(String(200))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    # Joint funding: health, education or social care; shown separately on each person's budget.
    funding_stream: Mapped[str] = mapped_column(String(20), default="health")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # The council's finance code for this money (its general-ledger cost centre), on payment runs.
    cost_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Person(Base):
    """A young person: pseudonymous (a case reference, never a name)."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scheme_id: Mapped[str] = mapped_column(ForeignKey("schemes.id"), index=True)
    pot_id: Mapped[str] = mapped_column(ForeignKey("pots.id"), index=True)
    case_reference: Mapped[str] = mapped_column(String(60))
    birth_date: Mapped[date] = mapped_column(Date)
    advisor_sub: Mapped[str] = mapped_column(String(200), index=True)
    consent_evaluation: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_case_study: Mapped[bool] = mapped_column(Boolean, default=False)
    allocation_pence: Mapped[int] = mapped_column(Integer)
    referred_on: Mapped[date] = mapped_column(Date)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enrolled_by: Mapped[str] = mapped_column(String(200))
    # active, or transferred_out (to another council: their record went with an export)
    status: Mapped[str] = mapped_column(String(20), default="active")
    left_on: Mapped[date | None] = mapped_column(Date)


class EligibilityRecord(Base):
    """Why someone may have a PHB on a scheme that needs a reason: section 117 aftercare, or an
    EHC plan or continuing-care decision. Reviewed at each aftercare (or annual) review."""

    __tablename__ = "eligibility_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    basis: Mapped[str] = mapped_column(String(30))  # section_117, ehc_plan, continuing_care
    mha_section: Mapped[str | None] = mapped_column(String(10))
    aftercare_plan_date: Mapped[date | None] = mapped_column(Date)
    responsible_nhs_body: Mapped[str | None] = mapped_column(String(200))
    responsible_council: Mapped[str | None] = mapped_column(String(200))
    ehc_plan_reference: Mapped[str | None] = mapped_column(String(60))
    continuing_care_decided_on: Mapped[date | None] = mapped_column(Date)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(200))


class EligibilityReview(Base):
    """One aftercare (or EHC annual) review of an eligibility record: it continues or it ends."""

    __tablename__ = "eligibility_reviews"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("eligibility_records.id"), index=True)
    reviewed_on: Mapped[date] = mapped_column(Date)
    continues: Mapped[bool] = mapped_column(Boolean)
    next_review_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    by_sub: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SchemeTransfer(Base):
    """A person moved between schemes (or out to another council): what was left and where it went."""

    __tablename__ = "scheme_transfers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    from_scheme_id: Mapped[str] = mapped_column(ForeignKey("schemes.id"))
    to_scheme_id: Mapped[str | None] = mapped_column(ForeignKey("schemes.id"))
    to_council: Mapped[str | None] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(20))  # the old scheme's carry_over rule, as applied
    remaining_pence: Mapped[int] = mapped_column(Integer)
    returned_pence: Mapped[int] = mapped_column(Integer)
    carried_pence: Mapped[int] = mapped_column(Integer)
    new_allocation_pence: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    transferred_on: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by_sub: Mapped[str] = mapped_column(String(200))


class CarerLink(Base):
    """A parent or carer who may act for one child (under 16, on a scheme that allows it)."""

    __tablename__ = "carer_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    carer_sub: Mapped[str] = mapped_column(String(200), index=True)
    relationship: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("person_id", "carer_sub"),)


class Plan(Base):
    """The health and wellbeing plan made with the young person."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    needs: Mapped[str] = mapped_column(Text, default="")
    ideas: Mapped[str] = mapped_column(Text, default="")
    next_review_date: Mapped[date] = mapped_column(Date, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class Goal(Base):
    __tablename__ = "goals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PurchaseRequest(Base):
    __tablename__ = "purchase_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # (found by ix_purchase_requests_person_approved, which it leads)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    goal_id: Mapped[str] = mapped_column(ForeignKey("goals.id"))
    listing_id: Mapped[str | None] = mapped_column(
        String(36)
    )  # (no query looks a request up by it)
    cost_option_id: Mapped[str | None] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(36), index=True)
    payee: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(80))
    provider_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    amount_pence: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    paid_by: Mapped[str | None] = mapped_column(String(200))
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    paid_on: Mapped[date | None] = mapped_column(Date)  # indexed with person_id: report_summary
    paid_pence: Mapped[int] = mapped_column(Integer, default=0)
    recovered_pence: Mapped[int] = mapped_column(Integer, default=0)
    evidence_reference: Mapped[str | None] = mapped_column(String(200))
    evidence_note: Mapped[str | None] = mapped_column(Text)
    activity_started_on: Mapped[date | None] = mapped_column(Date)
    # The open (or paid) payment run this request is in: set only by a conditional UPDATE that
    # finds it NULL, so two runs made at once never share a request.
    payment_run_id: Mapped[str | None] = mapped_column(ForeignKey("payment_runs.id"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # indexed with person_id (report_summary)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("recovered_pence <= paid_pence", name="recovered_within_paid"),
        # A young person's requests (every lookup by person_id), their first approval.
        Index("ix_purchase_requests_person_approved", "person_id", "approved_at"),
        # Partial indexes (issue 16): every state change writes each index a request's row is in
        # (its state is indexed, so no update is HOT), so an index of a column that is NULL until
        # late in a request's life holds only the rows where it is set (these two and the paid
        # one in `report_summary`: an approval writes none of them). Every query on them names a
        # value (`=`, `<`, `>=`) or `IS NOT NULL`, which implies the predicate.
        Index(
            "ix_purchase_requests_person_started",
            "person_id",
            "activity_started_on",
            postgresql_where=text("activity_started_on IS NOT NULL"),
            sqlite_where=text("activity_started_on IS NOT NULL"),
        ),
        Index(
            "ix_purchase_requests_payment_run_id",
            "payment_run_id",
            postgresql_where=text("payment_run_id IS NOT NULL"),
            sqlite_where=text("payment_run_id IS NOT NULL"),
        ),
    )


class PaymentRun(Base):
    """A batch of approved requests finance pays together, under one reference."""

    __tablename__ = "payment_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(12), index=True)  # open, paid or cancelled
    due_by: Mapped[date] = mapped_column(Date)
    scheme_id: Mapped[str | None] = mapped_column(String(36))
    request_count: Mapped[int] = mapped_column(Integer)
    total_pence: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_by: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(String(200))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    instalment_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (CheckConstraint("state IN ('open', 'paid', 'cancelled')", name="run_state"),)


class PaymentRunItem(Base):
    """A request in a run, kept after the run is cancelled (the run's record stays whole)."""

    __tablename__ = "payment_run_items"

    run_id: Mapped[str] = mapped_column(ForeignKey("payment_runs.id"), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("purchase_requests.id"), primary_key=True, index=True
    )
    amount_pence: Mapped[int] = mapped_column(Integer)


class Document(Base):
    """An invoice, receipt or evidence of purchase for a request; its bytes live in the store."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("purchase_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(100))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_role: Mapped[str] = mapped_column(String(40))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RequestTransition(Base):
    """Every change of a request's state: when, by whom, why."""

    __tablename__ = "request_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("purchase_requests.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by_sub: Mapped[str] = mapped_column(String(200))
    by_role: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditRecord(Base):
    """Audited actions that are not request transitions (reassignment, consent, scheme changes)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by_sub: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str] = mapped_column(String(36), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LedgerAccount(Base):
    """An account with a cached balance; only `funding` accounts (money's outside source) go negative."""

    __tablename__ = "ledger_accounts"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    balance_pence: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        CheckConstraint("balance_pence >= 0 OR kind = 'funding'", name="no_overspend"),
    )


class LedgerTransaction(Base):
    """One balanced movement of money; its entries sum to zero."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))  # pending (holds) or posted
    request_id: Mapped[str | None] = mapped_column(String(36), index=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class LedgerEntry(Base):
    """Append-only: a debit or a credit on one account. Never updated or deleted."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    debit_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_pence: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        CheckConstraint(
            "debit_pence >= 0 AND credit_pence >= 0 AND (debit_pence = 0 OR credit_pence = 0)",
            name="one_sided",
        ),
    )


class IdempotencyKey(Base):
    """A POST that moves money, remembered by its caller's key so a retry gets the same answer."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))  # in_flight or done
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class CohortSize(Base):
    """How many young people a scheme could reach in a period, as the council counts them; reach is
    reported as a share of it."""

    __tablename__ = "cohort_sizes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scheme_id: Mapped[str] = mapped_column(ForeignKey("schemes.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    size: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (
        UniqueConstraint("scheme_id", "period_start", "period_end"),
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
    )


class PlanReview(Base):
    """A plan review done: when it was due and when it happened (reviews on time, for the Panel)."""

    __tablename__ = "plan_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    reviewed_on: Mapped[date] = mapped_column(Date)
    reviewed_by: Mapped[str] = mapped_column(String(200))


# The report summary's tables are this service's too (imported here so the metadata has them).
from services.budget.adapters import report_summary as _report_summary  # noqa: E402,F401

__all__ = [
    "Base",
    "OutboxEvent",
    "Package",
    "PackageInstalment",
    "PaymentRunInstalment",
    "UsedToken",
]
