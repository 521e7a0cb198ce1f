"""Demo data for the other kinds of scheme (`phb seed`, after the care leavers' scheme): a children
and young people's scheme jointly funded by health, education and social care, people on the
section 117 aftercare scheme, and people at each stage (new, active, about to move at 18, near a
scheme's age limit). All fictional; every penny goes through the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    CarerLink,
    EligibilityRecord,
    Goal,
    Person,
    Plan,
    Pot,
    Scheme,
    SchemeAssignment,
)
from services.budget.domain import rules
from services.budget.domain.schemes import PRESETS
from services.budget.service_layer.ledger import Ledger
from services.budget.service_layer.schemes import fund_pot
from shared.demo import DEMO_TODAY, demo_uuid

SEEDER = "seed"
CHILDREN_SCHEME = demo_uuid("scheme", 2)
AFTERCARE_SCHEME = demo_uuid("scheme", 1)
CARE_LEAVERS_SCHEME = demo_uuid("scheme", 0)
DEMO_CARER = "demo-carer"
EXCLUDED = ("alcohol", "tobacco", "gambling", "debt-repayment", "primary-care", "emergency-care")


@dataclass(frozen=True)
class DemoPerson:
    n: int  # demo_uuid("person", n): 100 and up, clear of the care leavers' 0-79
    scheme_id: str
    reference: str
    birth_date: date
    advisor: str
    funding: tuple[tuple[int, int], ...]  # (pot number, pence)
    basis: str | None
    enrolled_days_ago: int
    goal: str
    carer: bool = False


def _years_ago(years: int, plus_days: int = 0) -> date:
    day = DEMO_TODAY.replace(year=DEMO_TODAY.year - years, day=min(DEMO_TODAY.day, 28))
    return day + timedelta(days=plus_days)


PEOPLE = (
    # children and young people's scheme: new (with a parent who may act), active, about to turn
    # 18 and move to the adult scheme, and near the scheme's age limit of 25
    DemoPerson(
        100,
        CHILDREN_SCHEME,
        "CY-20001",
        _years_ago(9, -40),
        "demo-advisor",
        ((3, 60_000), (4, 30_000), (5, 10_000)),
        "ehc_plan",
        5,
        "Swim with friends",
        True,
    ),
    DemoPerson(
        101,
        CHILDREN_SCHEME,
        "CY-20002",
        _years_ago(13, -100),
        "demo-advisor",
        ((3, 150_000),),
        "continuing_care",
        200,
        "Get out of the house at weekends",
    ),
    DemoPerson(
        102,
        CHILDREN_SCHEME,
        "CY-20003",
        _years_ago(18, 10),
        "demo-advisor",
        ((3, 80_000), (4, 40_000)),
        "ehc_plan",
        300,
        "Keep going to the climbing wall",
    ),
    DemoPerson(
        103,
        CHILDREN_SCHEME,
        "CY-20004",
        _years_ago(26, 45),
        "demo-advisor-2",
        ((3, 50_000),),
        "ehc_plan",
        500,
        "Find a course to go on to",
    ),
    # section 117 aftercare: active, new after a hospital stay
    DemoPerson(
        104,
        AFTERCARE_SCHEME,
        "MH-30001",
        _years_ago(34, -12),
        "demo-advisor",
        ((2, 120_000),),
        "section_117",
        150,
        "Sleep better and get back to the gym",
    ),
    DemoPerson(
        105,
        AFTERCARE_SCHEME,
        "MH-30002",
        _years_ago(22, -80),
        "demo-advisor-2",
        ((2, 60_000),),
        "section_117",
        3,
        "Feel safe going out again",
    ),
    # care leavers: near the age limit (26 within 90 days)
    DemoPerson(
        106,
        CARE_LEAVERS_SCHEME,
        "LC-29001",
        _years_ago(26, 60),
        "demo-advisor",
        ((1, 50_000),),
        None,
        420,
        "Keep up the running club",
    ),
)


def seed_other_schemes(session: Session) -> str:
    children = Scheme(
        id=CHILDREN_SCHEME,
        name="Children and young people's PHB",
        cap_pence=300_000,
        excluded_categories=list(EXCLUDED),
        auto_approve_pence=0,
        created_at=_at(DEMO_TODAY - timedelta(days=400)),
        **{k: v for k, v in PRESETS["children_young_people"].items()},
        kind="children_young_people",
    )
    session.add(children)
    session.flush()
    session.add(
        SchemeAssignment(
            id=demo_uuid("assignment", children.id),
            scheme_id=children.id,
            sub="demo-budget-holder",
            created_by=SEEDER,
        )
    )
    streams = (
        ("health", "Integrated care board"),
        ("education", "SEND service"),
        ("social_care", "Children's services"),
    )
    for number, (stream, funder) in zip((3, 4, 5), streams, strict=True):
        pot = Pot(
            id=demo_uuid("pot", number),
            scheme_id=children.id,
            name=f"Children's PHB: {stream.replace('_', ' ')}",
            funder=funder,
            funding_stream=stream,
            amount_pence=2_000_000,
            starts_on=date(2026, 4, 1),
            ends_on=date(2027, 3, 31),
        )
        session.add(pot)
        session.flush()
        fund_pot(session, pot, SEEDER)
    for person in PEOPLE:
        _enrol(session, person)
    return f"{len(PEOPLE)} people on the children's, aftercare and care leavers' schemes"


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _enrol(session: Session, demo: DemoPerson) -> None:
    enrolled = DEMO_TODAY - timedelta(days=demo.enrolled_days_ago)
    person = Person(
        id=demo_uuid("person", demo.n),
        scheme_id=demo.scheme_id,
        pot_id=demo_uuid("pot", demo.funding[0][0]),
        case_reference=demo.reference,
        birth_date=demo.birth_date,
        advisor_sub=demo.advisor,
        consent_evaluation=True,
        consent_case_study=False,
        allocation_pence=sum(p for _pot, p in demo.funding),
        referred_on=enrolled,
        enrolled_at=_at(enrolled),
        enrolled_by=demo.advisor,
    )
    session.add(person)
    books = Ledger(session)
    books.open_person(person.id)
    for pot_number, pence in demo.funding:
        books.allocate(person.id, demo_uuid("pot", pot_number), pence, by=SEEDER, what="A pot")
    session.flush()
    if demo.basis:
        session.add(_record(demo, enrolled))
    if demo.carer:
        session.add(
            CarerLink(
                id=demo_uuid("carer_link", demo.n),
                person_id=person.id,
                carer_sub=DEMO_CARER,
                relationship="Parent",
                created_by=demo.advisor,
            )
        )
    plan = Plan(
        id=demo_uuid("plan", demo.n),
        person_id=person.id,
        needs="Fictional needs agreed with the young person and their family.",
        ideas="Swimming, climbing, a club at the weekend.",
        next_review_date=rules.add_months(enrolled, 3 if demo.enrolled_days_ago < 90 else 15),
        created_at=_at(enrolled, 11),
        updated_at=_at(enrolled, 11),
        created_by=demo.advisor,
    )
    session.add(plan)
    session.flush()
    session.add(Goal(id=demo_uuid("goal", f"{demo.n}:0"), plan_id=plan.id, text=demo.goal))
    session.flush()


def _record(demo: DemoPerson, enrolled: date) -> EligibilityRecord:
    common = {
        "id": demo_uuid("eligibility", demo.n),
        "person_id": demo_uuid("person", demo.n),
        "basis": demo.basis,
        "recorded_by": demo.advisor,
        "next_review_on": DEMO_TODAY + timedelta(days=60),
    }
    if demo.basis == "section_117":
        return EligibilityRecord(
            **common,
            mha_section="3",
            aftercare_plan_date=enrolled - timedelta(days=7),
            responsible_nhs_body="Fictional Coast Integrated Care Board",
            responsible_council="Fictional County Council",
        )
    if demo.basis == "continuing_care":
        return EligibilityRecord(**common, continuing_care_decided_on=enrolled - timedelta(days=20))
    return EligibilityRecord(**common, ehc_plan_reference=f"EHC-FICT-{demo.n:04d}")
