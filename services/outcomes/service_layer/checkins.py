"""Check-ins: scheduling them, feedback links that open exactly one, and recording answers."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import (
    Activity,
    CarerLink,
    CheckIn,
    FeedbackLink,
    Observation,
    Person,
)
from services.outcomes.domain import instruments
from services.outcomes.domain.instruments import Catalogue
from services.outcomes.service_layer import scheme_settings
from services.outcomes.service_layer.access import (
    CARER,
    PARENT_ACTS_BELOW_AGE,
    require_staff,
    require_staff_or_carer,
)
from services.outcomes.service_layer.commands import (
    AddObservation,
    AnswerByAdvisor,
    AnswerByLink,
    IssueLink,
)
from services.outcomes.service_layer.unit_of_work import (
    CheckIns,
    Transaction,
    UnitOfWork,
    retried,
)
from shared import clock
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.identity import Identity
from shared.outbox import utcnow
from shared.pagination import Page, paginate

BASELINE, FOLLOW_UP = "baseline", "follow_up"
OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
FOLLOW_UP_WEEKS = (6, 12)
LINK_GONE = "This link has expired or has already been used. Ask your advisor for a new one."


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- scheduling (called by event handlers) --------------------------------------------------

# In `session.info` while a batch of events applies: people whose baseline was committed before it.
BASELINES = "outcomes.baselines"


def people_with_baselines(session: Session, people: set[str]) -> list[tuple[Person, bool]]:
    """Those of `people` who are known, each with whether they have a baseline check-in (one
    statement for all)."""
    has_baseline = (
        exists().where(CheckIn.person_id == Person.id, CheckIn.kind == BASELINE).label("baseline")
    )
    query = select(Person, has_baseline).where(Person.id.in_(people))
    return [(person, bool(baseline)) for person, baseline in session.execute(query)]


def ensure_baseline(
    session: Session, person_id: str, due_on: date, catalogue: Catalogue
) -> CheckIn | None:
    """One baseline per young person: made when the first request is approved (or an activity starts)."""
    if person_id in session.info.get(BASELINES, ()):
        return None
    existing = session.scalar(
        select(CheckIn).where(CheckIn.person_id == person_id, CheckIn.kind == BASELINE)
    )
    if existing is not None:
        return None
    checkin = _new(session, catalogue, person_id, BASELINE, 0, "", due_on)
    session.add(checkin)
    session.flush()
    return checkin


def schedule_follow_ups(
    session: Session, activity: Activity, catalogue: Catalogue
) -> list[CheckIn]:
    """Follow-ups 6 and 12 weeks after the activity starts (once each, whatever replays)."""
    made = []
    assert activity.started_on is not None
    for week in FOLLOW_UP_WEEKS:
        existing = session.scalar(
            select(CheckIn).where(
                CheckIn.person_id == activity.person_id,
                CheckIn.kind == FOLLOW_UP,
                CheckIn.activity_id == activity.request_id,
                CheckIn.week == week,
            )
        )
        due = activity.started_on + timedelta(weeks=week)
        if existing is None:
            checkin = _new(
                session, catalogue, activity.person_id, FOLLOW_UP, week, activity.request_id, due
            )
            session.add(checkin)
            made.append(checkin)
        elif existing.status == OPEN:
            existing.due_on = due  # a corrected start date moves what's still to come
            scheme_settings.ask_scheme_set(session, catalogue, existing, due)
    session.flush()
    return made


def follow_scheme(
    session: Session, person_id: str, since: date | None, catalogue: Catalogue
) -> int:
    """After a transfer: every check-in still open asks the new scheme's set (as of the transfer,
    or its due day if later); answered ones keep what they asked, on the same timeline."""
    changed = 0
    for checkin in session.scalars(
        select(CheckIn).where(CheckIn.person_id == person_id, CheckIn.status == OPEN)
    ):
        on = max(checkin.due_on, since) if since else checkin.due_on
        changed += scheme_settings.ask_scheme_set(session, catalogue, checkin, on)
    session.flush()
    return changed


def _new(
    session: Session,
    catalogue: Catalogue,
    person_id: str,
    kind: str,
    week: int,
    activity_id: str,
    due_on: date,
) -> CheckIn:
    set_id, respondent, asks = scheme_settings.checkin_set(session, catalogue, person_id, due_on)
    return CheckIn(
        id=str(uuid.uuid4()),
        person_id=person_id,
        kind=kind,
        week=week,
        activity_id=activity_id,
        instruments=list(asks),
        instrument_set=set_id,
        respondent=respondent,
        due_on=due_on,
        status=OPEN,
        created_at=utcnow(),
    )


# --- views ---------------------------------------------------------------------------------


def _link_state(tx: Transaction, checkin: CheckIn) -> dict[str, Any] | None:
    link = tx.checkins.latest_link(checkin.id)
    if link is None:
        return None
    now = utcnow()
    state = (
        "used"
        if link.used_at
        else "revoked"
        if link.revoked_at
        else "expired"
        if _utc(link.expires_at) <= now
        else "active"
    )
    return {"state": state, "issued_at": link.issued_at, "expires_at": link.expires_at}


def checkin_view(tx: Transaction, checkin: CheckIn, *, detail: bool = False) -> dict[str, Any]:
    activity = tx.checkins.activity(checkin.activity_id) if checkin.activity_id else None
    view: dict[str, Any] = {
        "id": checkin.id,
        "person_id": checkin.person_id,
        "kind": checkin.kind,
        "week": checkin.week,
        "activity_id": checkin.activity_id or None,
        "category": activity.category if activity else None,
        "due_on": checkin.due_on,
        "due": checkin.status == OPEN and checkin.due_on <= clock.today(),
        "status": checkin.status,
        "instruments": list(checkin.instruments),
        "instrument_set": checkin.instrument_set,
        "respondent": checkin.respondent,
        "answered_at": checkin.answered_at,
        "answered_via": checkin.answered_via,
        "link": _link_state(tx, checkin),
    }
    if detail:
        view["answers"] = checkin.answers
        view["scores"] = checkin.scores
        view["observations"] = [
            {"id": o.id, "author_sub": o.author_sub, "text": o.text, "created_at": o.created_at}
            for o in tx.checkins.observations(checkin.id)
        ]
    return view


def list_checkins(uow: UnitOfWork, actor: Identity, args: dict[str, Any]) -> dict[str, Any]:
    require_staff_or_carer(actor)
    with uow.read() as tx:
        session = tx.session
        stmt = select(CheckIn).join(Person, Person.id == CheckIn.person_id)
        if actor.role == "advisor":
            stmt = stmt.where(Person.advisor_sub == actor.sub)
        if actor.role == CARER:  # their own children, under 16
            stmt = stmt.where(
                Person.id.in_(select(CarerLink.person_id).where(CarerLink.carer_sub == actor.sub)),
                Person.birth_year > clock.today().year - PARENT_ACTS_BELOW_AGE,
            )
        if args.get("person_id"):
            stmt = stmt.where(CheckIn.person_id == str(args["person_id"]))
        if args.get("status"):
            stmt = stmt.where(CheckIn.status == args["status"])
        if args.get("due_by"):
            stmt = stmt.where(CheckIn.due_on <= args["due_by"])
        stmt = stmt.order_by(CheckIn.due_on, CheckIn.id)
        page: Page[Any] = paginate(session, stmt, args.get("page", 1), args.get("per_page", 20))
        rows = [c if isinstance(c, CheckIn) else c[0] for c in page.items]
        return page.envelope([checkin_view(tx, c) for c in rows])


def get_checkin(uow: UnitOfWork, actor: Identity, checkin_id: str) -> dict[str, Any]:
    require_staff_or_carer(actor)
    with uow.read() as tx:
        return checkin_view(tx, tx.visible_checkin(actor, checkin_id), detail=True)


def person_summary(uow: UnitOfWork, actor: Identity, person_id: str) -> dict[str, Any]:
    """A young person's check-ins and their latest scores, for their advisor (or their parent or
    carer, for a child under 16)."""
    require_staff_or_carer(actor)
    with uow.read() as tx:
        person = tx.visible_person(actor, person_id)
        rows = tx.session.scalars(
            select(CheckIn).where(CheckIn.person_id == person.id).order_by(CheckIn.due_on)
        ).all()
        return {
            "person_id": person.id,
            "advisor_sub": person.advisor_sub,
            "consent_evaluation": person.consent_evaluation,
            "consent_case_study": person.consent_case_study,
            "checkins": [checkin_view(tx, c) for c in rows],
        }


# --- links ---------------------------------------------------------------------------------


@retried
def issue_link(cmd: IssueLink, uow: UnitOfWork) -> dict[str, Any]:
    """A new link for an open check-in; any earlier unused link stops working. Shown once."""
    require_staff(cmd.actor)
    token = secrets.token_urlsafe(32)  # 256 random bits
    with uow.write() as tx:
        checkin = tx.visible_checkin(cmd.actor, cmd.checkin_id)
        if checkin.status != OPEN:
            raise Conflict("This check-in has already been answered or closed.")
        return store_link(tx.checkins, checkin, token, cmd.actor.sub, cmd.link_days)


def store_link(
    links: CheckIns, checkin: CheckIn, token: str, issued_by: str, days: int
) -> dict[str, Any]:
    """Keep a new link's hash (the token itself is never stored); earlier live links stop working."""
    now = utcnow()
    links.revoke_links(checkin.id, now)
    link = FeedbackLink(
        checkin_id=checkin.id,
        token_hash=hash_token(token),
        issued_by=issued_by,
        issued_at=now,
        expires_at=now + timedelta(days=days),
    )
    links.add_link(link)
    return {
        "checkin_id": checkin.id,
        "token": token,
        "page_path": f"/feedback/{token}",
        "api_path": f"/api/outcomes/feedback/{token}",
        "expires_at": link.expires_at,
    }


