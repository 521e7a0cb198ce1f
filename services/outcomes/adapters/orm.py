"""The outcomes service's tables (SQLAlchemy 2 typed models)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.clock import utcnow
from shared.inbox import InboxMixin
from shared.orm import service_metadata
from shared.outbox import OutboxMixin
from shared.replay import UsedTokenMixin


class Base(DeclarativeBase):
    metadata = service_metadata()


class OutboxEvent(OutboxMixin, Base):
    """Events waiting to leave this service, written in the same transaction as the change."""


class UsedToken(UsedTokenMixin, Base):
    """Internal token ids already used, until their tokens expire (shared.replay)."""


class InboxEvent(InboxMixin, Base):
    """Event ids already applied, so a redelivered event changes nothing."""


class ReceivedEvent(Base):
    """Every event received, kept so it can be replayed (e.g. one that named a person not yet known)."""

    __tablename__ = "received_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    topic: Mapped[str] = mapped_column(String(80), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="applied", index=True)
    note: Mapped[str | None] = mapped_column(String(500))


class Person(Base):
    """A young person as the budget service announced them: pseudonymous, no name, no date of birth."""

    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    scheme_id: Mapped[str] = mapped_column(String(36), index=True)
    advisor_sub: Mapped[str] = mapped_column(String(200), index=True)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    consent_evaluation: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_case_study: Mapped[bool] = mapped_column(Boolean, default=False)
    enrolled_at: Mapped[str | None] = mapped_column(String(40))


class SchemeInfo(Base):
    """A scheme as the budget service announced it (scheme.changed): its name, kind and ages."""

    __tablename__ = "schemes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(30), default="")
    min_age: Mapped[int | None] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)


class SchemeOutcomeSettings(Base):
    """Which instrument set a scheme's check-ins ask, a parent's proxy set for a young child, and
    the age bands its reports use. Outcomes owns these: it owns the instruments."""

    __tablename__ = "scheme_outcome_settings"

    scheme_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instrument_set: Mapped[str] = mapped_column(String(40))
    proxy_set: Mapped[str | None] = mapped_column(String(40))
    proxy_below_age: Mapped[int | None] = mapped_column(Integer)
    age_bands: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CarerLink(Base):
    """A parent or carer the budget service says may act for this child (it ends at 16)."""

    __tablename__ = "carer_links"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    carer_sub: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    goals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    next_review_date: Mapped[str | None] = mapped_column(String(10))


class Activity(Base):
    """An approved purchase request: what the young person is doing, and when it started."""

    __tablename__ = "activities"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    plan_id: Mapped[str | None] = mapped_column(String(36))
    goal_id: Mapped[str | None] = mapped_column(String(36))
    listing_id: Mapped[str | None] = mapped_column(String(36))
    provider_id: Mapped[str | None] = mapped_column(String(36), index=True)
    category: Mapped[str | None] = mapped_column(String(80))
    amount_pence: Mapped[int] = mapped_column(Integer, default=0)
    # What was paid for it (the budget service's request.paid), for cost per improvement.
    paid_pence: Mapped[int] = mapped_column(Integer, default=0)
    approved_at: Mapped[str | None] = mapped_column(String(40))
    paid_at: Mapped[str | None] = mapped_column(String(40), index=True)
    started_on: Mapped[date | None] = mapped_column(Date)


class CheckIn(Base):
    """One asking: a baseline, or a follow-up some weeks after an activity started."""

    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("person_id", "kind", "activity_id", "week"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # baseline | follow_up
    week: Mapped[int] = mapped_column(Integer, default=0)
    activity_id: Mapped[str] = mapped_column(String(36), default="", index=True)
    instruments: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The scheme's set it was made from, and who answers it: the young person, or (proxy) their
    # parent or carer. A transfer re-makes the open ones from the new scheme's set.
    instrument_set: Mapped[str] = mapped_column(String(40), default="default")
    respondent: Mapped[str] = mapped_column(String(10), default="self")
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    scores: Mapped[dict[str, float] | None] = mapped_column(JSON)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_via: Mapped[str | None] = mapped_column(String(20))  # link | advisor | carer
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FeedbackLink(Base):
    """A single-use, expiring link to one check-in; only the token's SHA-256 is kept."""

    __tablename__ = "feedback_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    checkin_id: Mapped[str] = mapped_column(ForeignKey("checkins.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Observation(Base):
    """What an advisor saw, added to a check-in."""

    __tablename__ = "observations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    checkin_id: Mapped[str] = mapped_column(ForeignKey("checkins.id"), index=True)
    author_sub: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CaseStudy(Base):
    """A de-identified story of one young person's journey; in reports only once an admin approves it."""

    __tablename__ = "case_studies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    author_sub: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))
    story: Mapped[str] = mapped_column(Text)
    age_band: Mapped[str] = mapped_column(String(20))
    place: Mapped[str] = mapped_column(String(80))
    category: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# Answered check-ins' scores as rows are this service's too (imported so the metadata has them).
from services.outcomes.adapters import checkin_scores as _checkin_scores  # noqa: E402,F401
