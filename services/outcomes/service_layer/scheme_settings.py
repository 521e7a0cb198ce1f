"""Outcomes per scheme: reading and changing a scheme's outcome settings (admins), and choosing
the set a new check-in asks from the person's scheme and age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.outcomes.adapters.orm import (
    CheckIn,
    FeedbackLink,
    Person,
    SchemeInfo,
    SchemeOutcomeSettings,
)
from services.outcomes.adapters.repository import outcome_settings, scheme_facts
from services.outcomes.domain import scheme_settings as rules
from services.outcomes.domain.instruments import Catalogue
from services.outcomes.service_layer.unit_of_work import UnitOfWork, retried
from shared.concurrency import check_if_match
from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.identity import Identity
from shared.outbox import utcnow

READERS = ("admin",)


@dataclass(frozen=True)
class Versioned:
    """What an ETag is made of: the scheme's id and its settings' version (0: the defaults)."""

    id: str
    version: int


facts = scheme_facts
settings_for = outcome_settings


def checkin_set(
    session: Session, catalogue: Catalogue, person_id: str, on: date
) -> tuple[str, str, tuple[str, ...]]:
    """(set id, respondent, instruments) for a check-in of this person due on `on`."""
    person = session.get(Person, person_id)
    settings = settings_for(session, person.scheme_id) if person else rules.FALLBACK
    set_id, respondent = rules.set_for(settings, person.birth_year if person else None, on)
    chosen = catalogue.instrument_set(set_id)
    return chosen.id, respondent, chosen.instruments


def ask_scheme_set(session: Session, catalogue: Catalogue, checkin: CheckIn, on: date) -> int:
    """Point an open check-in at the set its person's scheme asks on `on`; a link sent to the
    other respondent (the parent, or the young person) stops working."""
    set_id, respondent, asks = checkin_set(session, catalogue, checkin.person_id, on)
    if (set_id, respondent, list(asks)) == (
        checkin.instrument_set,
        checkin.respondent,
        list(checkin.instruments),
    ):
        return 0
    if respondent != checkin.respondent:
        session.execute(
            update(FeedbackLink)
            .where(
                FeedbackLink.checkin_id == checkin.id,
                FeedbackLink.used_at.is_(None),
                FeedbackLink.revoked_at.is_(None),
            )
            .values(revoked_at=utcnow())
        )
    checkin.instrument_set, checkin.respondent, checkin.instruments = set_id, respondent, list(asks)
    return 1


def person_band(session: Session, person: Person, on: date) -> str:
    """The person's age band on a day, in their scheme's own bands."""
    return rules.band_of(settings_for(session, person.scheme_id).age_bands, person.birth_year, on)


def scheme_bands(session: Session) -> dict[str, tuple[str, ...]]:
    """Every known scheme's age bands (chosen or default), by scheme id."""
    ids = set(session.scalars(select(Person.scheme_id).distinct()))
    ids |= set(session.scalars(select(SchemeInfo.id)))
    return {i: settings_for(session, i).age_bands for i in ids}


def scheme_names(session: Session) -> dict[str, str]:
    return {s.id: s.name for s in session.scalars(select(SchemeInfo)) if s.name}


def scheme_kinds(session: Session) -> dict[str, str]:
    """Each announced scheme's kind (care_leavers, mental_health_s117, ...), by scheme id."""
    return {s.id: s.kind for s in session.scalars(select(SchemeInfo)) if s.kind}


# --- use cases -------------------------------------------------------------------------------


def _require_admin(actor: Identity) -> None:
    if not (actor.is_service or actor.role in READERS):
        raise Forbidden("Only admins can see or change a scheme's outcome settings.")