def _live_link(tx: Transaction, token: str) -> tuple[FeedbackLink, CheckIn]:
    """The link and its check-in, or the same 404 for unknown, used, revoked and expired links."""
    if not token or len(token) > 200:
        raise NotFound(LINK_GONE)
    link = tx.checkins.link_by_hash(hash_token(token))
    if (
        link is None
        or link.used_at is not None
        or link.revoked_at is not None
        or _utc(link.expires_at) <= utcnow()
    ):
        raise NotFound(LINK_GONE)
    checkin = tx.checkins.get(link.checkin_id)
    if checkin is None or checkin.status != OPEN:
        raise NotFound(LINK_GONE)
    return link, checkin


def feedback_form(uow: UnitOfWork, catalogue: Catalogue, token: str) -> dict[str, Any]:
    """The questions behind a link, in plain words, and nothing about the young person."""
    with uow.read() as tx:
        link, checkin = _live_link(tx, token)
        return {
            "kind": checkin.kind,
            "week": checkin.week,
            "expires_at": link.expires_at,
            **form_words(catalogue, checkin),
        }


def form_words(catalogue: Catalogue, checkin: CheckIn) -> dict[str, Any]:
    """A check-in's title, introduction, respondent and questions, in its set's own words."""
    chosen = catalogue.instrument_set(checkin.instrument_set)
    follow_up = checkin.kind == FOLLOW_UP
    return {
        "title": chosen.form_title,
        "intro": chosen.form_intro,
        "respondent": checkin.respondent,
        "instrument_set": chosen.id,
        "sections": instruments.questions(
            catalogue, list(checkin.instruments), follow_up, chosen.follow_up_wording
        ),
    }


