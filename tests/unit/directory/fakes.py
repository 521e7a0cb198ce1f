"""In-memory stand-ins for the directory's ports, for service-layer unit tests.

`FakeListingStore` keeps the promises `listings.ListingStore` makes: an unknown listing is not
found, and each change is audited and announced to the search index (its outbox) together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.directory.adapters.orm import Service
from shared.errors import NotFound
from shared.identity import Identity
from tests.unit.fakes import FakeOutbox, inserted

AUDITED = ("name", "status", "archived_at", "assured_date", "assurer")


@dataclass
class FakeListingStore:
    rows: dict[str, Service] = field(default_factory=dict)
    outbox: FakeOutbox = field(default_factory=FakeOutbox)
    audit: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)

    def lock(self, listing_id: str) -> Service:
        if listing_id not in self.rows:
            raise NotFound("There is no such listing.")
        return self.rows[listing_id]

    def snapshot(self, service: Service) -> dict[str, Any]:
        return {name: getattr(service, name) for name in AUDITED}

    def changed(
        self, actor: Identity, service: Service, before: dict[str, Any], action: str
    ) -> None:
        after = self.snapshot(service)
        fields = {k: (before[k], after[k]) for k in AUDITED if before[k] != after[k]}
        self.audit.append((action, service.id, actor.sub, fields))
        self.outbox.publish("listing.upserted", {"id": service.id, "version": service.version})

    def add(
        self, listing_id: str, *, organization_id: str = "org-1", name: str = "Climbing club"
    ) -> Service:
        service = Service(
            id=listing_id,
            organization_id=organization_id,
            name=name,
            status="active",
            version=1,
            last_modified=datetime(2026, 1, 1, tzinfo=UTC),
        )
        self.rows[listing_id] = inserted(service)
        return service
