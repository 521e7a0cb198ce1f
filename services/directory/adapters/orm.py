"""The directory service's tables (SQLAlchemy 2 typed models), shaped on HSDS / Open Referral UK 3.0.

organizations (providers) run services (listings); a service is delivered at locations
(service_at_locations), priced by cost options, open on schedules and tagged with taxonomy terms.
Due diligence records belong to an organisation; the audit log records every field a person changed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.orm import service_metadata
from shared.outbox import OutboxMixin, utcnow
from shared.replay import UsedTokenMixin


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = service_metadata()


# Where a session keeps every object it loaded, until the session itself is dropped.
LOADED = "phb_loaded"


@event.listens_for(Base, "load", propagate=True)
def _keep_until_the_session_ends(target: Base, context: Any) -> None:
    """CPython 3.11 can free memory twice when a collection frees a mapped object while the
    session is storing on that object's state (docs/operations.md, "A native crash in the
    directory"). Listings and providers refer to each other, so a loaded listing the caller has
    let go of is garbage only the collector frees; held here, it cannot be freed before its
    session has committed and closed, and SQLAlchemy stores on no state after that."""
    context.session.info.setdefault(LOADED, []).append(target)


class OutboxEvent(OutboxMixin, Base):
    """Events waiting to leave this service, written in the same transaction as the change."""


class UsedToken(UsedTokenMixin, Base):
    """Internal token ids already used, until their tokens expire (shared.replay)."""


class Organization(Base):
    """A provider: a gym, club, stable, sole trader... whatever the council might fund."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(40))
    # works with under-18s: a DBS check is then part of its due diligence
    works_with_children: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    services: Mapped[list[Service]] = relationship(back_populates="organization")
    due_diligence: Mapped[list[DueDiligenceRecord]] = relationship(
        back_populates="organization", order_by="DueDiligenceRecord.recorded_at"
    )


service_taxonomy = Table(
    "service_taxonomy",
    Base.metadata,
    Column(
        "service_id",
        String(36),
        ForeignKey("services.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "term_id",
        String(36),
        ForeignKey("taxonomy_terms.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class TaxonomyTerm(Base):
    """A category; parents include their children; an excluded term can never be funded."""

    __tablename__ = "taxonomy_terms"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("taxonomy_terms.id"), index=True)
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    # the activity needs a specialist qualification (e.g. equine-assisted work)
    needs_qualification: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Service(Base):
    """A listing: one thing a provider offers."""

    __tablename__ = "services"
    # the ORUK feed's order (keyset pages on (name, id)) over the listings in the feed
    __table_args__ = (
        Index(
            "ix_services_feed_order",
            "name",
            "id",
            postgresql_where=text("archived_at IS NULL"),
            sqlite_where=text("archived_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    welcomes: Mapped[list[str]] = mapped_column(JSON, default=list)
    assured_date: Mapped[date | None] = mapped_column(Date)
    assurer: Mapped[str | None] = mapped_column(String(200))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )

    organization: Mapped[Organization] = relationship(back_populates="services")
    terms: Mapped[list[TaxonomyTerm]] = relationship(
        secondary=service_taxonomy, order_by="TaxonomyTerm.position"
    )
    cost_options: Mapped[list[CostOption]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="CostOption.position"
    )
    schedules: Mapped[list[Schedule]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="Schedule.position"
    )
    service_at_locations: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str | None] = mapped_column(String(200))
    address_1: Mapped[str] = mapped_column(String(200), default="")
    town: Mapped[str] = mapped_column(String(80), default="")
    postcode: Mapped[str | None] = mapped_column(String(10), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class ServiceAtLocation(Base):
    __tablename__ = "service_at_locations"
    # the places feed's order, on the place row: (service name, service id, id) over places whose
    # service is in the feed; the two copies are the database's to keep (triggers, migration 0007)
    __table_args__ = (
        Index(
            "ix_service_at_locations_feed_order",
            "service_name",
            "service_id",
            "id",
            postgresql_where=text("service_archived_at IS NULL"),
            sqlite_where=text("service_archived_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), index=True)
    # copies of the service's name and archived_at, kept by triggers; never written from here
    service_name: Mapped[str | None] = mapped_column(
        String(200), server_default=FetchedValue(), server_onupdate=FetchedValue()
    )
    service_archived_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=FetchedValue(), server_onupdate=FetchedValue()
    )

    service: Mapped[Service] = relationship(back_populates="service_at_locations")
    location: Mapped[Location] = relationship(lazy="joined")


class FeedCount(Base):
    """How many services ("services") and places ("places") are in the ORUK feed: the sum of a
    feed's slots, kept exact by triggers (migration 0008); never written from here."""

    __tablename__ = "feed_counts"

    feed: Mapped[str] = mapped_column(String(20), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class CostOption(Base):
    """A price: integer pence, GBP, per session / month / year or one-off (0 = free)."""

    __tablename__ = "cost_options"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    amount_pence: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="GBP")
    unit: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    service: Mapped[Service] = relationship(back_populates="cost_options")


class Schedule(Base):
    """A weekly opening: days as iCal BYDAY codes ("MO,WE"), times "HH:MM"."""

    __tablename__ = "schedules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    byday: Mapped[str] = mapped_column(String(40))
    opens_at: Mapped[str] = mapped_column(String(5))
    closes_at: Mapped[str] = mapped_column(String(5))
    description: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    service: Mapped[Service] = relationship(back_populates="schedules")


class DueDiligenceRecord(Base):
    """One check of a provider: insurance, safeguarding policy, DBS or a specialist qualification.

    The latest record of each kind counts; `expires_on` is the insurance expiry, the policy's review
    date, the DBS renewal or the qualification's end."""

    __tablename__ = "due_diligence_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    checked_on: Mapped[date] = mapped_column(Date)
    checked_by: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="due_diligence")


class AuditEntry(Base):
    """Who changed which field of what, when, from what to what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(20))
    field: Mapped[str | None] = mapped_column(String(80))
    old_value: Mapped[Any] = mapped_column(JSON)
    new_value: Mapped[Any] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class SearchLogEntry(Base):
    """One search, with no personal data: the words as understood, the filters, the town named,
    how many results and how many nearby, and whether a listing was funded afterwards."""

    __tablename__ = "search_log"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    words: Mapped[str] = mapped_column(String(400), default="")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    town: Mapped[str | None] = mapped_column(String(80))
    results: Mapped[int] = mapped_column(Integer, default=0)
    nearby: Mapped[int | None] = mapped_column(Integer)
    unmet: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    changes: Mapped[list[str]] = mapped_column(JSON, default=list)  # kinds of change made
    funded: Mapped[bool] = mapped_column(Boolean, default=False)
    # who searched, as a one-way digest of their sub (None for a search without a sign-in):
    # only they may mark the search as funded
    searcher: Mapped[str | None] = mapped_column(String(64))
