"""Demo data for the budget service (`phb seed`): the scheme, two pots, 80 young people, plans, history.

Ids follow docs/contracts.md "Demo data"; dates are laid out around `DEMO_TODAY`. Every penny goes
through the ledger, so `phb budget verify` is clean after seeding. Seeds write no outbox events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from services.budget.adapters import report_summary
from services.budget.adapters.orm import (
    Goal,
    Person,
    Plan,
    Pot,
    PurchaseRequest,
    RequestTransition,
    Scheme,
    SchemeAssignment,
)
from services.budget.domain import rules
from services.budget.seed_schemes import seed_other_schemes
from services.budget.service_layer.ledger import Ledger
from services.budget.service_layer.schemes import fund_pot
from shared.db import Database
from shared.demo import DEMO_TODAY, demo_catalogue, demo_uuid

PEOPLE = 80
FRESH = 4  # persons 0-3: enrolled with a plan, nothing spent
SEEDER = "seed"
GOAL_TEXTS = (
    "Sleep better and feel less tired",
    "Get out of the flat and meet people",
    "Get fitter and feel stronger",
    "Learn something new that I enjoy",
    "Feel calmer when things get on top of me",
    "Find something to do while I wait for college",
)
EXCLUDED = ["alcohol", "tobacco", "gambling", "debt-repayment", "primary-care", "emergency-care"]


@dataclass(frozen=True)
class DemoListing:
    number: int
    id: str
    cost_option_id: str | None
    name: str
    category: str
    price_pence: int
    provider_id: str
    provider_name: str
    fundable: bool = True


def catalogue_size() -> int:
    return len(demo_catalogue())


def demo_listing(n: int) -> DemoListing:
    """Listing n of the directory's demo catalogue, as the shared data file describes it."""
    entry = demo_catalogue()[n]
    categories = list(entry["categories"])
    return DemoListing(
        number=n,
        id=entry["id"],
        cost_option_id=entry["cost_option_id"],
        name=entry["name"],
        category=categories[0] if categories else "sport-fitness",
        price_pence=entry["price_pence"],
        provider_id=entry["provider_id"],
        provider_name=entry["provider_name"],
        fundable=(
            entry["status"] == "active"
            and entry["provider_state"] in ("verified", "expiring")
            and entry["price_pence"] > 0
            and not set(categories) & set(EXCLUDED)
        ),
    )


def seed(db: Database) -> str:
    with db.session() as session:
        if session.get(Scheme, demo_uuid("scheme", 0)) is not None:
            return "already seeded"
    return db.run_write(_seed)


def _seed(session: Session) -> str:
    rng = random.Random(20261102)
    scheme = Scheme(
        id=demo_uuid("scheme", 0),
        name="Care leavers' wellbeing budget",
        cap_pence=50_000,
        min_age=16,
        max_age=25,
        excluded_categories=EXCLUDED,
        auto_approve_pence=5_000,
        first_review_months=3,
        review_months=12,
        period_months=12,
        hold_expiry_days=90,
        active=True,
        created_at=_at(DEMO_TODAY - timedelta(days=400)),
    )
    aftercare = Scheme(
        id=demo_uuid("scheme", 1),
        name="Mental health aftercare (section 117)",
        cap_pence=150_000,
        min_age=None,
        max_age=None,
        excluded_categories=EXCLUDED,
        auto_approve_pence=0,
        kind="mental_health_s117",
        cap_basis="per_plan",
        carry_over="carry",
        eligibility="section_117",
        created_at=_at(DEMO_TODAY - timedelta(days=400)),
    )
    session.add_all([scheme, aftercare])
    session.flush()
    for holder_scheme in (scheme, aftercare):  # the demo budget holder holds both schemes
        session.add(
            SchemeAssignment(
                id=demo_uuid("assignment", holder_scheme.id),
                scheme_id=holder_scheme.id,
                sub="demo-budget-holder",
                created_by=SEEDER,
            )
        )
    pots = [
        Pot(
            id=demo_uuid("pot", 0),
            scheme_id=scheme.id,
            name="Care leavers PHB grant 2026-27",
            funder="NHS England",
            amount_pence=3_500_000,
            starts_on=date(2026, 4, 1),
            ends_on=date(2027, 3, 31),
        ),
        Pot(
            id=demo_uuid("pot", 1),
            scheme_id=scheme.id,
            name="Leaving care top-up",
            funder="County council",
            amount_pence=1_500_000,
            starts_on=date(2026, 4, 1),
            ends_on=date(2027, 3, 31),
        ),
        Pot(
            id=demo_uuid("pot", 2),
            scheme_id=aftercare.id,
            name="Section 117 aftercare",
            funder="Integrated care board",
            amount_pence=2_000_000,
            starts_on=date(2026, 4, 1),
            ends_on=None,
        ),
    ]
    session.add_all(pots)
    session.flush()
    for pot in pots:
        fund_pot(session, pot, SEEDER)
    requests = 0
    for n in range(PEOPLE):
        # a third draw on the council's top-up, so each funder's quarter has enough people to show
        pot = pots[1] if n % 3 == 2 else pots[0]
        person = _person(session, rng, n, scheme, pot)
        goals = _plan(session, rng, n, person)
        if n >= FRESH:
            requests += _history(session, rng, n, person, goals)
    others = seed_other_schemes(session)
    session.flush()
    report_summary.rebuild(session)  # the requests above were written directly
    return f"{PEOPLE} young people, {requests} purchase requests, 3 pots; {others}"


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _person(session: Session, rng: random.Random, n: int, scheme: Scheme, pot: Pot) -> Person:
    referred = DEMO_TODAY - timedelta(days=5 if n < FRESH else rng.randint(30, 330))
    person = Person(
        id=demo_uuid("person", n),
        scheme_id=scheme.id,
        pot_id=pot.id,
        case_reference=f"LC-{10000 + n * 37}",
        birth_date=date(
            DEMO_TODAY.year - rng.randint(17, 24), rng.randint(1, 12), rng.randint(1, 28)
        ),
        advisor_sub="demo-advisor" if n % 2 == 0 else "demo-advisor-2",
        consent_evaluation=n % 5 != 0,
        consent_case_study=n % 7 == 0,
        allocation_pence=scheme.cap_pence,
        referred_on=referred,
        enrolled_at=_at(referred + timedelta(days=rng.randint(0, 3))),
        enrolled_by="demo-advisor" if n % 2 == 0 else "demo-advisor-2",
    )
    session.add(person)
    books = Ledger(session)
    books.open_person(person.id)
    books.allocate(
        person.id, pot.id, person.allocation_pence, by=SEEDER, what=f"The pot '{pot.name}'"
    )
    return person


