"""Factories: each budget test builds the world it needs through the service layer (keyword-only).

Every record is made the way the service makes it, so the ledger is clean after each factory call.
Defaults are fictional and small; pass what the test is about.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from services.budget.adapters.orm import Person, Pot, Scheme
from services.budget.service_layer import people, plans, schemes
from services.budget.service_layer import requests as rq
from services.budget.service_layer.commands import (
    AssignHolder,
    CreatePlan,
    CreatePot,
    CreateScheme,
    EnrolPerson,
    PlanGoal,
)
from services.budget.service_layer.unit_of_work import as_uow
from shared.db import Database
from shared.identity import Identity

ADMIN = Identity(sub="admin-1", role="admin")
ADVISOR = Identity(sub="advisor-1", role="advisor")
HOLDER = Identity(sub="holder-1", role="budget_holder")
FINANCE = Identity(sub="finance-1", role="finance")
# The budget holders a scheme gets by default: the service-layer one and the HTTP fixtures' ones.
HOLDERS = (HOLDER.sub, "test-budget_holder", "holder")
TODAY = date(2026, 11, 24)
_numbers = itertools.count(1)


def create_scheme(
    db: Database,
    *,
    name: str = "Care leavers",
    cap_pence: int = 50_000,
    min_age: int | None = 16,
    max_age: int | None = 25,
    auto_approve_pence: int = 0,
    hold_expiry_days: int = 90,
    excluded_categories: Sequence[str] = (),
    holders: Sequence[str] = HOLDERS,
    **settings: Any,
) -> Scheme:
    """A scheme, with `holders` assigned to it (a budget holder sees only their schemes)."""
    uow = as_uow(db)
    values = {
        "name": name,
        "cap_pence": cap_pence,
        "min_age": min_age,
        "max_age": max_age,
        "auto_approve_pence": auto_approve_pence,
        "hold_expiry_days": hold_expiry_days,
        "excluded_categories": list(excluded_categories),
        **settings,
    }
    scheme = schemes.create_scheme(CreateScheme(actor=ADMIN, settings=values), uow)
    for holder in holders:
        schemes.assign_holder(AssignHolder(actor=ADMIN, scheme_id=scheme.id, sub=holder), uow)
    return scheme


def create_pot(
    db: Database,
    *,
    scheme_id: str,
    amount_pence: int = 1_000_000,
    name: str = "NHS grant",
    funder: str = "NHS England",
    starts_on: date = date(2026, 4, 1),
    cost_code: str | None = None,
) -> Pot:
    cmd = CreatePot(
        actor=ADMIN,
        scheme_id=scheme_id,
        name=name,
        funder=funder,
        amount_pence=amount_pence,
        starts_on=starts_on,
        cost_code=cost_code,
    )
    return schemes.create_pot(cmd, as_uow(db))


def create_person(
    db: Database,
    *,
    scheme_id: str,
    advisor: Identity = ADVISOR,
    birth_date: date = date(2006, 5, 1),
    allocation_pence: int | None = None,
    pot_id: str | None = None,
    case_reference: str | None = None,
) -> Person:
    cmd = EnrolPerson(
        actor=advisor,
        scheme_id=scheme_id,
        case_reference=case_reference or f"LC-{next(_numbers)}",
        birth_date=birth_date,
        allocation_pence=allocation_pence,
        pot_id=pot_id,
    )
    return people.enrol_person(cmd, as_uow(db), today=TODAY)


def create_plan(
    db: Database,
    *,
    person_id: str,
    advisor: Identity = ADVISOR,
    goals: Sequence[str] = ("Sleep better",),
) -> dict[str, Any]:
    cmd = CreatePlan(
        actor=advisor, person_id=person_id, goals=tuple(PlanGoal(text=g) for g in goals)
    )
    return plans.create_plan(cmd, as_uow(db), today=TODAY)


# How a request is brought to each state, one step after another.
_STEPS: dict[str, tuple[str, ...]] = {
    "draft": (),
    "submitted": ("submit",),
    "approved": ("submit", "approve"),
    "ordered": ("submit", "approve", "order"),
    "paid": ("submit", "approve", "pay"),
    "evidenced": ("submit", "approve", "pay", "evidence"),
}


def create_request(
    db: Database,
    *,
    person_id: str,
    goal_id: str,
    amount_pence: int = 3_000,
    state: str = "submitted",
    advisor: Identity = ADVISOR,
    supplier: str = "Bikes for All",
    item: str = "a bike",
) -> dict[str, Any]:
    """An equipment request, taken to `state` through the service's own use cases."""
    values = {
        "person_id": person_id,
        "goal_id": goal_id,
        "supplier": supplier,
        "item": item,
        "amount_pence": amount_pence,
        "submit": "submit" in _STEPS[state],
    }
    req = rq.create_request(db, _NoDirectory(), advisor, values)
    for step in _STEPS[state][1:]:
        if step == "approve":
            req = rq.approve_request(db, _NoDirectory(), HOLDER, req["id"])
        elif step == "order":
            req = rq.order_request(db, FINANCE, req["id"], "PO-1")
        elif step == "pay":
            req = rq.pay_request(db, FINANCE, req["id"], {"reference": f"BACS-{uuid.uuid4()}"})
        elif step == "evidence":
            req = rq.add_evidence(db, advisor, req["id"], {"reference": "receipt"})
    assert req["state"] == state
    return req


def create_young_person(
    db: Database, *, scheme_id: str, allocation_pence: int | None = None
) -> tuple[str, str]:
    """A young person with a plan: (person id, the plan's first goal id)."""
    person = create_person(db, scheme_id=scheme_id, allocation_pence=allocation_pence)
    plan = create_plan(db, person_id=person.id)
    return person.id, plan["goals"][0]["id"]


class _NoDirectory:
    """Equipment requests never ask the directory."""

    def fundability(self, listing_id: str, cost_option_id: str | None) -> Any:
        raise AssertionError("equipment requests don't ask the directory")
