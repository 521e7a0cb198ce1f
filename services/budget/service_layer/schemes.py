"""Use cases for schemes (configuration), who holds each scheme's budget, and funding pots (admins).

They work through the unit of work's ports (`tx.schemes`, `tx.pots`, `tx.audit`, `tx.ledger`), so
their rules are tested against fakes (`tests/unit/budget/test_schemes.py`) as well as on databases.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from services.budget.adapters.orm import AuditRecord, Pot, Scheme, SchemeAssignment
from services.budget.domain import schemes as kinds
from services.budget.domain.duties import MAX_COMBINED_DUTIES_TEAM
from services.budget.service_layer import events, ledger
from services.budget.service_layer.access import CASEWORK, STAFF, in_scope, require, scope_for
from services.budget.service_layer.commands import (
    AssignHolder,
    CreatePot,
    CreateScheme,
    UnassignHolder,
    UpdateScheme,
)
from services.budget.service_layer.ledger import Ledger
from services.budget.service_layer.unit_of_work import Transaction, UnitOfWork, as_uow, retried
from shared import clock
from shared.clock import utcnow
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
)
LIST_FIELDS = ("combined_duties_team", "excluded_categories")
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


@retried
def create_scheme(cmd: CreateScheme, uow: UnitOfWork) -> Scheme:
    """A scheme of any kind: the kind's defaults, then the admin's settings, checked together."""
    require(cmd.actor, "admin")
    settings = kinds.with_preset(cmd.settings)
    kinds.check_settings(settings)
    _check_team(settings)
    with uow.write() as tx:
        scheme = Scheme(id=cmd.id or str(uuid.uuid4()))
        for name in SCHEME_FIELDS:
            if name in settings:
                setattr(scheme, name, settings[name])
        scheme.version = 1
        tx.schemes.add(scheme)
        tx.audit.add(_audit(cmd.actor, "scheme.created", scheme.id, {}))
        tx.publish("scheme.changed", events.scheme_changed(scheme))
        return scheme


@retried
def update_scheme(cmd: UpdateScheme, uow: UnitOfWork) -> Scheme:
    """Change a scheme's settings; the caller sends the ETag it read (checked under the row lock)."""
    require(cmd.actor, "admin")
    with uow.write() as tx:
        scheme = tx.schemes.lock(cmd.scheme_id)
        if scheme is None:
            raise NotFound("No scheme with that id.")
        check_if_match(cmd.if_match, scheme, what="scheme")
        merged = {n: getattr(scheme, n) for n in SCHEME_FIELDS} | cmd.changes
        kinds.check_settings(merged)
        _check_team(merged)
        for name, value in cmd.changes.items():
            setattr(scheme, name, value)
        scheme.version += 1
        tx.audit.add(_audit(cmd.actor, "scheme.changed", scheme.id, dict(cmd.changes)))
        tx.publish("scheme.changed", events.scheme_changed(scheme))
        return scheme


def _audit(actor: Identity, action: str, scheme_id: str, details: dict[str, Any]) -> AuditRecord:
    return AuditRecord(by_sub=actor.sub, action=action, subject_id=scheme_id, details=details)


def get_scheme(session: Session, scheme_id: str) -> Scheme:
    scheme = session.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound("No scheme with that id.")
    return scheme


def _scheme(tx: Transaction, scheme_id: str) -> Scheme:
    scheme = tx.schemes.get(scheme_id)
    if scheme is None:
        raise NotFound("No scheme with that id.")
    return scheme


def _scope(tx: Transaction, actor: Identity) -> frozenset[str] | None:
    return scope_for(actor, tx.schemes.assigned_to)


def list_schemes(db: Database | UnitOfWork, actor: Identity) -> list[dict[str, Any]]:
    """Every scheme; a budget holder's own only (the ones an admin assigned them)."""
    with as_uow(db).read() as tx:
        only = _scope(tx, actor) if actor.role == "budget_holder" else None
        return [scheme_view(scheme, actor) for scheme in tx.schemes.listed(only)]


def read_scheme(db: Database | UnitOfWork, actor: Identity, scheme_id: str) -> dict[str, Any]:
    """One scheme; to a budget holder, another holder's scheme is simply not found."""
    with as_uow(db).read() as tx:
        scheme = _scheme(tx, scheme_id)
        if actor.role == "budget_holder" and not in_scope(_scope(tx, actor), scheme.id):
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