def _plan(session: Session, rng: random.Random, n: int, person: Person) -> list[str]:
    made = person.enrolled_at.date()
    plan = Plan(
        id=demo_uuid("plan", n),
        person_id=person.id,
        needs="Wants more structure in the week and to meet people.",
        ideas="Sport, dance, something outdoors.",
        next_review_date=rules.add_months(made, 3),
        created_at=_at(made, 11),
        updated_at=_at(made, 11),
        created_by=person.advisor_sub,
    )
    session.add(plan)
    session.flush()
    goals = []
    for g, text in enumerate(rng.sample(GOAL_TEXTS, 2)):
        goal_id = demo_uuid("goal", f"{n}:{g}")
        session.add(Goal(id=goal_id, plan_id=plan.id, text=text, position=g))
        goals.append(goal_id)
    session.flush()
    return goals


# How far each seeded request got: mostly closed, some still moving, a few refused or cancelled.
OUTCOMES = (
    [rules.CLOSED] * 10
    + [rules.EVIDENCED] * 2
    + [rules.PAID] * 2
    + [rules.ORDERED, rules.APPROVED, rules.SUBMITTED, rules.REJECTED, rules.CANCELLED]
)


def _history(session: Session, rng: random.Random, n: int, person: Person, goals: list[str]) -> int:
    count = rng.choice((1, 1, 2, 2, 3))
    left = person.allocation_pence
    made = 0
    start = person.referred_on + timedelta(days=rng.randint(3, 20))
    for i in range(count):
        listing = _fundable_listing(rng)
        amount = listing.price_pence * rng.choice((1, 1, 2, 3))
        if amount > left or start >= DEMO_TODAY:
            break
        outcome = rng.choice(OUTCOMES) if i == count - 1 else rules.CLOSED
        spent = _request(
            session, rng, n, i, person, goals[i % len(goals)], listing, amount, start, outcome
        )
        left -= spent
        made += 1
        start += timedelta(days=rng.randint(20, 60))
    return made


def _fundable_listing(rng: random.Random) -> DemoListing:
    size = catalogue_size()
    while True:
        listing = demo_listing(rng.randrange(0, size))
        if listing.fundable:
            return listing


