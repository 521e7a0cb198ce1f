"""The budget's records as the use cases see them, over one SQLAlchemy session (one transaction).

A state change is made on a row the transaction has locked (`SELECT ... FOR UPDATE` on
PostgreSQL; on SQLite every write transaction holds the database's write lock from its first
statement), and the `UPDATE` is still conditional on the state that was read: whatever moves money
decides on the state it actually changed.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from services.budget.adapters import approval, report_summary
from services.budget.adapters.orm import (
    AuditRecord,
    Document,
    EligibilityRecord,
    Goal,
    Person,
    Plan,
    PlanReview,
    Pot,
    PurchaseRequest,
    RequestTransition,
    SchemeAssignment,
)
from services.budget.adapters.orm import Scheme as SchemeRow
from shared.clock import utcnow
from shared.errors import NotFound
from shared.identity import Identity

TRANSITIONS = cast(Table, RequestTransition.__table__)
REQUESTS = cast(Table, PurchaseRequest.__table__)
# The state change as Core, built once: SET takes the columns the call binds (the keys of its
# values), WHERE the id and the state it starts from. The ORM's UPDATE ... RETURNING an entity
# cost three times as much (its bulk layer, identity map and instance loading).
_CHANGE_STATE = (
    update(REQUESTS)
    .where(REQUESTS.c.id == bindparam("where_id"), REQUESTS.c.state == bindparam("where_state"))
    .returning(*REQUESTS.c)
)
# Built once, bound per call.
_RECORD = insert(TRANSITIONS)


class SqlRequests:
    def __init__(self, session: Session):
        self.session = session

    def add(self, request: PurchaseRequest) -> None:
        self.session.add(request)
        self.session.flush()

    def lock(self, request_id: str) -> PurchaseRequest:
        """The request as committed now, locked until this transaction ends."""
        found = self.session.scalar(
            select(PurchaseRequest)
            .where(PurchaseRequest.id == request_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if found is None:
            raise NotFound("No purchase request with that id.")
        return found

    def change_state(
        self, request_id: str, expected: str, target: str, values: dict[str, Any]
    ) -> PurchaseRequest | None:
        """`UPDATE ... WHERE state = :expected RETURNING *`: the changed request, or None if it had moved on.

        On PostgreSQL the update takes the row's lock and, if another transaction changed the row
        first, checks `state` again on the version that transaction committed: the change happens
        only from the state this transaction saw change, and no read is needed before or after.
        """
        row = self.session.execute(
            _CHANGE_STATE,
            {
                **values,
                "state": target,
                "updated_at": utcnow(),
                "where_id": request_id,
                "where_state": expected,
            },
        ).one_or_none()
        if row is None:
            return None
        # A copy of the changed row for the answer and the ledger (not part of the session); the
        # session's own copy, if it holds one, is read again when next used.
        held = self.session.identity_map.get(self.session.identity_key(PurchaseRequest, request_id))
        if held is not None:
            self.session.expire(held)
        changed = PurchaseRequest(**row._mapping)
        # the report's summary changes with it (report_summary)
        report_summary.note_change(self.session, expected, changed, values)
        return changed

    def record(
        self,
        request_id: str,
        from_state: str | None,
        to_state: str,
        actor: Identity,
        reason: str | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.session.execute(
            _RECORD,
            {
                "request_id": request_id,
                "from_state": from_state,
                "to_state": to_state,
                "at": utcnow(),
                "by_sub": actor.sub,
                "by_role": actor.role,
                "reason": reason,
                "details": details,
            },
        )

    def evidence_of(
        self, request_ids: Any, kinds: tuple[str, ...], roles: tuple[str, ...]
    ) -> list[Document]:
        """Each request's earliest document of one of `kinds` uploaded by one of `roles`
        (`request_ids`: a list or a subquery of ids)."""
        earliest = (
            select(Document)
            .where(
                Document.request_id.in_(request_ids),
                Document.kind.in_(kinds),
                Document.uploaded_role.in_(roles),
            )
            .order_by(Document.request_id, Document.uploaded_at, Document.id)
        )
        found: dict[str, Document] = {}
        for document in self.session.scalars(earliest):
            found.setdefault(document.request_id, document)
        return list(found.values())

    def approve(self, write: approval.ApprovalWrite) -> approval.ApprovedRequest | None:
        """The approval's state change (`approval.change`: its record, the report summary's delta and
        whether an approval came before, in the same statement on PostgreSQL), or None if the
        request had moved on."""
        changed = approval.change(
            self.session,
            write.request_id,
            write.expected,
            write.target,
            at=write.at,
            by_sub=write.actor.sub,
            by_role=write.actor.role,
            amount_pence=write.amount_pence,
            note=write.note,
        )
        if changed is not None:
            self.forget(write.request_id)
        return changed

    def forget(self, request_id: str) -> None:
        """After a change made by a Core statement: the session's own copy of the request, if it
        holds one, is read again when next used."""
        held = self.session.identity_map.get(self.session.identity_key(PurchaseRequest, request_id))
        if held is not None:
            self.session.expire(held)


class SqlPeople:
    def __init__(self, session: Session):
        self.session = session

    def get(self, person_id: str) -> Person | None:
        return self.session.get(Person, person_id)

    def add(self, person: Person) -> None:
        self.session.add(person)
        self.session.flush()

    def add_eligibility(self, record: EligibilityRecord) -> None:
        self.session.add(record)
        self.session.flush()

    def current_eligibility(self, person_id: str) -> EligibilityRecord | None:
        return self.session.scalar(
            select(EligibilityRecord)
            .where(EligibilityRecord.person_id == person_id, EligibilityRecord.ended_on.is_(None))
            .order_by(EligibilityRecord.recorded_at.desc(), EligibilityRecord.id)
            .limit(1)
        )

    def scheme_of(self, person_id: str) -> SchemeRow:
        person = self.session.get(Person, person_id)
        scheme = self.session.get(SchemeRow, person.scheme_id) if person else None
        if scheme is None:
            raise NotFound("No scheme for this young person.")
        return scheme


class SqlPlans:
    def __init__(self, session: Session):
        self.session = session

    def goal(self, goal_id: str) -> Goal | None:
        return self.session.get(Goal, goal_id)

    def plan(self, plan_id: str) -> Plan | None:
        return self.session.get(Plan, plan_id)

    def of_person(self, person_id: str) -> list[Plan]:
        return list(
            self.session.scalars(select(Plan).where(Plan.person_id == person_id).order_by(Plan.id))
        )

    def lock(self, plan_id: str) -> Plan | None:
        """The plan as committed now, locked until this transaction ends."""
        return self.session.scalar(
            select(Plan)
            .where(Plan.id == plan_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def goals_of(self, plan_id: str) -> list[Goal]:
        """Every goal of the plan, retired ones too, in the plan's order."""
        return list(
            self.session.scalars(
                select(Goal).where(Goal.plan_id == plan_id).order_by(Goal.position, Goal.id)
            )
        )

    def add(self, plan: Plan, goals: list[Goal]) -> None:
        self.session.add(plan)
        self.session.flush()  # the plan's row first: its goals refer to it
        self.session.add_all(goals)
        self.session.flush()

    def add_goal(self, goal: Goal) -> None:
        self.session.add(goal)
        self.session.flush()

    def add_review(self, review: PlanReview) -> None:
        self.session.add(review)


