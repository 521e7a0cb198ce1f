"""Building blocks for budget tests: a migrated database, a stand-in directory port, a funded scheme."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.budget.adapters.directory import Fundability
from shared.db import Database
from shared.identity import Identity
from tests.integration.budget import factories
from tests.support import migrate

ADMIN, ADVISOR, HOLDER, FINANCE = (
    factories.ADMIN,
    factories.ADVISOR,
    factories.HOLDER,
    factories.FINANCE,
)
ADVISOR_2 = Identity(sub="advisor-2", role="advisor")
HOLDERS = factories.HOLDERS
TODAY = factories.TODAY


def migrated(url: str) -> Database:
    migrate("budget", url)
    return Database(url)


@dataclass
class StubDirectory:
    """The directory port's answers, fixed per listing (the real one is exercised end to end)."""

    answers: dict[str, Fundability] = field(default_factory=dict)
    calls: int = 0

    def add(
        self,
        listing_id: str,
        price: int = 2000,
        *,
        fundable: bool = True,
        verified: bool = True,
        categories: tuple[str, ...] = ("sport-fitness",),
    ) -> str:
        self.answers[listing_id] = Fundability(
            listing_id=listing_id,
            cost_option_id=None,
            fundable=fundable,
            reasons=[]
            if fundable
            else [{"code": "provider_lapsed", "message": "Insurance lapsed."}],
            price_pence=price,
            listing_name=f"Listing {listing_id[:4]}",
            provider_id="prov-" + listing_id[:4],
            provider_name="Provider " + listing_id[:4],
            provider_verified=verified,
            categories=list(categories),
        )
        return listing_id

    def fundability(self, listing_id: str, cost_option_id: str | None) -> Fundability:
        self.calls += 1
        return self.answers[listing_id]


def funded_scheme(
    db: Database, *, pot_pence: int = 1_000_000, cap: int = 50_000, auto: int = 0
) -> tuple[str, str]:
    """A scheme with one pot, its budget holders assigned: (scheme id, pot id)."""
    scheme = factories.create_scheme(db, cap_pence=cap, auto_approve_pence=auto)
    pot = factories.create_pot(db, scheme_id=scheme.id, amount_pence=pot_pence)
    return scheme.id, pot.id


def person_with_plan(db: Database, scheme_id: str, advisor: Identity = ADVISOR) -> tuple[str, str]:
    """A young person on `advisor`'s caseload with a plan: (person id, the plan's goal id)."""
    person = factories.create_person(db, scheme_id=scheme_id, advisor=advisor)
    plan = factories.create_plan(db, person_id=person.id, advisor=advisor)
    return person.id, plan["goals"][0]["id"]