def view(
    session: Session, catalogue: Catalogue, scheme_id: str
) -> tuple[dict[str, Any], Versioned]:
    row = session.get(SchemeOutcomeSettings, scheme_id)
    known = facts(session, scheme_id)
    settings = settings_for(session, scheme_id)
    problems = rules.check(settings.as_dict(), catalogue.sets, known)
    body = {
        "scheme_id": scheme_id,
        "scheme": None
        if known is None
        else {
            "name": known.name,
            "kind": known.kind,
            "min_age": known.min_age,
            "max_age": known.max_age,
        },
        **settings.as_dict(),
        "chosen": row is not None,
        "version": row.version if row else 0,
        "updated_by": row.updated_by if row else None,
        "updated_at": row.updated_at if row else None,
        # Settings saved before the scheme's ages changed may no longer fit: say so, don't hide it.
        "problems": problems,
    }
    return body, Versioned(scheme_id, row.version if row else 0)


def read_settings(
    uow: UnitOfWork, catalogue: Catalogue, actor: Identity, scheme_id: str
) -> tuple[dict[str, Any], Versioned]:
    _require_admin(actor)
    with uow.read() as tx:
        return view(tx.session, catalogue, scheme_id)


def list_settings(uow: UnitOfWork, catalogue: Catalogue, actor: Identity) -> list[dict[str, Any]]:
    """Every scheme outcomes has heard of, with its settings, by name."""
    _require_admin(actor)
    with uow.read() as tx:
        schemes = tx.session.scalars(select(SchemeInfo).order_by(SchemeInfo.name, SchemeInfo.id))
        return [view(tx.session, catalogue, s.id)[0] for s in schemes]


@dataclass(frozen=True, kw_only=True)
class ChangeSettings:
    actor: Identity
    scheme_id: str
    values: dict[str, Any]
    if_match: str | None


@retried
def change_settings(
    cmd: ChangeSettings, uow: UnitOfWork, catalogue: Catalogue
) -> tuple[dict[str, Any], Versioned]:
    """Choose a scheme's sets and age bands (admin; If-Match with the ETag read, 428 without)."""
    _require_admin(cmd.actor)
    with uow.write() as tx:
        session = tx.session
        known = facts(session, cmd.scheme_id)
        if known is None:
            raise NotFound(
                "Outcomes has not heard of this scheme yet: the budget service announces a "
                "scheme when it is set up or its settings are saved."
            )
        row = session.scalars(
            select(SchemeOutcomeSettings)
            .where(SchemeOutcomeSettings.scheme_id == cmd.scheme_id)
            .with_for_update()
        ).one_or_none()
        check_if_match(
            cmd.if_match,
            Versioned(cmd.scheme_id, row.version if row else 0),
            what="scheme's outcome settings",
        )
        values = {
            "instrument_set": cmd.values.get("instrument_set"),
            "proxy_set": cmd.values.get("proxy_set"),
            "proxy_below_age": cmd.values.get("proxy_below_age"),
            "age_bands": [str(b).strip() for b in cmd.values.get("age_bands") or []],
        }
        errors = rules.check(values, catalogue.sets, known)
        if errors:
            raise ValidationFailed("These outcome settings do not fit the scheme.", errors=errors)
        if row is None:
            row = SchemeOutcomeSettings(scheme_id=cmd.scheme_id, version=0)
            session.add(row)
        for name, value in values.items():
            setattr(row, name, value)
        row.version = (row.version or 0) + 1
        row.updated_by = cmd.actor.sub
        row.updated_at = utcnow()
        session.flush()
        open_ones = session.scalars(
            select(CheckIn)
            .join(Person, Person.id == CheckIn.person_id)
            .where(Person.scheme_id == cmd.scheme_id, CheckIn.status == "open")
        )
        for checkin in open_ones:  # what is still to be answered asks the new choice
            ask_scheme_set(session, catalogue, checkin, checkin.due_on)
        session.flush()
        return view(session, catalogue, cmd.scheme_id)


def describe_sets(catalogue: Catalogue) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "title": s.title,
            "respondent": s.respondent,
            "instruments": list(s.instruments),
            "form_title": s.form_title,
        }
        for s in sorted(catalogue.sets.values(), key=lambda s: (s.respondent, s.id))
    ]