class SqlSchemes:
    def __init__(self, session: Session):
        self.session = session

    def get(self, scheme_id: str) -> SchemeRow | None:
        return self.session.get(SchemeRow, scheme_id)

    def lock(self, scheme_id: str) -> SchemeRow | None:
        """The scheme as committed now, locked until this transaction ends."""
        return self.session.scalar(
            select(SchemeRow)
            .where(SchemeRow.id == scheme_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def add(self, scheme: SchemeRow) -> None:
        self.session.add(scheme)
        self.session.flush()

    def listed(self, only: frozenset[str] | None) -> list[SchemeRow]:
        """Every scheme, or those in `only`, oldest first."""
        stmt = select(SchemeRow).order_by(SchemeRow.created_at, SchemeRow.id)
        if only is not None:
            stmt = stmt.where(SchemeRow.id.in_(only))
        return list(self.session.scalars(stmt))

    def assigned_to(self, sub: str) -> list[str]:
        stmt = select(SchemeAssignment.scheme_id).where(SchemeAssignment.sub == sub)
        return list(self.session.scalars(stmt))

    def assignment(self, assignment_id: str) -> SchemeAssignment | None:
        return self.session.get(SchemeAssignment, assignment_id)

    def assignment_of(self, scheme_id: str, sub: str) -> SchemeAssignment | None:
        return self.session.scalar(
            select(SchemeAssignment).where(
                SchemeAssignment.scheme_id == scheme_id, SchemeAssignment.sub == sub
            )
        )

    def assignments(self, *, scheme_id: str | None, sub: str | None) -> list[SchemeAssignment]:
        stmt = select(SchemeAssignment).order_by(SchemeAssignment.created_at, SchemeAssignment.id)
        if scheme_id:
            stmt = stmt.where(SchemeAssignment.scheme_id == scheme_id)
        if sub:
            stmt = stmt.where(SchemeAssignment.sub == sub)
        return list(self.session.scalars(stmt))

    def assign(self, assignment: SchemeAssignment) -> None:
        self.session.add(assignment)
        self.session.flush()

    def unassign(self, assignment: SchemeAssignment) -> None:
        self.session.delete(assignment)


class SqlPots:
    def __init__(self, session: Session):
        self.session = session

    def get(self, pot_id: str) -> Pot | None:
        return self.session.get(Pot, pot_id)

    def add(self, pot: Pot) -> None:
        self.session.add(pot)
        self.session.flush()

    def listed(self, only: frozenset[str] | None) -> list[Pot]:
        """Every pot, or the pots of the schemes in `only`, by start date."""
        stmt = select(Pot).order_by(Pot.starts_on, Pot.id)
        if only is not None:
            stmt = stmt.where(Pot.scheme_id.in_(only))
        return list(self.session.scalars(stmt))


class SqlAudit:
    def __init__(self, session: Session):
        self.session = session

    def add(self, record: AuditRecord) -> None:
        self.session.add(record)
