"""Outcomes demo data for the newer schemes (`phb seed`, after the care leavers'): the local view of
the budget's demo people 100-106 (docs/contracts.md "Demo data"), the children's scheme's chosen
outcome settings (a parent answers for a child under 10), and each person's baseline check-in,
made when their plan was made; those enrolled for a while have answered it in their scheme's set.

The budget seed gives these people plans but no requests yet, so they have no follow-ups and no
matched pairs: the report counts their baselines and nothing it cannot show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import CheckIn, SchemeOutcomeSettings
from services.outcomes.domain import instruments
from services.outcomes.domain.instruments import Catalogue
from services.outcomes.service_layer import checkins
from services.outcomes.service_layer.events import apply
from shared.demo import DEMO_TODAY, demo_uuid

CHILDREN_SCHEME = demo_uuid("scheme", 2)
AFTERCARE_SCHEME = demo_uuid("scheme", 1)
CARE_LEAVERS_SCHEME = demo_uuid("scheme", 0)
DEMO_CARER = "demo-carer"
ANSWERED_AFTER_DAYS = 30  # someone enrolled this long ago has answered their baseline
PARENT_DEMO_PERSON = 100  # the new child whose parent answers: the third demo link
CHILDREN_SETTINGS = {
    "instrument_set": "children",
    "proxy_set": "parent-proxy",
    "proxy_below_age": 10,
    "age_bands": ["0-4", "5-9", "10-15", "16-17", "18-25"],
}


@dataclass(frozen=True)
class DemoPerson:
    """As services/budget/seed_schemes.py enrols them (birth date as years and days from today)."""

    n: int
    scheme_id: str
    years: int
    plus_days: int
    advisor: str
    enrolled_days_ago: int
    goal: str
    carer: bool = False

    @property
    def birth_year(self) -> int:
        day = DEMO_TODAY.replace(year=DEMO_TODAY.year - self.years, day=min(DEMO_TODAY.day, 28))
        return (day + timedelta(days=self.plus_days)).year


PEOPLE = (
    DemoPerson(100, CHILDREN_SCHEME, 9, -40, "demo-advisor", 5, "Swim with friends", True),
    DemoPerson(101, CHILDREN_SCHEME, 13, -100, "demo-advisor", 200, "Get out at weekends"),
    DemoPerson(102, CHILDREN_SCHEME, 18, 10, "demo-advisor", 300, "Keep climbing"),
    DemoPerson(103, CHILDREN_SCHEME, 26, 45, "demo-advisor-2", 500, "Find a course"),
    DemoPerson(104, AFTERCARE_SCHEME, 34, -12, "demo-advisor", 150, "Sleep better"),
    DemoPerson(105, AFTERCARE_SCHEME, 22, -80, "demo-advisor-2", 3, "Feel safe going out"),
    DemoPerson(106, CARE_LEAVERS_SCHEME, 26, 60, "demo-advisor", 420, "Keep up running"),
)


def seed_other_schemes(session: Session, catalogue: Catalogue) -> int:
    """The newer schemes' people, settings and baselines; how many baselines were answered."""
    session.add(
        SchemeOutcomeSettings(
            scheme_id=CHILDREN_SCHEME,
            version=1,
            updated_by="demo-seed",
            updated_at=_at(DEMO_TODAY - timedelta(days=390)),
            **CHILDREN_SETTINGS,
        )
    )
    session.flush()
    rng = random.Random(14_2026_12_01)
    answered = 0
    for demo in PEOPLE:
        answered += _person(session, catalogue, rng, demo)
    return answered


def _person(session: Session, catalogue: Catalogue, rng: random.Random, demo: DemoPerson) -> int:
    person_id = demo_uuid("person", demo.n)
    enrolled = DEMO_TODAY - timedelta(days=demo.enrolled_days_ago)
    enrolment = {
        "person_id": person_id,
        "scheme_id": demo.scheme_id,
        "advisor_sub": demo.advisor,
        "birth_year": demo.birth_year,
        "consent_evaluation": True,
        "consent_case_study": False,
        "enrolled_at": _at(enrolled).isoformat(),
    }
    apply(session, "person.enrolled", enrolment, catalogue)
    plan = {
        "person_id": person_id,
        "plan_id": demo_uuid("plan", demo.n),
        "goals": [{"id": demo_uuid("goal", f"{demo.n}:0"), "text": demo.goal}],
        "next_review_date": (enrolled + timedelta(days=91)).isoformat(),
    }
    apply(session, "plan.created", plan, catalogue)
    if demo.carer:
        apply(session, "carer.linked", {"person_id": person_id, "carer_sub": DEMO_CARER}, catalogue)
    baseline = checkins.ensure_baseline(session, person_id, enrolled, catalogue)
    if baseline is None or demo.enrolled_days_ago < ANSWERED_AFTER_DAYS:
        return 0
    _answer(catalogue, rng, baseline, enrolled + timedelta(days=rng.randint(1, 10)))
    return 1


def _answer(catalogue: Catalogue, rng: random.Random, checkin: CheckIn, on: date) -> None:
    """Plausible answers to whatever the check-in's set asks, checked and scored for real."""
    asks = list(checkin.instruments)
    answers: dict[str, Any] = {}
    for section in instruments.questions(catalogue, asks, follow_up=False):
        for q in section["items"]:
            if q["type"] == "numeric":
                answers[q["key"]] = rng.randint(max(q["min"], 3), min(q["max"], 7))
            elif q["type"] == "choice":
                answers[q["key"]] = rng.choice([o["value"] for o in q["options"]][1:4])
    clean, errors = instruments.check_answers(catalogue, asks, False, answers)
    assert not errors, errors
    checkin.answers = clean
    checkin.scores = instruments.score_answers(catalogue, asks, clean)
    checkin.status = checkins.ANSWERED
    checkin.answered_at = _at(on, 18)
    checkin.answered_via = "carer" if checkin.respondent == "proxy" else "advisor"


def parent_demo_checkin(session: Session) -> CheckIn | None:
    """The new child's baseline, which their parent answers (the proxy version)."""
    return session.scalar(
        select(CheckIn).where(
            CheckIn.person_id == demo_uuid("person", PARENT_DEMO_PERSON),
            CheckIn.kind == checkins.BASELINE,
        )
    )


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)
