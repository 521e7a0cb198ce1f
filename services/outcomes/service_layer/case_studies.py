"""Case studies: an advisor drafts a de-identified story; an admin approves it before any report shows it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from services.outcomes.adapters.orm import Activity, CaseStudy, CheckIn
from services.outcomes.domain.identifying import identifying_details
from services.outcomes.domain.scheme_settings import band_of
from services.outcomes.service_layer.commands import ApproveCaseStudy, DraftCaseStudy
from services.outcomes.service_layer.unit_of_work import UnitOfWork, retried
from shared import clock
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.identity import Identity
from shared.outbox import utcnow
from shared.suppression import THRESHOLD

PLACE = "East Sussex"  # places are given as the county, never a town


def view(study: CaseStudy) -> dict[str, Any]:
    return {
        "id": study.id,
        "person_id": study.person_id,
        "author_sub": study.author_sub,
        "title": study.title,
        "story": study.story,
        "age_band": study.age_band,
        "place": study.place,
        "category": study.category,
        "status": study.status,
        "approved_by": study.approved_by,
        "approved_at": study.approved_at,
        "created_at": study.created_at,
    }


def _identifying(values: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field in ("title", "story"):
        for what in identifying_details(values.get(field) or ""):
            errors.setdefault(field, []).append(
                f"This looks like it contains {what}; case studies must not identify anyone."
            )
    return errors


@retried
def draft(cmd: DraftCaseStudy, uow: UnitOfWork) -> dict[str, Any]:
    if cmd.actor.role != "advisor":
        raise Forbidden("Case studies are drafted by the young person's advisor.")
    errors = _identifying({"title": cmd.title, "story": cmd.story})
    if errors:
        raise ValidationFailed("The case study would identify someone.", errors=errors)
    with uow.write() as tx:
        person = tx.people.get(cmd.person_id)
        if person is None or person.advisor_sub != cmd.actor.sub:
            raise NotFound("There is no young person with that id on your caseload.")
        if not person.consent_case_study:
            raise ValidationFailed(
                "This young person has not consented to a case study.",
                errors={"person_id": ["No recorded consent to a case study."]},
            )
        study = CaseStudy(
            id=str(uuid.uuid4()),
            person_id=person.id,
            author_sub=cmd.actor.sub,
            title=cmd.title.strip(),
            story=cmd.story.strip(),
            age_band=band_of(
                tx.people.age_bands(person.scheme_id), person.birth_year, clock.today()
            ),
            place=PLACE,
            category=tx.people.latest_category(person.id),
            status="draft",
            created_at=utcnow(),
        )
        tx.case_studies.add(study)
        return view(study)


def list_studies(uow: UnitOfWork, actor: Identity, status: str | None) -> list[dict[str, Any]]:
    if actor.role not in ("advisor", "admin") and not actor.is_service:
        raise Forbidden("Only advisors and admins can see case studies.")
    author = actor.sub if actor.role == "advisor" else None  # an advisor sees their own
    with uow.read() as tx:
        return [view(s) for s in tx.case_studies.listed(author_sub=author, status=status)]


@retried
def approve(cmd: ApproveCaseStudy, uow: UnitOfWork) -> dict[str, Any]:
    if cmd.actor.role != "admin":
        raise Forbidden("Only an admin can approve a case study.")
    with uow.write() as tx:
        study = tx.case_studies.get(cmd.study_id)
        if study is None:
            raise NotFound("There is no case study with that id.")
        if study.status == "approved":
            raise Conflict("This case study is already approved.")
        person = tx.people.get(study.person_id)
        if person is None or not person.consent_case_study:
            raise Conflict("The young person's consent to a case study has been withdrawn.")
        study.status = "approved"
        study.approved_by = cmd.actor.sub
        study.approved_at = utcnow()
        return view(study)


def provider_rating(uow: UnitOfWork, actor: Identity, provider_id: str) -> dict[str, Any]:
    """A provider's aggregate activity rating: only its own, and only from 8 ratings up."""
    own = actor.role == "provider" and actor.provider_id == provider_id
    if not (own or actor.role == "admin" or actor.is_service):
        raise Forbidden("A provider sees only the rating of its own listings.")
    with uow.read() as tx:
        rows = tx.session.execute(
            select(CheckIn.answers)
            .join(Activity, Activity.request_id == CheckIn.activity_id)
            .where(Activity.provider_id == provider_id, CheckIn.status == "answered")
        ).all()
    ratings = [
        r.answers["activity_rating"]
        for r in rows
        if r.answers and isinstance(r.answers.get("activity_rating"), int)
    ]
    if len(ratings) < THRESHOLD:
        return {
            "provider_id": provider_id,
            "ratings": None,
            "mean_rating": None,
            "withheld": f"Shown from {THRESHOLD} ratings up.",
        }
    return {
        "provider_id": provider_id,
        "ratings": len(ratings),
        "mean_rating": round(sum(ratings) / len(ratings), 2),
        "withheld": None,
    }
