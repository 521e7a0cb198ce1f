"""A feed page's services as plain records read with Core, one query per related table.

The ORM built ~400 tracked objects for a page of 50 nested services (identity map, collections,
and the garbage collector walking them: most of the page's CPU). These records carry the same
attributes `oruk_json.service_json` reads, with the same values and the same orders as the
relationships load them (prices and sessions by position, terms by the taxonomy's position);
a test holds a page built from them equal to the same services built from the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from services.directory.adapters.orm import (
    CostOption,
    Location,
    Organization,
    Schedule,
    ServiceAtLocation,
    TaxonomyTerm,
    service_taxonomy,
)

COST = CostOption.__table__
SCHEDULE = Schedule.__table__
SAL = ServiceAtLocation.__table__
LOCATION = Location.__table__
ORG = Organization.__table__


def page_records(
    session: Session, rows: Sequence[Row[Any]], index: dict[str, TaxonomyTerm]
) -> list[Any]:
    """`rows` (services' columns, in the page's order) with their provider, prices, sessions,
    places and terms attached as `service_json` reads them."""
    services = {
        row.id: SimpleNamespace(
            **row._mapping, cost_options=[], schedules=[], service_at_locations=[], terms=[]
        )
        for row in rows
    }
    if not services:
        return []
    ids = list(services)
    org_ids = {s.organization_id for s in services.values()}
    orgs = {
        row.id: SimpleNamespace(**row._mapping)
        for row in session.execute(select(ORG).where(ORG.c.id.in_(org_ids)))
    }
    for service in services.values():
        service.organization = orgs[service.organization_id]
    for row in session.execute(
        select(COST).where(COST.c.service_id.in_(ids)).order_by(COST.c.position)
    ):
        services[row.service_id].cost_options.append(SimpleNamespace(**row._mapping))
    for row in session.execute(
        select(SCHEDULE).where(SCHEDULE.c.service_id.in_(ids)).order_by(SCHEDULE.c.position)
    ):
        services[row.service_id].schedules.append(SimpleNamespace(**row._mapping))
    places = select(
        SAL.c.id,
        SAL.c.service_id,
        SAL.c.location_id,
        *(column.label(f"loc__{column.name}") for column in LOCATION.c),
    ).select_from(SAL.outerjoin(LOCATION, LOCATION.c.id == SAL.c.location_id))
    for row in session.execute(places.where(SAL.c.service_id.in_(ids))):
        service = services[row.service_id]
        location = SimpleNamespace(
            **{column.name: row._mapping[f"loc__{column.name}"] for column in LOCATION.c}
        )
        service.service_at_locations.append(
            SimpleNamespace(
                id=row.id,
                service_id=row.service_id,
                location_id=row.location_id,
                location=location,
                service=service,
            )
        )
    links = session.execute(
        select(service_taxonomy.c.service_id, service_taxonomy.c.term_id).where(
            service_taxonomy.c.service_id.in_(ids)
        )
    )
    for service_id, term_id in links:
        services[service_id].terms.append(index[term_id])
    for service in services.values():
        service.terms.sort(key=lambda term: term.position)
    return list(services.values())