@retried
def assign_holder(cmd: AssignHolder, uow: UnitOfWork) -> SchemeAssignment:
    """An admin assigns a budget holder to a scheme (audited); until then they see none of it."""
    require(cmd.actor, "admin")
    with uow.write() as tx:
        _scheme(tx, cmd.scheme_id)
        if tx.schemes.assignment_of(cmd.scheme_id, cmd.sub) is not None:
            raise Conflict("That budget holder is already assigned to this scheme.")
        assignment = SchemeAssignment(
            id=str(uuid.uuid4()),
            scheme_id=cmd.scheme_id,
            sub=cmd.sub,
            created_by=cmd.actor.sub,
            created_at=utcnow(),
        )
        tx.schemes.assign(assignment)
        details = {"sub": cmd.sub}
        tx.audit.add(_audit(cmd.actor, "scheme.holder_assigned", cmd.scheme_id, details))
        return assignment


@retried
def unassign_holder(cmd: UnassignHolder, uow: UnitOfWork) -> None:
    require(cmd.actor, "admin")
    with uow.write() as tx:
        assignment = tx.schemes.assignment(cmd.assignment_id)
        if assignment is None:
            raise NotFound("No assignment with that id.")
        details = {"sub": assignment.sub}
        tx.audit.add(_audit(cmd.actor, "scheme.holder_unassigned", assignment.scheme_id, details))
        tx.schemes.unassign(assignment)


def list_assignments(
    db: Database | UnitOfWork,
    actor: Identity,
    scheme_id: str | None = None,
    sub: str | None = None,
) -> list[SchemeAssignment]:
    """Admins see every assignment; a budget holder sees their own."""
    require(actor, "admin", "budget_holder")
    if actor.role == "budget_holder":
        if sub and sub != actor.sub:
            return []
        sub = actor.sub
    with as_uow(db).read() as tx:
        return tx.schemes.assignments(scheme_id=scheme_id, sub=sub)


@retried
def create_pot(cmd: CreatePot, uow: UnitOfWork) -> Pot:
    """A funding pot, funded in the ledger in the same transaction."""
    require(cmd.actor, "admin")
    if cmd.ends_on and cmd.ends_on < cmd.starts_on:
        raise ValidationFailed(
            "The pot ends before it starts.", errors={"ends_on": ["Must be after starts_on."]}
        )
    with uow.write() as tx:
        _scheme(tx, cmd.scheme_id)
        pot = Pot(
            id=cmd.id or str(uuid.uuid4()),
            scheme_id=cmd.scheme_id,
            name=cmd.name,
            funder=cmd.funder,
            amount_pence=cmd.amount_pence,
            funding_stream=cmd.funding_stream or "health",
            starts_on=cmd.starts_on,
            ends_on=cmd.ends_on,
            cost_code=cmd.cost_code,
        )
        tx.pots.add(pot)
        # The pot's money enters the ledger from its funder.
        tx.ledger.fund_pot(pot.id, pot.amount_pence, by=cmd.actor.sub, memo=_funding_memo(pot))
        tx.done(pot_view(tx, pot))
        return pot


def fund_pot(session: Session, pot: Pot, by: str) -> None:
    """The pot's money enters the ledger from its funder (the seeds, which hold a session)."""
    Ledger(session).fund_pot(pot.id, pot.amount_pence, by=by, memo=_funding_memo(pot))


def _funding_memo(pot: Pot) -> str:
    return f"{pot.funder}: {pot.name}"


def list_pots(db: Database | UnitOfWork, actor: Identity) -> list[dict[str, Any]]:
    """Pots of the schemes the caller acts on (a budget holder: their assigned schemes)."""
    require(actor, *STAFF)
    with as_uow(db).read() as tx:
        return [pot_view(tx, pot) for pot in tx.pots.listed(_scope(tx, actor))]


def get_pot(db: Database | UnitOfWork, actor: Identity, pot_id: str) -> dict[str, Any]:
    require(actor, *STAFF)
    with as_uow(db).read() as tx:
        pot = tx.pots.get(pot_id)
        if pot is None or not in_scope(_scope(tx, actor), pot.scheme_id):
            raise NotFound("No pot with that id.")
        return pot_view(tx, pot)


def pot_view(tx: Transaction, pot: Pot) -> dict[str, Any]:
    unallocated = tx.ledger.balance(ledger.account_id(ledger.POT, pot.id))
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
    return clock.today()
