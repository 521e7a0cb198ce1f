"""Use cases for schemes (configuration), who holds each scheme's budget, and funding pots (admins)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.budget.adapters.orm import AuditRecord, Pot, Scheme, SchemeAssignment
from services.budget.domain import schemes as kinds
from services.budget.domain.duties import MAX_COMBINED_DUTIES_TEAM
from services.budget.service_layer import ledger
from services.budget.service_layer.access import CASEWORK, STAFF, in_scope, require, scheme_scope
from services.budget.service_layer.ledger import Ledger
from services.budget.service_layer.unit_of_work import SqlTransaction, SqlUnitOfWork, as_sql_uow
from shared.concurrency import check_if_match
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed
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
    "combined_duties_allowed",
    "combined_duties_team",
    "kind",
    "cap_basis",
    "budget_type",
    "third_party_name",
    "carry_over",
    "eligibility",
    "parent_may_act",
    "instrument_set",
    "age_bands",
)
LIST_FIELDS = ("combined_duties_team", "excluded_categories", "instrument_set", "age_bands")
# What anyone signed in may know of a scheme; the rules behind it are for council staff.
PUBLIC_SCHEME_FIELDS = (
    "id",
    "name",
    "kind",
    "cap_pence",
    "min_age",
    "max_age",
    "budget_type",
    "active",
)


def _check_team(values: dict[str, Any]) -> None:
    team = values.get("combined_duties_team") or []
    if len(set(team)) > MAX_COMBINED_DUTIES_TEAM:
        raise ValidationFailed(
            "Only a small team may combine duties.",
            errors={"combined_duties_team": [f"At most {MAX_COMBINED_DUTIES_TEAM} people."]},
        )


def create_scheme(db: Database, actor: Identity, values: dict[str, Any]) -> Scheme:
    """A scheme of any kind: the kind's defaults, then the admin's settings, checked together."""
    require(actor, "admin")
    values = kinds.with_preset(values)
    kinds.check_settings(values)
    _check_team(values)
    return as_sql_uow(db).run(lambda tx: _create_scheme(tx, actor, values))


def _create_scheme(tx: SqlTransaction, actor: Identity, values: dict[str, Any]) -> Scheme:
    session = tx.session
    scheme = Scheme(id=values.get("id") or str(uuid.uuid4()))
    for name in SCHEME_FIELDS:
        if name in values:
            setattr(scheme, name, values[name])
    scheme.version = 1
    session.add(scheme)
    session.add(
        AuditRecord(by_sub=actor.sub, action="scheme.created", subject_id=scheme.id, details={})
    )
    session.flush()
    return scheme


def update_scheme(
    db: Database, actor: Identity, scheme_id: str, values: dict[str, Any], *, if_match: str | None
) -> Scheme:
    """Change a scheme's settings; the caller sends the ETag it read (checked under the row lock)."""
    require(actor, "admin")
    return as_sql_uow(db).run(lambda tx: _update_scheme(tx, actor, scheme_id, values, if_match))


def _update_scheme(
    tx: SqlTransaction,
    actor: Identity,
    scheme_id: str,
    values: dict[str, Any],
    if_match: str | None,
) -> Scheme:
    session = tx.session
    get_scheme(session, scheme_id)
    session.execute(select(Scheme.version).where(Scheme.id == scheme_id).with_for_update())
    scheme = session.get(Scheme, scheme_id, populate_existing=True)
    assert scheme is not None
    check_if_match(if_match, scheme, what="scheme")
    merged = {n: getattr(scheme, n) for n in SCHEME_FIELDS} | values
    kinds.check_settings(merged)
    _check_team(merged)
    for name, value in values.items():
        setattr(scheme, name, value)
    scheme.version += 1
    session.add(
        AuditRecord(
            by_sub=actor.sub,
            action="scheme.changed",
            subject_id=scheme.id,
            details={k: v for k, v in values.items()},
        )
    )
    return scheme


def get_scheme(session: Session, scheme_id: str) -> Scheme:
    scheme = session.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound("No scheme with that id.")
    return scheme


def list_schemes(db: Database, actor: Identity) -> list[dict[str, Any]]:
    """Every scheme; a budget holder's own only (the ones an admin assigned them)."""
    with db.session() as session:
        stmt = select(Scheme).order_by(Scheme.created_at, Scheme.id)
        if actor.role == "budget_holder":
            stmt = stmt.where(Scheme.id.in_(scheme_scope(session, actor) or ()))
        return [scheme_view(scheme, actor) for scheme in session.scalars(stmt)]


