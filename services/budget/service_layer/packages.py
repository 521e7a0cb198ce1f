"""Ongoing packages: a recurring commitment whose whole term is held, paid one instalment at a time.

Made: the whole term is held from the young person's budget (`Ledger.hold_term`). Each payment
posts one instalment from that hold (`Ledger.pay_instalment`); the last one completes the package.
Ended early: the instalments still due are cancelled and what they held goes back
(`Ledger.release_rest`). Every step locks the package row and changes it, and its instalments,
only from the state it read, so racing payments and an ending agree with the ledger.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from services.budget.adapters import report_summary
from services.budget.adapters.directory import DirectoryPort
from services.budget.adapters.orm import (
    AuditRecord,
    Goal,
    Package,
    PackageInstalment,
    Person,
    Plan,
    Scheme,
)
from services.budget.domain import duties
from services.budget.domain import packages as rules
from services.budget.domain import payment_runs as runs
from services.budget.domain import rules as age_rules
from services.budget.domain.rules import require_reason
from services.budget.service_layer import ledger, package_events
from services.budget.service_layer.access import (
    page_of,
    person_for,
    require,
    scope_people,
)
from services.budget.service_layer.commands import CreateRequest
from services.budget.service_layer.fundability import describe, refuse_over_budget
from services.budget.service_layer.request_queries import waiver_of
from services.budget.service_layer.unit_of_work import SqlTransaction, SqlUnitOfWork, as_sql_uow
from shared.clock import today as clock_today
from shared.clock import utcnow
from shared.db import Database
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.identity import Identity
from shared.pagination import Page

Db = Database | SqlUnitOfWork


def create_package(
    db: Db,
    directory: DirectoryPort,
    actor: Identity,
    values: dict[str, Any],
    *,
    today: date | None = None,
) -> dict[str, Any]:
    """Set up a package for a plan goal: the directory is asked first, then the term is held."""
    require(actor, *rules.ACTION_ROLES["create"])
    on = today or clock_today()
    uow = as_sql_uow(db)
    with uow.read() as tx:
        person = person_for(tx.session, actor, values["person_id"])
        scheme = tx.people.scheme_of(person.id)
        plan_id = _goal_plan(tx.session, person.id, values["goal_id"])
    cmd = CreateRequest(
        actor=actor,
        person_id=person.id,
        goal_id=values["goal_id"],
        listing_id=_text(values.get("listing_id")),
        cost_option_id=_text(values.get("cost_option_id")),
        supplier=values.get("supplier"),
        item=values.get("item"),
        category=values.get("category"),
    )
    purchase = describe(directory, cmd, list(scheme.excluded_categories or []))
    instalment = values.get("instalment_pence") or purchase.price_pence or 0
    starts_on = values.get("starts_on") or on
    if starts_on < on:
        raise ValidationFailed(
            "A package can't start in the past.",
            errors={"starts_on": [f"Must be {on.isoformat()} or later."]},
        )
    total = rules.check_term(values["frequency"], values["instalments"], instalment)
    refuse_closed_budget(person, scheme, on)
    rules.refuse_past_age_limit(
        values["frequency"], starts_on, values["instalments"], person.birth_date, scheme.max_age
    )

    def hold(tx: SqlTransaction) -> dict[str, Any]:
        available = tx.ledger.available(person.id, lock=True)
        _require_unmoved(tx.session, person)
        refuse_over_budget(available, total)
        now = utcnow()
        package = Package(
            id=values.get("id") or str(uuid.uuid4()),
            person_id=person.id,
            plan_id=plan_id,
            goal_id=values["goal_id"],
            listing_id=purchase.listing_id,
            cost_option_id=purchase.cost_option_id,
            provider_id=purchase.provider_id,
            payee=purchase.payee,
            item=purchase.item,
            category=purchase.category,
            frequency=values["frequency"],
            instalment_pence=instalment,
            instalments=values["instalments"],
            amount_pence=total,
            starts_on=starts_on,
            state=rules.ACTIVE,
            created_by=actor.sub,
            created_at=now,
            updated_at=now,
        )
        tx.session.add(package)
        for number, due_on in enumerate(
            rules.due_dates(package.frequency, starts_on, package.instalments), start=1
        ):
            tx.session.add(
                PackageInstalment(
                    package_id=package.id,
                    number=number,
                    due_on=due_on,
                    amount_pence=instalment,
                    state=rules.DUE,
                )
            )
        tx.session.flush()
        tx.ledger.open_package(package.id)
        tx.ledger.hold_term(package, by=actor.sub)
        report_summary.note_package_set_up(tx.session, package)
        package_events.package_set_up(tx.session, package)
        _audit(tx.session, actor, "package.created", package, {"amount_pence": total})
        return tx.done(package_view(tx.session, package, actor))

    return uow.run(hold)


def pay_instalment(
    db: Db, actor: Identity, package_id: str, number: int, values: dict[str, Any]
) -> dict[str, Any]:
    """Finance records one instalment's payment: it is posted from the package's hold."""
    require(actor, *rules.ACTION_ROLES["pay"])
    reference = values["reference"]

    def pay(tx: SqlTransaction) -> dict[str, Any]:
        session = tx.session
        visible_package(session, actor, package_id)
        package = _lock(session, package_id)
        rules.require_active(package.state, "paid")
        scheme = tx.people.scheme_of(package.person_id)
        creator = duties.Participants(raised_by=package.created_by, approved_by=package.created_by)
        duties.check_separation("pay", actor.sub, creator, waiver_of(scheme))
        instalment = session.scalar(
            select(PackageInstalment)
            .where(PackageInstalment.package_id == package.id, PackageInstalment.number == number)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if instalment is None:
            raise NotFound(f"This package has no instalment {number}.")
        rules.require_due(number, instalment.state)
        runs.refuse_if_instalment_in_open_run(number, instalment.state, instalment.payment_run_id)
        paid_on = values.get("paid_on") or clock_today()
        _change(
            session,
            update(PackageInstalment).where(
                PackageInstalment.id == instalment.id,
                PackageInstalment.state == rules.DUE,
                PackageInstalment.payment_run_id.is_(None),
            ),
            state=rules.PAID,
            payment_reference=reference,
            paid_on=paid_on,
            paid_by=actor.sub,
        )
        tx.ledger.pay_instalment(
            package, number, instalment.amount_pence, by=actor.sub, reference=reference
        )
        report_summary.note_instalment_paid(session, package, paid_on, instalment.amount_pence)
        package_events.instalments_paid(session, package, 1, utcnow())
        if not _due(session, package.id):
            _set_state(session, package, rules.COMPLETED)
        _audit(session, actor, "package.instalment_paid", package, {"number": number})
        return tx.done(package_view(session, package, actor))

    return as_sql_uow(db).run(pay)


def instalment_number(text: str) -> int:
    """An instalment named in a path: its number (1 upwards), or not found."""
    if not text.isdigit() or not 1 <= int(text) <= max(rules.MAX_INSTALMENTS.values()):
        raise NotFound(f"No instalment {text}.")
    return int(text)


def end_package(db: Db, actor: Identity, package_id: str, reason: str | None) -> dict[str, Any]:
    """End a package early, with a reason: instalments not yet paid are cancelled and released."""
    require(actor, *rules.ACTION_ROLES["end"])
    why = require_reason("cancel", reason) or ""

    def end(tx: SqlTransaction) -> dict[str, Any]:
        session = tx.session
        visible_package(session, actor, package_id)
        package = _lock(session, package_id)
        rules.require_active(package.state, "ended")
        rest = end_live(tx, actor, package, why, f"ended early: {why}")
        _audit(session, actor, "package.ended", package, {"released_pence": rest})
        return tx.done(package_view(session, package, actor))

    return as_sql_uow(db).run(end)


def end_live(tx: SqlTransaction, actor: Identity, package: Package, why: str, memo: str) -> int:
    """End a locked, active package: cancel what is still due and release it (pence released)."""
    session = tx.session
    due = _due(session, package.id)
    for i in due:  # an instalment waiting in an unpaid run goes only through that run
        runs.refuse_if_instalment_in_open_run(i.number, i.state, i.payment_run_id)
    cancelled = session.execute(
        update(PackageInstalment)
        .where(
            PackageInstalment.package_id == package.id,
            PackageInstalment.state == rules.DUE,
            PackageInstalment.payment_run_id.is_(None),
        )
        .values(state=rules.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    if cancelled.rowcount != len(due):  # type: ignore[attr-defined]
        raise Conflict("This package changed meanwhile; reload it and try again.")
    _set_state(session, package, rules.ENDED, reason=why, ended_by=actor.sub, ended_at=utcnow())
    rest = sum(i.amount_pence for i in due)
    if rest:
        tx.ledger.release_rest(package, rest, by=actor.sub, memo=memo)
        report_summary.note_released(session, package.person_id, rest)
    return rest


def get_package(db: Database, actor: Identity, package_id: str) -> dict[str, Any]:
    with db.session() as session:
        return package_view(session, visible_package(session, actor, package_id), actor)


def list_packages(
    db: Database, actor: Identity, filters: dict[str, Any], page: int, per_page: int
) -> Page[dict[str, Any]]:
    with db.session() as session:
        stmt = scope_packages(
            session, select(Package).order_by(Package.created_at.desc(), Package.id), actor
        )
        for name in ("state", "person_id", "provider_id"):
            if filters.get(name):
                stmt = stmt.where(getattr(Package, name) == filters[name])
        result = page_of(session, stmt, page, per_page)
        result.items = [package_view(session, p, actor) for p in result.items]
        return result


def visible_package(session: Session, actor: Identity, package_id: str) -> Package:
    """The package if the caller may see its young person (finance: any, to pay it)."""
    require(actor, "advisor", "budget_holder", "finance", "admin")
    package = session.get(Package, package_id)
    if package is None:
        raise NotFound("No package with that id.")
    if actor.role != "finance":
        try:
            person_for(session, actor, package.person_id)
        except NotFound:
            raise NotFound("No package with that id.") from None
    return package


def scope_packages(session: Session, stmt: Select[Any], actor: Identity) -> Select[Any]:
    require(actor, "advisor", "budget_holder", "finance", "admin")
    if actor.role in ("finance", "admin") or actor.is_service:
        return stmt
    return stmt.where(Package.person_id.in_(scope_people(session, select(Person.id), actor)))


def package_view(session: Session, package: Package, viewer: Identity) -> dict[str, Any]:
    instalments = list(
        session.scalars(
            select(PackageInstalment)
            .where(PackageInstalment.package_id == package.id)
            .order_by(PackageInstalment.number)
            .execution_options(populate_existing=True)  # as changed by this transaction
        )
    )
    scheme_id = session.scalar(select(Person.scheme_id).where(Person.id == package.person_id))
    held, paid = (
        ledger.balance(session, ledger.account_id(kind, package.id))
        for kind in (ledger.HOLD, ledger.PAID)
    )
    actions = rules.allowed_actions(package.state, viewer.role)
    if "end" in actions and any(i.payment_run_id and i.state == rules.DUE for i in instalments):
        actions.remove("end")  # finance must cancel the run first
    if "pay" in actions and duties.separation_refusal(
        "pay",
        viewer.sub,
        duties.Participants(raised_by=package.created_by, approved_by=package.created_by),
        waiver_of(session.get(Scheme, scheme_id)),  # type: ignore[arg-type]
    ):
        actions.remove("pay")
    return {
        "id": package.id,
        "scheme_id": scheme_id,
        "person_id": package.person_id,
        "plan_id": package.plan_id,
        "goal_id": package.goal_id,
        "listing_id": package.listing_id,
        "cost_option_id": package.cost_option_id,
        "provider_id": package.provider_id,
        "payee": package.payee,
        "item": package.item,
        "category": package.category,
        "frequency": package.frequency,
        "instalment_pence": package.instalment_pence,
        "instalments": package.instalments,
        "amount_pence": package.amount_pence,
        "held_pence": held,
        "paid_pence": paid,
        "starts_on": package.starts_on,
        "state": package.state,
        "reason": package.reason,
        "created_by": package.created_by,
        "created_at": package.created_at,
        "ended_by": package.ended_by,
        "ended_at": package.ended_at,
        "schedule": [
            {
                "number": i.number,
                "due_on": i.due_on,
                "amount_pence": i.amount_pence,
                "state": i.state,
                "payment_reference": i.payment_reference,
                "paid_on": i.paid_on,
                "paid_by": i.paid_by,
                "payment_run_id": i.payment_run_id if i.state == rules.DUE else None,
            }
            for i in instalments
        ],
        "actions": actions,
    }


def _goal_plan(session: Session, person_id: str, goal_id: str) -> str:
    """The plan of an active goal of this young person's plan (every spend serves a goal)."""
    goal = session.get(Goal, goal_id)
    plan = session.get(Plan, goal.plan_id) if goal else None
    if goal is None or plan is None or plan.person_id != person_id:
        raise NotFound("No goal with that id in this young person's plan.")
    if not goal.active:
        raise ValidationFailed(
            "Every purchase must serve a goal in the young person's plan.",
            errors={"goal_id": ["Not an active goal of this young person's plan."]},
        )
    return plan.id


