"""Use cases for schemes (configuration) and funding pots (admins)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import AuditRecord, Pot, Scheme
from services.budget.service_layer import ledger
from services.budget.service_layer.access import STAFF, require
from services.budget.service_layer.ledger import Ledger
from services.budget.service_layer.unit_of_work import SqlTransaction, SqlUnitOfWork, as_sql_uow
from shared.db import Database
from shared.errors import NotFound, ValidationFailed
from shared.identity import Identity

SCHEME_FIELDS = (
    "name",
    "cap_pence",
    "min_age",
    "max_age",
    "excluded_categories",
    "auto_approve_pence",
    "first_review_months",
    "review_months",
    "period_months",
    "hold_expiry_days",
    "active",
)


def _check_ages(values: dict[str, Any]) -> None:
    low, high = values.get("min_age"), values.get("max_age")
    if low is not None and high is not None and low > high:
        raise ValidationFailed(
            "The age range is back to front.",
            errors={"max_age": ["Must be at least min_age."]},
        )


def create_scheme(db: Database, actor: Identity, values: dict[str, Any]) -> Scheme:
    require(actor, "admin")
    _check_ages(values)

    def work(session: Session) -> Scheme:
        scheme = Scheme(id=values.get("id") or str(uuid.uuid4()))
        for name in SCHEME_FIELDS:
            if name in values:
                setattr(scheme, name, values[name])
        session.add(scheme)
        session.add(
            AuditRecord(by_sub=actor.sub, action="scheme.created", subject_id=scheme.id, details={})
        )
        return scheme

    return db.run_write(work)


def update_scheme(db: Database, actor: Identity, scheme_id: str, values: dict[str, Any]) -> Scheme:
    require(actor, "admin")

    def work(session: Session) -> Scheme:
        scheme = get_scheme(session, scheme_id)
        merged = {n: getattr(scheme, n) for n in SCHEME_FIELDS} | values
        _check_ages(merged)
        for name, value in values.items():
            setattr(scheme, name, value)
        session.add(
            AuditRecord(
                by_sub=actor.sub,
                action="scheme.changed",
                subject_id=scheme.id,
                details={k: v for k, v in values.items()},
            )
        )
        return scheme

    return db.run_write(work)


def get_scheme(session: Session, scheme_id: str) -> Scheme:
    scheme = session.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound("No scheme with that id.")
    return scheme


def list_schemes(db: Database) -> list[Scheme]:
    with db.session() as session:
        return list(session.scalars(select(Scheme).order_by(Scheme.created_at, Scheme.id)))


def create_pot(db: Database | SqlUnitOfWork, actor: Identity, values: dict[str, Any]) -> Pot:
    """A funding pot, funded in the ledger in the same transaction."""
    require(actor, "admin")
    if values.get("ends_on") and values["ends_on"] < values["starts_on"]:
        raise ValidationFailed(
            "The pot ends before it starts.", errors={"ends_on": ["Must be after starts_on."]}
        )
    return as_sql_uow(db).run(lambda tx: _add_pot(tx, actor, values))


def _add_pot(tx: SqlTransaction, actor: Identity, values: dict[str, Any]) -> Pot:
    get_scheme(tx.session, values["scheme_id"])
    pot = Pot(
        id=values.get("id") or str(uuid.uuid4()),
        scheme_id=values["scheme_id"],
        name=values["name"],
        funder=values["funder"],
        amount_pence=values["amount_pence"],
        starts_on=values["starts_on"],
        ends_on=values.get("ends_on"),
    )
    tx.session.add(pot)
    tx.session.flush()
    fund_pot(tx.session, pot, actor.sub)
    tx.done(pot_view(tx.session, pot))
    return pot


def fund_pot(session: Session, pot: Pot, by: str) -> None:
    """The pot's money enters the ledger from its funder."""
    Ledger(session).fund_pot(pot.id, pot.amount_pence, by=by, memo=f"{pot.funder}: {pot.name}")


def list_pots(db: Database, actor: Identity) -> list[dict[str, Any]]:
    require(actor, *STAFF)
    with db.session() as session:
        pots = list(session.scalars(select(Pot).order_by(Pot.starts_on, Pot.id)))
        return [pot_view(session, pot) for pot in pots]


def get_pot(db: Database, actor: Identity, pot_id: str) -> dict[str, Any]:
    require(actor, *STAFF)
    with db.session() as session:
        pot = session.get(Pot, pot_id)
        if pot is None:
            raise NotFound("No pot with that id.")
        return pot_view(session, pot)


def pot_view(session: Session, pot: Pot) -> dict[str, Any]:
    unallocated = ledger.balance(session, ledger.account_id(ledger.POT, pot.id))
    return {
        "id": pot.id,
        "scheme_id": pot.scheme_id,
        "name": pot.name,
        "funder": pot.funder,
        "amount_pence": pot.amount_pence,
        "allocated_pence": pot.amount_pence - unallocated,
        "unallocated_pence": unallocated,
        "starts_on": pot.starts_on,
        "ends_on": pot.ends_on,
    }


def today() -> date:
    return date.today()