def read_scheme(db: Database, actor: Identity, scheme_id: str) -> dict[str, Any]:
    """One scheme; to a budget holder, another holder's scheme is simply not found."""
    with db.session() as session:
        scheme = get_scheme(session, scheme_id)
        if actor.role == "budget_holder" and scheme.id not in (scheme_scope(session, actor) or ()):
            raise NotFound("No scheme with that id.")
        return scheme_view(scheme, actor)


def scheme_view(scheme: Scheme, actor: Identity) -> dict[str, Any]:
    """The whole configuration for staff; its name, cap and ages for anyone else (providers)."""
    names = (
        ("id", *SCHEME_FIELDS)
        if actor.is_service or actor.role in CASEWORK
        else PUBLIC_SCHEME_FIELDS
    )
    view = {name: getattr(scheme, name) for name in names}
    for name in LIST_FIELDS:
        if name in view:
            view[name] = list(view[name] or [])
    view["version"] = scheme.version
    return view


# --- who holds each scheme's budget -------------------------------------------------------


def assign_holder(db: Database, actor: Identity, scheme_id: str, sub: str) -> SchemeAssignment:
    """An admin assigns a budget holder to a scheme (audited); until then they see none of it."""
    require(actor, "admin")
    return as_sql_uow(db).run(lambda tx: _assign_holder(tx, actor, scheme_id, sub))


def _assign_holder(
    tx: SqlTransaction, actor: Identity, scheme_id: str, sub: str
) -> SchemeAssignment:
    session = tx.session
    get_scheme(session, scheme_id)
    existing = session.scalar(
        select(SchemeAssignment).where(
            SchemeAssignment.scheme_id == scheme_id, SchemeAssignment.sub == sub
        )
    )
    if existing is not None:
        raise Conflict("That budget holder is already assigned to this scheme.")
    assignment = SchemeAssignment(
        id=str(uuid.uuid4()), scheme_id=scheme_id, sub=sub, created_by=actor.sub
    )
    session.add(assignment)
    session.add(
        AuditRecord(
            by_sub=actor.sub,
            action="scheme.holder_assigned",
            subject_id=scheme_id,
            details={"sub": sub},
        )
    )
    session.flush()
    return assignment


def unassign_holder(db: Database, actor: Identity, assignment_id: str) -> None:
    require(actor, "admin")
    as_sql_uow(db).run(lambda tx: _unassign_holder(tx, actor, assignment_id))


def _unassign_holder(tx: SqlTransaction, actor: Identity, assignment_id: str) -> None:
    session = tx.session
    assignment = session.get(SchemeAssignment, assignment_id)
    if assignment is None:
        raise NotFound("No assignment with that id.")
    session.add(
        AuditRecord(
            by_sub=actor.sub,
            action="scheme.holder_unassigned",
            subject_id=assignment.scheme_id,
            details={"sub": assignment.sub},
        )
    )
    session.delete(assignment)


def list_assignments(
    db: Database, actor: Identity, scheme_id: str | None = None, sub: str | None = None
) -> list[SchemeAssignment]:
    """Admins see every assignment; a budget holder sees their own."""
    require(actor, "admin", "budget_holder")
    stmt = select(SchemeAssignment).order_by(SchemeAssignment.created_at, SchemeAssignment.id)
    if actor.role == "budget_holder":
        stmt = stmt.where(SchemeAssignment.sub == actor.sub)
    if scheme_id:
        stmt = stmt.where(SchemeAssignment.scheme_id == scheme_id)
    if sub:
        stmt = stmt.where(SchemeAssignment.sub == sub)
    with db.session() as session:
        return list(session.scalars(stmt))


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
        funding_stream=values.get("funding_stream") or "health",
        starts_on=values["starts_on"],
        ends_on=values.get("ends_on"),
        cost_code=values.get("cost_code"),
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
    """Pots of the schemes the caller acts on (a budget holder: their assigned schemes)."""
    require(actor, *STAFF)
    with db.session() as session:
        stmt = select(Pot).order_by(Pot.starts_on, Pot.id)
        scope = scheme_scope(session, actor)
        if scope is not None:
            stmt = stmt.where(Pot.scheme_id.in_(scope))
        return [pot_view(session, pot) for pot in session.scalars(stmt)]


def get_pot(db: Database, actor: Identity, pot_id: str) -> dict[str, Any]:
    require(actor, *STAFF)
    with db.session() as session:
        pot = session.get(Pot, pot_id)
        if pot is None or not in_scope(scheme_scope(session, actor), pot.scheme_id):
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
        "funding_stream": pot.funding_stream,
        "allocated_pence": pot.amount_pence - unallocated,
        "unallocated_pence": unallocated,
        "starts_on": pot.starts_on,
        "ends_on": pot.ends_on,
        "cost_code": pot.cost_code,
    }


def today() -> date:
    return date.today()
