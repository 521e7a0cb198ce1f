"""The outcomes' records as the use cases see them, over one SQLAlchemy session (one transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.outcomes.adapters import checkin_scores
from services.outcomes.adapters.orm import (
    Activity,
    CaseStudy,
    CheckIn,
    FeedbackLink,
    Observation,
    Person,
    SchemeInfo,
    SchemeOutcomeSettings,
)
from services.outcomes.domain.scheme_settings import OutcomeSettings, SchemeFacts, defaults_for


def scheme_facts(session: Session, scheme_id: str) -> SchemeFacts | None:
    """A scheme as the budget service announced it, or None if it has not (yet)."""
    info = session.get(SchemeInfo, scheme_id)
    if info is None:
        return None
    return SchemeFacts(info.id, info.name, info.kind, info.min_age, info.max_age)


def outcome_settings(session: Session, scheme_id: str) -> OutcomeSettings:
    """The scheme's chosen outcome settings, or its kind's defaults until an admin chooses."""
    row = session.get(SchemeOutcomeSettings, scheme_id)
    if row is None:
        return defaults_for(scheme_facts(session, scheme_id))
    return OutcomeSettings(
        instrument_set=row.instrument_set,
        age_bands=tuple(row.age_bands),
        proxy_set=row.proxy_set,
        proxy_below_age=row.proxy_below_age,
    )


class SqlPeople:
    def __init__(self, session: Session):
        self.session = session

    def get(self, person_id: str) -> Person | None:
        return self.session.get(Person, person_id)

    def latest_category(self, person_id: str) -> str | None:
        """The category of the young person's latest approved activity that has one."""
        return self.session.scalar(
            select(Activity.category)
            .where(Activity.person_id == person_id, Activity.category.is_not(None))
            .order_by(Activity.approved_at.desc())
            .limit(1)
        )

    def age_bands(self, scheme_id: str) -> tuple[str, ...]:
        """The age bands the scheme's reports use (its own, or its kind's)."""
        return outcome_settings(self.session, scheme_id).age_bands


class SqlCaseStudies:
    def __init__(self, session: Session):
        self.session = session

    def get(self, study_id: str) -> CaseStudy | None:
        return self.session.get(CaseStudy, study_id)

    def add(self, study: CaseStudy) -> None:
        self.session.add(study)
        self.session.flush()

    def listed(self, *, author_sub: str | None, status: str | None) -> list[CaseStudy]:
        stmt = select(CaseStudy).order_by(CaseStudy.created_at, CaseStudy.id)
        if author_sub:
            stmt = stmt.where(CaseStudy.author_sub == author_sub)
        if status:
            stmt = stmt.where(CaseStudy.status == status)
        return list(self.session.scalars(stmt))


class SqlCheckIns:
    def __init__(self, session: Session):
        self.session = session

    def get(self, checkin_id: str) -> CheckIn | None:
        return self.session.get(CheckIn, checkin_id)

    def activity(self, request_id: str) -> Activity | None:
        return self.session.get(Activity, request_id)

    def record_scores(self, checkin: CheckIn) -> None:
        """An answered check-in's scores as rows (`checkin_scores`), in this transaction."""
        checkin_scores.record(self.session, checkin)

    def latest_link(self, checkin_id: str) -> FeedbackLink | None:
        return self.session.scalar(
            select(FeedbackLink)
            .where(FeedbackLink.checkin_id == checkin_id)
            .order_by(FeedbackLink.id.desc())
            .limit(1)
        )

    def link_by_hash(self, token_hash: str) -> FeedbackLink | None:
        return self.session.scalar(
            select(FeedbackLink).where(FeedbackLink.token_hash == token_hash)
        )

    def add_link(self, link: FeedbackLink) -> None:
        self.session.add(link)
        self.session.flush()

    def revoke_links(self, checkin_id: str, at: datetime) -> None:
        """Every link of the check-in still unused and unrevoked stops working."""
        self.session.execute(
            update(FeedbackLink)
            .where(
                FeedbackLink.checkin_id == checkin_id,
                FeedbackLink.used_at.is_(None),
                FeedbackLink.revoked_at.is_(None),
            )
            .values(revoked_at=at)
        )

    def use_link(self, link_id: int, at: datetime) -> bool:
        """Mark the link used if it still is not: only one transaction can flip used_at from NULL."""
        done = self.session.execute(
            update(FeedbackLink)
            .where(FeedbackLink.id == link_id, FeedbackLink.used_at.is_(None))
            .values(used_at=at)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def add_observation(self, observation: Observation) -> None:
        self.session.add(observation)
        self.session.flush()

    def observations(self, checkin_id: str) -> list[Observation]:
        return list(
            self.session.scalars(
                select(Observation)
                .where(Observation.checkin_id == checkin_id)
                .order_by(Observation.created_at)
            )
        )
