"""Demo data for the outcomes service (`phb seed`): the local view of the 80 demo young people, answered
baseline and follow-up check-ins, case studies, and two open check-ins whose links are known.

The local view is built by feeding the same events the budget service would send through this
service's own handlers (ids per docs/contracts.md "Demo data"); answers are drawn from a seeded
random generator so every run gives the same report. Persons 0-3 are fresh: enrolled, a plan,
nothing else. Demo feedback links are derived from a fixed phrase (demo data only: real links come
from `secrets`) and written to `var/demo-links.txt`.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.outcomes import seed_schemes
from services.outcomes.adapters import checkin_scores
from services.outcomes.adapters.checkin_scores import SCORES
from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.adapters.orm import CaseStudy, CheckIn, FeedbackLink, Person
from services.outcomes.adapters.repository import SqlCheckIns
from services.outcomes.domain import instruments
from services.outcomes.domain.instruments import Catalogue
from services.outcomes.service_layer import checkins, scheme_settings
from services.outcomes.service_layer.events import apply
from services.outcomes.settings import OutcomesSettings
from shared.config import var_dir
from shared.db import Database
from shared.demo import DEMO_TODAY, demo_uuid

PEOPLE = 80
FRESH = 4
SCHEME = demo_uuid("scheme", 0)
# The budget seed's schemes, as its scheme.changed events would announce them.
SCHEMES = (
    (SCHEME, "Care leavers' wellbeing budget", "care_leavers", 16, 25),
    (
        demo_uuid("scheme", 1),
        "Mental health aftercare (section 117)",
        "mental_health_s117",
        None,
        None,
    ),
    (demo_uuid("scheme", 2), "Children and young people's PHB", "children_young_people", 0, 25),
)
# Categories weighted so one is small enough that the report must withhold it.
CATEGORIES = (
    ["sport-fitness"] * 9 + ["dance"] * 3 + ["outdoor"] * 3 + ["cycling"] * 3 + ["creative"] * 2
)
SMALL_CATEGORY = "animal-assisted"
SMALL_CATEGORY_PEOPLE = (13, 26, 39)  # equine therapy: too few to show on their own
DROPPED_OUT = (10, 11, 15)  # answered a baseline, never a follow-up (11 consented to evaluation)
DEMO_LINK_PEOPLE = (6, 9)  # one open 12-week check-in each for demo-advisor and demo-advisor-2
GOALS = (
    "Sleep better and feel less tired",
    "Get out of the flat and meet people",
    "Get fitter and feel stronger",
    "Learn something new that I enjoy",
)
CASE_STUDIES = (
    (
        7,
        "From the flat to the climbing wall",
        "Before the budget they rarely left the flat and said they were sleeping badly. A climbing "
        "course gave the week a shape; after six weeks they were going twice a week with a friend "
        "from the group and now help new starters on Saturdays.",
        True,
    ),
    (
        14,
        "Back on a bike",
        "A bike and a repair lesson meant getting to college without waiting for buses. They say "
        "they feel calmer, sleep better, and have started cycling with a local club.",
        True,
    ),
    (
        21,
        "Salsa and a sense of belonging",
        "Waiting months for a college place, they joined a salsa class. The class became a group "
        "of friends; the young person now volunteers at the class's social evenings.",
        True,
    ),
    (
        28,
        "Gym mornings",
        "A gym membership chosen with their advisor. Early days: draft while we hear how it goes.",
        False,
    ),
)


def demo_token(k: int) -> str:
    """Demo links only: a token everybody can know, so demos and guides can open it."""
    digest = hashlib.sha256(f"phb-demo-feedback-link:{k}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def seed(db: Database, settings: OutcomesSettings | None = None) -> str:
    """The demo world; `phb seed` reads the settings from the environment, as the app does."""
    settings = settings or OutcomesSettings.from_env()
    with db.session() as session:
        if session.get(Person, demo_uuid("person", 0)) is not None:
            return "already seeded"
    catalogue = load_catalogue(settings.instrument_dir)
    summary = db.run_write(lambda session: _seed(session, catalogue))
    write_demo_links(db, settings.link_days)
    return summary


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def _seed(session: Session, catalogue: Catalogue) -> str:
    rng = random.Random(6_2026_11_02)
    for scheme_id, name, kind, min_age, max_age in SCHEMES:
        facts = {"name": name, "kind": kind, "min_age": min_age, "max_age": max_age}
        apply(session, "scheme.changed", {"scheme_id": scheme_id, **facts}, catalogue)
    for n in range(PEOPLE):
        _enrol(session, rng, n, catalogue)
    answered = 0
    for n in range(FRESH, PEOPLE):
        answered += _journey(session, rng, n, catalogue)
    for n, title, story, approved in CASE_STUDIES:
        _case_study(session, n, title, story, approved)
    others = seed_schemes.seed_other_schemes(session, catalogue)
    session.flush()
    checkin_scores.rebuild(session)  # the check-ins above were answered directly
    return (
        f"{PEOPLE} young people, {answered} answered check-ins, {len(CASE_STUDIES)} case studies; "
        f"{len(seed_schemes.PEOPLE)} on the newer schemes, {others} answered baselines"
    )


def _enrol(session: Session, rng: random.Random, n: int, asks: Catalogue) -> None:
    person_id = demo_uuid("person", n)
    age = 17 if n in (5, 12, 30, 44) else rng.randint(18, 24)
    enrolled = DEMO_TODAY - timedelta(days=5 if n < FRESH else 300)
    apply(
        session,
        "person.enrolled",
        {
            "person_id": person_id,
            "scheme_id": SCHEME,
            "advisor_sub": "demo-advisor" if n % 2 == 0 else "demo-advisor-2",
            "birth_year": DEMO_TODAY.year - age,
            "consent_evaluation": n % 5 != 0,
            "consent_case_study": n % 7 == 0,
            "enrolled_at": _at(enrolled).isoformat(),
        },
        asks,
    )
    apply(
        session,
        "plan.created",
        {
            "person_id": person_id,
            "plan_id": demo_uuid("plan", n),
            "goals": [
                {"id": demo_uuid("goal", f"{n}:{g}"), "text": GOALS[(n + g) % len(GOALS)]}
                for g in range(2)
            ],
            "next_review_date": (enrolled + timedelta(days=91)).isoformat(),
        },
        asks,
    )


def _journey(session: Session, rng: random.Random, n: int, catalogue: Catalogue) -> int:
    asks = catalogue
    person_id = demo_uuid("person", n)
    request_id = demo_uuid("request", f"{n}:0")
    if n in DEMO_LINK_PEOPLE:
        started = DEMO_TODAY - timedelta(weeks=12, days=-3)  # 12-week check-in falls due now
    else:
        started = DEMO_TODAY - timedelta(days=rng.randint(95, 240))
    approved = started - timedelta(days=rng.randint(3, 14))
    category = SMALL_CATEGORY if n in SMALL_CATEGORY_PEOPLE else rng.choice(CATEGORIES)
    provider = demo_uuid("provider", 0 if n % 6 == 0 else 1 + n % 11)
    common = {"request_id": request_id, "person_id": person_id, "provider_id": provider}
    apply(
        session,
        "request.approved",
        {
            **common,
            "plan_id": demo_uuid("plan", n),
            "goal_id": demo_uuid("goal", f"{n}:0"),
            "listing_id": demo_uuid("listing", n),
            "cost_option_id": demo_uuid("cost_option", f"{n}:0"),
            "category": category,
            "amount_pence": (amount := rng.choice((2500, 4000, 6000, 12000))),
            "approved_at": _at(approved, 14).isoformat(),
            "first_for_person": True,
        },
        asks,
    )
    paid = {"amount_pence": amount, "paid_at": _at(approved + timedelta(days=2), 11).isoformat()}
    apply(session, "request.paid", {**common, **paid}, asks)
    apply(
        session,
        "activity.started",
        {
            **common,
            "listing_id": demo_uuid("listing", n),
            "category": category,
            "started_on": started.isoformat(),
        },
        asks,
    )
    session.flush()
    rows = session.scalars(
        select(CheckIn).where(CheckIn.person_id == person_id).order_by(CheckIn.week)
    ).all()
    base = _baseline_answers(rng)
    answered = 0
    for checkin in rows:
        if checkin.kind == "follow_up" and (
            n in DROPPED_OUT or checkin.due_on > DEMO_TODAY - timedelta(days=2)
        ):
            continue
        answers = base if checkin.kind == "baseline" else _follow_up(rng, base, checkin.week)
        clean, errors = instruments.check_answers(
            catalogue, list(checkin.instruments), checkin.kind == "follow_up", answers
        )
        assert not errors, errors
        checkin.answers = clean
        checkin.scores = instruments.score_answers(catalogue, list(checkin.instruments), clean)
        checkin.status = checkins.ANSWERED
        checkin.answered_at = _at(checkin.due_on + timedelta(days=rng.randint(0, 4)), 18)
        checkin.answered_via = "link" if rng.random() < 0.8 else "advisor"
        answered += 1
    return answered


def _clip(value: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, round(value)))


def _baseline_answers(rng: random.Random) -> dict[str, Any]:
    return {
        "ons4.life_satisfaction": _clip(rng.gauss(4.6, 1.9), 0, 10),
        "ons4.worthwhile": _clip(rng.gauss(5.0, 1.8), 0, 10),
        "ons4.happy": _clip(rng.gauss(5.0, 2.0), 0, 10),
        "ons4.anxious": _clip(rng.gauss(5.8, 2.1), 0, 10),
        "loneliness.how_often": _clip(rng.gauss(2.2, 0.9), 1, 5),
        "sleep.quality": _clip(rng.gauss(4.2, 1.8), 0, 10),
    }


def _follow_up(rng: random.Random, base: dict[str, Any], week: int) -> dict[str, Any]:
    gain = 0.9 if week <= 6 else 1.5
    step = 0.35 if week <= 6 else 0.6
    return {
        "ons4.life_satisfaction": _clip(
            base["ons4.life_satisfaction"] + rng.gauss(gain, 1.5), 0, 10
        ),
        "ons4.worthwhile": _clip(base["ons4.worthwhile"] + rng.gauss(gain * 0.9, 1.5), 0, 10),
        "ons4.happy": _clip(base["ons4.happy"] + rng.gauss(gain * 0.8, 1.7), 0, 10),
        "ons4.anxious": _clip(base["ons4.anxious"] - rng.gauss(gain * 0.7, 1.7), 0, 10),
        "loneliness.how_often": _clip(base["loneliness.how_often"] + rng.gauss(step, 0.8), 1, 5),
        "sleep.quality": _clip(base["sleep.quality"] + rng.gauss(gain * 1.1, 1.6), 0, 10),
        "helped": rng.choice((1, 2, 2, 3, 3, 3, 3)),
        "activity_rating": _clip(rng.gauss(4.2, 0.8), 1, 5),
        "difference": rng.choice(
            (
                "I sleep better and I have something to get up for.",
                "Made some friends there. I go out more now.",
                "Feel fitter and less stressed.",
                "",
                "It's good to have something that's mine.",
            )
        ),
    }


def _case_study(session: Session, n: int, title: str, story: str, approved: bool) -> None:
    person = session.get(Person, demo_uuid("person", n))
    assert person is not None and person.consent_case_study
    session.add(
        CaseStudy(
            id=demo_uuid("case_study", n),
            person_id=person.id,
            author_sub=person.advisor_sub,
            title=title,
            story=story,
            age_band=scheme_settings.person_band(session, person, DEMO_TODAY),
            place="East Sussex",
            category=None,
            status="approved" if approved else "draft",
            approved_by="demo-admin" if approved else None,
            approved_at=_at(DEMO_TODAY - timedelta(days=10)) if approved else None,
            created_at=_at(DEMO_TODAY - timedelta(days=20)),
        )
    )


def demo_checkins(session: Session) -> list[CheckIn]:
    """The open 12-week check-ins the demo links open."""
    found = []
    for n in DEMO_LINK_PEOPLE:
        checkin = session.scalar(
            select(CheckIn).where(
                CheckIn.person_id == demo_uuid("person", n),
                CheckIn.kind == "follow_up",
                CheckIn.week == 12,
            )
        )
        if checkin is not None:
            found.append(checkin)
    parent = seed_schemes.parent_demo_checkin(session)  # a parent answers for a young child
    return found + ([parent] if parent is not None else [])


def write_demo_links(db: Database, link_days: int) -> list[str]:
    """(Re)issue the demo links (fresh 14-day expiry) and list them in var/demo-links.txt."""

    def work(session: Session) -> list[str]:
        lines = []
        for k, checkin in enumerate(demo_checkins(session)):
            if checkin.status != checkins.OPEN:
                checkin.status = checkins.OPEN  # a demo can be run again
                checkin.answers = checkin.scores = checkin.answered_at = None
                checkin.answered_via = None
                session.execute(delete(SCORES).where(SCORES.c.checkin_id == checkin.id))
            token = demo_token(k)
            session.query(FeedbackLink).filter(
                FeedbackLink.token_hash == checkins.hash_token(token)
            ).delete()
            issued = checkins.store_link(
                SqlCheckIns(session), checkin, token, "demo-seed", link_days
            )
            person = session.get(Person, checkin.person_id)
            advisor = person.advisor_sub if person else "?"
            what = (
                "a parent's check-in for their young child"
                if checkin.respondent == "proxy"
                else f"{advisor}'s young person, 12-week check-in"
            )
            lines.append(f"{issued['page_path']}  ({what})")
        return lines

    lines = db.run_write(work)
    path = var_dir() / "demo-links.txt"
    path.write_text(
        "Demo feedback links (single use; `phb outcomes demo-links` issues them again).\n"
        "Open them on the gateway, e.g. http://localhost:8000<path>; the API is /api/outcomes<path>.\n"
        + "".join(f"  {line}\n" for line in lines)
    )
    return lines
