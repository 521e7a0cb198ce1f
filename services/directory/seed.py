"""`phb seed` for the directory: the demo catalogue from `services.directory.demo_data`.

Idempotent. Writes no outbox events (docs/contracts.md): the search index is built from the
database when the directory starts with an empty index, and `phb directory reindex` rebuilds it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from services.directory import demo_data
from services.directory.adapters.orm import (
    CostOption,
    DueDiligenceRecord,
    Location,
    Organization,
    Schedule,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
)
from services.directory.domain.taxonomy import term_id
from shared.db import Database
from shared.demo import DEMO_PROVIDER_ID, DEMO_TODAY, demo_catalogue, demo_uuid


def anchor_day() -> date:
    """The demo's dates make sense on the demo clock and on the real one."""
    return max(date.today(), DEMO_TODAY)


def check_shared_catalogue() -> None:
    """Refuse to seed listings other services' seeds would not find in `shared/demo_catalogue.json`."""
    if list(demo_catalogue()) != demo_data.shared_catalogue()["listings"]:
        raise RuntimeError(
            "shared/demo_catalogue.json is out of date: "
            "python -m services.directory.demo_data > shared/demo_catalogue.json"
        )


def seed(db: Database) -> str:
    check_shared_catalogue()
    with db.write() as session:
        if session.get(Organization, DEMO_PROVIDER_ID) is not None:
            return "already seeded"
        anchor = anchor_day()
        terms = {t.id: t for t in session.query(TaxonomyTerm)}
        for p in demo_data.providers(anchor):
            recorded = datetime.combine(anchor, time(9, 0), tzinfo=UTC)
            session.add(
                Organization(
                    id=p.id,
                    name=p.name,
                    description=p.description,
                    email=p.email,
                    website=p.website,
                    phone=p.phone,
                    works_with_children=p.works_with_children,
                    created_at=recorded,
                    last_modified=recorded,
                    due_diligence=[
                        DueDiligenceRecord(
                            id=demo_uuid("check", f"{p.number}:{i}"),
                            kind=c.kind,
                            expires_on=c.expires_on,
                            checked_on=c.checked_on,
                            checked_by="demo-admin",
                            reference=c.reference,
                            recorded_at=datetime.combine(c.checked_on, time(10, 0), tzinfo=UTC),
                        )
                        for i, c in enumerate(p.checks)
                    ],
                )
            )
        session.flush()
        for n in range(demo_data.ALL_LISTINGS):
            listing = demo_data.listing(n, anchor)
            location = Location(
                id=listing.location_id,
                name=None,
                address_1=listing.address_1,
                town=listing.town,
                postcode=listing.postcode,
                latitude=listing.lat,
                longitude=listing.lng,
            )
            service = Service(
                id=listing.id,
                organization_id=listing.provider_id,
                name=listing.name,
                description=listing.description,
                status=listing.status,
                minimum_age=listing.min_age,
                maximum_age=listing.max_age,
                accessibility=listing.accessibility,
                languages=listing.languages,
                welcomes=listing.welcomes,
                assured_date=listing.assured_date,
                assurer="demo-admin",
                version=1,
                created_at=listing.last_modified,
                last_modified=listing.last_modified,
                terms=[terms[term_id(slug)] for slug in listing.categories],
                cost_options=[
                    CostOption(
                        id=c.id,
                        amount_pence=c.amount_pence,
                        currency="GBP",
                        unit=c.unit,
                        description=c.description,
                        position=j,
                    )
                    for j, c in enumerate(listing.cost_options)
                ],
                schedules=[
                    Schedule(
                        id=demo_uuid("schedule", f"{n}:{i}"),
                        byday=s.byday,
                        opens_at=s.opens_at,
                        closes_at=s.closes_at,
                        position=i,
                    )
                    for i, s in enumerate(listing.schedules)
                ],
                service_at_locations=[
                    ServiceAtLocation(id=demo_uuid("service_at_location", n), location=location)
                ],
            )
            session.add(service)
    return f"{demo_data.PROVIDERS} providers, {demo_data.ALL_LISTINGS} listings"
