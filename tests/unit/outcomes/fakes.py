"""In-memory stand-ins for the outcomes' unit of work, for service-layer unit tests.

They keep the promises the use cases rely on: a link is used at most once (`use_link` is
conditional), access goes through the same rule as the SQL one (`access.visible_person`), and a
write that raises commits nothing (the fake snapshots its records and puts them back).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from services.outcomes.adapters.orm import (
    Activity,
    CaseStudy,
    CheckIn,
    FeedbackLink,
    Observation,
    Person,
)
from services.outcomes.domain.scheme_settings import FALLBACK
from services.outcomes.service_layer import access
from shared.errors import NotFound
from shared.identity import Identity
from tests.unit.fakes import FakeUnitOfWork as BaseFakeUnitOfWork
from tests.unit.fakes import inserted


class FakePeople:
    def __init__(self) -> None:
        self.rows: dict[str, Person] = {}
        self.carers: set[tuple[str, str]] = set()  # (person id, carer's sub)
        self.activities: dict[str, Activity] = {}
        self.bands: dict[str, tuple[str, ...]] = {}  # a scheme's chosen age bands

    def get(self, person_id: str) -> Person | None:
        return self.rows.get(person_id)

    def age_bands(self, scheme_id: str) -> tuple[str, ...]:
        return self.bands.get(scheme_id, FALLBACK.age_bands)

    def latest_category(self, person_id: str) -> str | None:
        found = [
            a
            for a in self.activities.values()
            if a.person_id == person_id and a.category is not None
        ]
        found.sort(key=lambda a: a.approved_at or "", reverse=True)
        return found[0].category if found else None


class FakeCaseStudies:
    def __init__(self) -> None:
        self.rows: dict[str, CaseStudy] = {}

    def get(self, study_id: str) -> CaseStudy | None:
        return self.rows.get(study_id)

    def add(self, study: CaseStudy) -> None:
        self.rows[study.id] = inserted(study)

    def listed(self, *, author_sub: str | None, status: str | None) -> list[CaseStudy]:
        return sorted(
            (
                s
                for s in self.rows.values()
                if (not author_sub or s.author_sub == author_sub)
                and (not status or s.status == status)
            ),
            key=lambda s: (s.created_at, s.id),
        )


class FakeCheckIns:
    def __init__(self, people: FakePeople) -> None:
        self.rows: dict[str, CheckIn] = {}
        self.links: list[FeedbackLink] = []
        self.notes: list[Observation] = []
        self.scored: list[str] = []  # check-ins whose scores were recorded as rows
        self.people = people
        self.last_link_id = 0

    def get(self, checkin_id: str) -> CheckIn | None:
        return self.rows.get(checkin_id)

    def record_scores(self, checkin: CheckIn) -> None:
        assert checkin.status == "answered" and checkin.scores is not None
        self.scored.append(checkin.id)

    def activity(self, request_id: str) -> Activity | None:
        return self.people.activities.get(request_id)

    def latest_link(self, checkin_id: str) -> FeedbackLink | None:
        found = [link for link in self.links if link.checkin_id == checkin_id]
        return max(found, key=lambda link: link.id) if found else None

    def link_by_hash(self, token_hash: str) -> FeedbackLink | None:
        found = [link for link in self.links if link.token_hash == token_hash]
        return found[0] if found else None

    def add_link(self, link: FeedbackLink) -> None:
        if self.link_by_hash(link.token_hash) is not None:
            raise AssertionError("a token hash stored twice (the database refuses it)")
        self.last_link_id += 1
        link.id = self.last_link_id
        self.links.append(inserted(link))

    def revoke_links(self, checkin_id: str, at: datetime) -> None:
        for link in self.links:
            if link.checkin_id == checkin_id and link.used_at is None and link.revoked_at is None:
                link.revoked_at = at

    def use_link(self, link_id: int, at: datetime) -> bool:
        for link in self.links:
            if link.id == link_id and link.used_at is None:
                link.used_at = at
                return True
        return False

    def add_observation(self, observation: Observation) -> None:
        self.notes.append(inserted(observation))

    def observations(self, checkin_id: str) -> list[Observation]:
        return sorted(
            (o for o in self.notes if o.checkin_id == checkin_id), key=lambda o: o.created_at
        )


class FakeTransaction:
    def __init__(self) -> None:
        self.people = FakePeople()
        self.checkins = FakeCheckIns(self.people)
        self.case_studies = FakeCaseStudies()

    def visible_person(self, actor: Identity, person_id: str) -> Person:
        return access.visible_person(
            actor,
            self.people.get(person_id),
            lambda person: (
                access.under_sixteen(person) and (person.id, actor.sub) in self.people.carers
            ),
        )

    def visible_checkin(self, actor: Identity, checkin_id: str) -> CheckIn:
        checkin = self.checkins.get(checkin_id)
        if checkin is None:
            raise NotFound("There is no check-in with that id.")
        self.visible_person(actor, checkin.person_id)
        return checkin


class FakeUnitOfWork(BaseFakeUnitOfWork[FakeTransaction]):
    """One in-memory outcomes world; `commits` counts the write transactions that committed."""

    def __init__(self) -> None:
        super().__init__(FakeTransaction())


# --- a small world, built keyword-only --------------------------------------------------------


def add_person(
    uow: FakeUnitOfWork,
    *,
    person_id: str = "person-1",
    advisor_sub: str = "adv-1",
    birth_year: int = 2008,
    consent_case_study: bool = True,
    carer_sub: str | None = None,
) -> Person:
    person = Person(
        id=person_id,
        scheme_id="scheme-1",
        advisor_sub=advisor_sub,
        birth_year=birth_year,
        consent_evaluation=True,
        consent_case_study=consent_case_study,
    )
    uow.tx.people.rows[person.id] = person
    if carer_sub:
        uow.tx.people.carers.add((person.id, carer_sub))
    return person


def add_activity(
    uow: FakeUnitOfWork, *, request_id: str, person_id: str, category: str, approved_at: str
) -> Activity:
    activity = Activity(
        request_id=request_id, person_id=person_id, category=category, approved_at=approved_at
    )
    uow.tx.people.activities[request_id] = activity
    return activity


def add_checkin(
    uow: FakeUnitOfWork,
    *,
    checkin_id: str = "checkin-1",
    person_id: str = "person-1",
    kind: str = "baseline",
    instruments: tuple[str, ...] = ("ons4", "loneliness", "sleep"),
    due_on: date = date(2026, 5, 1),
    activity_id: str = "",
) -> CheckIn:
    checkin = CheckIn(
        id=checkin_id,
        person_id=person_id,
        kind=kind,
        week=0 if kind == "baseline" else 6,
        activity_id=activity_id,
        instruments=list(instruments),
        due_on=due_on,
        status="open",
    )
    uow.tx.checkins.rows[checkin.id] = inserted(checkin)
    return checkin


def checkin_world(**person: Any) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    add_person(uow, **person)
    add_checkin(uow)
    return uow