def _request(
    session: Session,
    rng: random.Random,
    n: int,
    i: int,
    person: Person,
    goal_id: str,
    listing: DemoListing,
    amount: int,
    created: date,
    outcome: str,
) -> int:
    req_id = demo_uuid("request", f"{n}:{i}")
    advisor = person.advisor_sub
    path = _path_to(outcome)
    days = {"submitted": 0, "approved": rng.randint(1, 7), "rejected": rng.randint(1, 5)}
    approved_on = created + timedelta(days=days["approved"])
    ordered_on = approved_on + timedelta(days=rng.randint(0, 3))
    paid_on = ordered_on + timedelta(days=rng.randint(2, 10))
    started_on = paid_on + timedelta(days=rng.randint(0, 10))
    evidenced_on = started_on + timedelta(days=rng.randint(1, 14))
    dates = {
        rules.DRAFT: created,
        rules.SUBMITTED: created,
        rules.APPROVED: approved_on,
        rules.REJECTED: created + timedelta(days=days["rejected"]),
        rules.CANCELLED: approved_on + timedelta(days=2),
        rules.ORDERED: ordered_on,
        rules.PAID: paid_on,
        rules.EVIDENCED: evidenced_on,
        rules.CLOSED: evidenced_on + timedelta(days=1),
    }
    if any(d > DEMO_TODAY for state, d in dates.items() if state in path):
        path = [s for s in path if dates[s] <= DEMO_TODAY] or [rules.DRAFT]
    state = path[-1]
    verified = listing.provider_id == demo_uuid("provider", 0) or listing.number % 3 != 1
    req = PurchaseRequest(
        id=req_id,
        person_id=person.id,
        plan_id=demo_uuid("plan", n),
        goal_id=goal_id,
        listing_id=listing.id,
        cost_option_id=listing.cost_option_id,
        provider_id=listing.provider_id,
        payee=listing.provider_name,
        item=listing.name,
        category=listing.category,
        provider_verified=verified,
        amount_pence=amount,
        state=state,
        reason={
            rules.REJECTED: "Not linked closely enough to the plan's goals; let's talk at review.",
            rules.CANCELLED: "The young person moved area before starting.",
        }.get(state),
        approved_by="demo-budget-holder" if rules.APPROVED in path else None,
        approved_at=_at(approved_on, 14) if rules.APPROVED in path else None,
        submitted_at=_at(created, 12) if rules.SUBMITTED in path else None,
        payment_reference=f"BACS-{20000 + n * 10 + i}" if rules.PAID in path else None,
        paid_on=paid_on if rules.PAID in path else None,
        paid_pence=amount if rules.PAID in path else 0,
        paid_by="demo-finance" if rules.PAID in path else None,
        recovered_pence=0,
        evidence_reference=f"Receipt {n}-{i}" if rules.EVIDENCED in path else None,
        evidence_note="Attendance confirmed by provider." if rules.EVIDENCED in path else None,
        activity_started_on=started_on if rules.EVIDENCED in path else None,
        created_by=advisor,
        created_at=_at(created, 9),
        updated_at=_at(dates[state], 15),
    )
    session.add(req)
    session.flush()
    Ledger(session).open_request(req.id)
    previous = None
    for step in path:
        actor = {
            rules.APPROVED: ("demo-budget-holder", "budget_holder"),
            rules.REJECTED: ("demo-budget-holder", "budget_holder"),
            rules.ORDERED: ("demo-finance", "finance"),
            rules.PAID: ("demo-finance", "finance"),
        }.get(step, (advisor, "advisor"))
        session.add(
            RequestTransition(
                request_id=req.id,
                from_state=previous,
                to_state=step,
                at=_at(dates[step], 13),
                by_sub=actor[0],
                by_role=actor[1],
                reason=req.reason if step in (rules.REJECTED, rules.CANCELLED) else None,
            )
        )
        previous = step
        _money(session, req, step)
    spent = amount if state in (rules.APPROVED, rules.ORDERED) or rules.PAID in path else 0
    return spent


def _path_to(outcome: str) -> list[str]:
    full = [
        rules.DRAFT,
        rules.SUBMITTED,
        rules.APPROVED,
        rules.ORDERED,
        rules.PAID,
        rules.EVIDENCED,
        rules.CLOSED,
    ]
    if outcome == rules.REJECTED:
        return [rules.DRAFT, rules.SUBMITTED, rules.REJECTED]
    if outcome == rules.CANCELLED:
        return [rules.DRAFT, rules.SUBMITTED, rules.APPROVED, rules.CANCELLED]
    return full[: full.index(outcome) + 1]


def _money(session: Session, req: PurchaseRequest, step: str) -> None:
    books = Ledger(session)
    if step == rules.APPROVED:
        books.hold(req, by=SEEDER)
    elif step == rules.PAID:
        books.pay(req, req.amount_pence, by=SEEDER, reference=req.payment_reference or "")
    elif step == rules.CANCELLED:
        books.release(req, by=SEEDER, memo="cancelled")