@retried
def answer_by_link(cmd: AnswerByLink, uow: UnitOfWork, catalogue: Catalogue) -> dict[str, Any]:
    with uow.write() as tx:
        link, checkin = _live_link(tx, cmd.token)
        clean, scores = _validated(catalogue, checkin, cmd.answers)
        # Single use even under a race: only one transaction can flip used_at from NULL.
        if not tx.checkins.use_link(link.id, utcnow()):
            raise NotFound(LINK_GONE)
        _record(tx, checkin, clean, scores, "link")
        return {"status": "thank you", "message": "Thank you. Your answers have been saved."}


@retried
def answer_by_advisor(
    cmd: AnswerByAdvisor, uow: UnitOfWork, catalogue: Catalogue
) -> dict[str, Any]:
    """The advisor enters answers sitting with the young person, or a parent or carer answers the
    proxy version for their own child under 16; any open link stops working."""
    require_staff_or_carer(cmd.actor)
    with uow.write() as tx:
        checkin = tx.visible_checkin(cmd.actor, cmd.checkin_id)
        if checkin.status != OPEN:
            raise Conflict("This check-in has already been answered or closed.")
        clean, scores = _validated(catalogue, checkin, cmd.answers)
        tx.checkins.revoke_links(checkin.id, utcnow())
        _record(tx, checkin, clean, scores, "carer" if cmd.actor.role == CARER else "advisor")
        return checkin_view(tx, checkin, detail=True)


def _validated(
    catalogue: Catalogue, checkin: CheckIn, answers: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, float]]:
    asks = list(checkin.instruments)
    clean, errors = instruments.check_answers(catalogue, asks, checkin.kind == FOLLOW_UP, answers)
    if errors:
        raise ValidationFailed("Some answers need another look.", errors=errors)
    return clean, instruments.score_answers(catalogue, asks, clean)


def _record(
    tx: Transaction, checkin: CheckIn, clean: dict[str, Any], scores: dict[str, float], via: str
) -> None:
    checkin.answers = clean
    checkin.scores = scores
    checkin.status = ANSWERED
    checkin.answered_at = utcnow()
    checkin.answered_via = via
    tx.checkins.record_scores(checkin)  # the scores as rows, for cost per improvement


@retried
def add_observation(cmd: AddObservation, uow: UnitOfWork) -> dict[str, Any]:
    if not (cmd.actor.is_service or cmd.actor.role == "advisor"):
        raise Forbidden("Only the young person's advisor can add observations.")
    with uow.write() as tx:
        checkin = tx.visible_checkin(cmd.actor, cmd.checkin_id)
        note = Observation(
            id=str(uuid.uuid4()),
            checkin_id=checkin.id,
            author_sub=cmd.actor.sub,
            text=cmd.text.strip(),
            created_at=utcnow(),
        )
        tx.checkins.add_observation(note)
        return {
            "id": note.id,
            "author_sub": note.author_sub,
            "text": note.text,
            "created_at": note.created_at,
        }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
