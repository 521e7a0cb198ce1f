"""Building blocks for budget tests: a migrated database, a stand-in directory port, a funded scheme."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from services.budget.adapters.directory import Fundability
from services.budget.service_layer import people, schemes
from shared.db import Database
from shared.identity import Identity
from shared.migrations import upgrade

ADMIN = Identity(sub="admin-1", role="admin")
ADVISOR = Identity(sub="advisor-1", role="advisor")
ADVISOR_2 = Identity(sub="advisor-2", role="advisor")
HOLDER = Identity(sub="holder-1", role="budget_holder")
FINANCE = Identity(sub="finance-1", role="finance")
# The budget holders the scheme helpers assign: the service-layer one and the HTTP fixtures' ones.
HOLDERS = (HOLDER.sub, "test-budget_holder", "holder")
TODAY = date(2026, 11, 24)


def migrated(url: str) -> Database:
    upgrade("budget", url)
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
    scheme = schemes.create_scheme(
        db,
        ADMIN,
        {
            "name": "Care leavers",
            "cap_pence": cap,
            "min_age": 16,
            "max_age": 25,
            "auto_approve_pence": auto,
        },
    )
    pot = schemes.create_pot(
        db,
        ADMIN,
        {
            "scheme_id": scheme.id,
            "name": "NHS grant",
            "funder": "NHS England",
            "amount_pence": pot_pence,
            "starts_on": date(2026, 4, 1),
        },
    )
    for holder in HOLDERS:  # budget holders see only the schemes they are assigned
        schemes.assign_holder(db, ADMIN, scheme.id, holder)
    return scheme.id, pot.id


def person_with_plan(db: Database, scheme_id: str, advisor: Identity = ADVISOR) -> tuple[str, str]:
    person = people.enrol_person(
        db,
        advisor,
        {"scheme_id": scheme_id, "case_reference": "LC-1", "birth_date": date(2006, 5, 1)},
        today=TODAY,
    )
    plan = people.create_plan(
        db, advisor, person.id, {"goals": [{"text": "sleep better"}]}, today=TODAY
    )
    return person.id, plan["goals"][0]["id"]