def refuse_closed_budget(person: Person, scheme: Scheme, on: date) -> None:
    """No new package for someone who has left, or who has reached their scheme's age limit."""
    if person.status == "transferred_out":
        raise Conflict(
            "This young person has transferred out; no new package can be set up.",
            rule="person-transferred-out",
        )
    age_rules.refuse_past_age_limit(scheme.max_age, person.birth_date, on)


def _require_unmoved(session: Session, person: Person) -> None:
    """Under the budget's lock: still on the scheme, and still here, that the checks were made for
    (a transfer takes the same lock, so a package and a transfer cannot cross)."""
    now = session.execute(
        select(Person.scheme_id, Person.status).where(Person.id == person.id)
    ).one()
    if (now.scheme_id, now.status) != (person.scheme_id, person.status):
        raise Conflict("The young person moved meanwhile; read them again.", rule="moved-meanwhile")


def live_packages(session: Session, person_id: str) -> list[Package]:
    """The person's active packages, locked, oldest first."""
    return list(
        session.scalars(
            select(Package)
            .where(Package.person_id == person_id, Package.state == rules.ACTIVE)
            .order_by(Package.created_at, Package.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _lock(session: Session, package_id: str) -> Package:
    """The package as committed now, locked until this transaction ends."""
    found = session.scalar(
        select(Package)
        .where(Package.id == package_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound("No package with that id.")
    return found


def _due(session: Session, package_id: str) -> list[PackageInstalment]:
    return list(
        session.scalars(
            select(PackageInstalment)
            .where(
                PackageInstalment.package_id == package_id,
                PackageInstalment.state == rules.DUE,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _change(session: Session, stmt: Any, **values: Any) -> None:
    changed = session.execute(stmt.values(**values).execution_options(synchronize_session=False))
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This package changed meanwhile; reload it and try again.")


def _set_state(session: Session, package: Package, target: str, **values: Any) -> None:
    """`UPDATE packages ... WHERE state = 'active'`: from the state this transaction read."""
    _change(
        session,
        update(Package).where(Package.id == package.id, Package.state == rules.ACTIVE),
        state=target,
        updated_at=utcnow(),
        **values,
    )
    session.refresh(package)


def _audit(
    session: Session, actor: Identity, action: str, package: Package, details: dict[str, Any]
) -> None:
    session.add(
        AuditRecord(by_sub=actor.sub, action=action, subject_id=package.id, details=details)
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
