"""Cost per improvement from the scores kept as rows (`checkin_scores`) equals the same report
computed from the check-ins' JSON scores, on SQLite and PostgreSQL: many young people, kinds of
activity (one unnamed), periods and schemes, both directions of a measure, consent, ties in the
latest follow-up, unanswered and unscored check-ins. Also: answering keeps the rows, and the
migration's and `rebuild`'s fill equals what answering wrote."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Float, case, cast, func, select

from services.outcomes.adapters import checkin_scores
from services.outcomes.adapters.checkin_scores import CheckInScore
from services.outcomes.adapters.instrument_files import load_catalogue
from services.outcomes.adapters.orm import Activity, CheckIn, Person
from services.outcomes.domain.instruments import all_scores
from services.outcomes.service_layer import cost_per_improvement as cpi
from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork
from shared.db import Database
from shared.identity import Identity
from tests.support import migrate

ADMIN = Identity(sub="test-admin", role="admin")
SCHEMES = ("scheme-a", "scheme-b")
KINDS = ("sport-fitness", "creative", "outdoor", None)
MEASURES = ("ons4.life_satisfaction", "ons4.anxious")
PERIODS = (
    (date(2026, 1, 1), date(2026, 3, 31)),
    (date(2026, 1, 1), date(2026, 12, 31)),
    (date(2025, 6, 1), date(2027, 6, 1)),
)


def _from_checkins(session: Any, query: cpi.Query, higher_is_better: bool) -> list[Any]:
    """The report's grouped query as it was before the scores were kept as rows: every answered
    follow-up's JSON score ranked (the base tables' answer)."""
    start_iso, end_iso = query.start.isoformat(), (query.end + timedelta(days=1)).isoformat()
    category = func.coalesce(Activity.category, cpi.UNCATEGORISED).label("category")
    spend = (
        select(Activity.person_id, category, func.sum(Activity.paid_pence).label("pence"))
        .where(Activity.paid_pence > 0, Activity.paid_at >= start_iso, Activity.paid_at < end_iso)
        .group_by(Activity.person_id, category)
        .subquery()
    )
    score = cast(CheckIn.scores[query.measure].as_float(), Float)
    before = (
        select(CheckIn.person_id, score.label("before"))
        .where(CheckIn.kind == "baseline", CheckIn.status == "answered", score.is_not(None))
        .subquery()
    )
    follow_category = func.coalesce(Activity.category, cpi.UNCATEGORISED)
    ranked = (
        select(
            CheckIn.person_id,
            follow_category.label("category"),
            score.label("after"),
            func.row_number()
            .over(
                partition_by=(CheckIn.person_id, follow_category),
                order_by=(CheckIn.week.desc(), CheckIn.answered_at.desc(), CheckIn.id),
            )
            .label("rn"),
        )
        .join(Activity, Activity.request_id == CheckIn.activity_id)
        .where(CheckIn.kind == "follow_up", CheckIn.status == "answered", score.is_not(None))
        .subquery()
    )
    sign = 1.0 if higher_is_better else -1.0
    change = ((ranked.c.after - before.c.before) * sign).label("change")
    people = select(Person.id).where(Person.consent_evaluation.is_(True))
    if query.scheme_id:
        people = people.where(Person.scheme_id == query.scheme_id)
    pairs = (
        select(spend.c.category, spend.c.pence, change)
        .join(before, before.c.person_id == spend.c.person_id)
        .join(
            ranked,
            (ranked.c.person_id == spend.c.person_id)
            & (ranked.c.category == spend.c.category)
            & (ranked.c.rn == 1),
        )
        .where(spend.c.person_id.in_(people))
        .subquery()
    )
    return list(
        session.execute(
            select(
                pairs.c.category,
                func.count().label("n"),
                func.sum(pairs.c.change).label("change_sum"),
                func.sum(pairs.c.change * pairs.c.change).label("change_squares"),
                func.sum(pairs.c.pence).label("pence"),
                func.sum(case((pairs.c.change > 0, 1), else_=0)).label("improved"),
            )
            .group_by(pairs.c.category)
            .order_by(pairs.c.category)
        ).all()
    )


def _world(db: Database, people: int = 240) -> None:
    """Young people with paid activities and check-ins, answered as `checkins._record` does."""
    rng = random.Random(15)
    start = date(2025, 9, 1)
    with db.write() as s:
        for i in range(people):
            person = f"person-{i:04d}"
            s.add(
                Person(
                    id=person,
                    scheme_id=SCHEMES[i % 2],
                    advisor_sub="adv",
                    consent_evaluation=i % 7 != 0,
                )
            )
            s.flush()
            answered: list[CheckIn] = []
            if i % 11 != 0:  # some never answered a baseline
                answered.append(_checkin(person, "baseline", 0, "", start, rng))
            for a in range(rng.randint(1, 3)):
                activity = f"{person}-a{a}"
                paid = start + timedelta(days=rng.randrange(600))
                s.add(
                    Activity(
                        request_id=activity,
                        person_id=person,
                        category=KINDS[(i + a) % len(KINDS)],
                        amount_pence=5_000,
                        paid_pence=0 if rng.random() < 0.05 else rng.choice((2_500, 6_000)),
                        paid_at=f"{paid.isoformat()}T11:00:00+00:00",
                        started_on=paid,
                    )
                )
                for week in (6, 12):
                    if rng.random() < 0.8:
                        answered.append(_checkin(person, "follow_up", week, activity, paid, rng))
            for checkin in answered:
                s.add(checkin)
            s.flush()
            for checkin in answered:
                if checkin.status == "answered":
                    checkin_scores.record(s, checkin)


def _checkin(person: str, kind: str, week: int, activity: str, on: date, rng: random.Random) -> Any:
    scores: dict[str, Any] = {
        "ons4.life_satisfaction": float(rng.randint(0, 10)),
        "ons4.anxious": rng.randint(0, 10),  # an integer in the JSON, as a float
        "sleep.quality": float(rng.randint(0, 10)),
    }
    if rng.random() < 0.1:
        del scores["ons4.anxious"]  # a set that did not ask it
    if rng.random() < 0.05:
        scores["ons4.life_satisfaction"] = None
    # Ties: two activities' follow-ups of one kind in the same week, answered at the same time.
    answered_at = datetime(2026, 1, 1, 10, tzinfo=UTC) + timedelta(days=rng.randrange(3))
    return CheckIn(
        id=str(uuid.UUID(int=rng.getrandbits(128))),
        person_id=person,
        kind=kind,
        week=week,
        activity_id=activity,
        instruments=[],
        due_on=on + timedelta(weeks=week),
        status="answered" if rng.random() < 0.9 else "open",
        answers={},
        scores=scores,
        answered_at=answered_at,
    )


@pytest.fixture
def db(database_url):
    migrate("outcomes", database_url)
    database = Database(database_url)
    _world(database)
    yield database
    database.dispose()


def test_the_report_from_the_score_rows_equals_the_one_from_the_check_ins(db):
    catalogue = load_catalogue()
    uow = SqlUnitOfWork(db)
    compared = 0
    for start, end in PERIODS:
        for scheme in (None, *SCHEMES):
            for measure in MEASURES:
                query = cpi.Query(start, end, scheme, measure)
                higher = all_scores(catalogue)[measure][1].higher_is_better
                with db.session() as s:
                    kept = [tuple(r) for r in cpi._grouped(s, query, higher)]
                    base = [tuple(r) for r in _from_checkins(s, query, higher)]
                assert [r[:2] + r[4:] for r in kept] == [r[:2] + r[4:] for r in base]
                for k, b in zip(kept, base, strict=True):  # sums of floats: order may differ
                    assert float(k[2]) == pytest.approx(float(b[2]))
                    assert float(k[3]) == pytest.approx(float(b[3]))
                assert sum(int(r[1]) for r in kept) > 8
                whole = cpi.report(uow, catalogue, ADMIN, start, end, scheme, measure)
                assert whole["total"]["pairs"]["count"] == sum(int(r[1]) for r in base)
                compared += 1
    assert compared == len(PERIODS) * 3 * len(MEASURES)


def test_rebuild_fills_the_rows_answering_wrote(db):
    def rows() -> set[tuple[Any, ...]]:
        with db.session() as s:
            return {
                (r.checkin_id, r.measure, r.person_id, r.kind, r.activity_id, r.week, r.score)
                for r in s.scalars(select(CheckInScore))
            }

    written = rows()
    assert len(written) > 1_000
    with db.write() as s:
        checkin_scores.rebuild(s)
    assert rows() == written
