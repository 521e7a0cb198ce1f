"""In-memory stand-ins for the budget's unit of work and the directory, for service-layer unit tests.

They keep the same promises as the SQL ones where the use cases rely on them: a state change is
conditional on the expected state, the ledger refuses to take more than an account holds, and a
write that raises commits nothing (the fake snapshots its records and puts them back).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.budget.adapters.approval import (
    ApprovalRead,
    ApprovalWrite,
    ApprovedRequest,
    SchemeTerms,
)
from services.budget.adapters.directory import Fundability
from services.budget.adapters.orm import (
    AuditRecord,
    EligibilityRecord,
    Goal,
    Package,
    PaymentRun,
    Person,
    Plan,
    PlanReview,
    Pot,
    PurchaseRequest,
    Scheme,
    SchemeAssignment,
)
from services.budget.domain.duties import CombinedDuties
from services.budget.service_layer import approval_write
from services.budget.service_layer.access import CASEWORK, require, require_people_reader
from services.budget.service_layer.ledger import InsufficientFunds, MoneyRequest
from services.budget.service_layer.payment_run_checks import RunRequest
from services.budget.service_layer.payment_run_instalments import Paying
from services.budget.service_layer.unit_of_work import AnswerView
from shared.clock import utcnow
from shared.errors import NotFound
from shared.identity import Identity
from tests.unit.fakes import FakeOutbox, by_id, inserted
from tests.unit.fakes import FakeUnitOfWork as BaseFakeUnitOfWork


class FakeRequests:
    def __init__(self) -> None:
        self.rows: dict[str, PurchaseRequest] = {}
        self.history: list[tuple[str, str | None, str, str, str | None]] = []

    def add(self, request: PurchaseRequest) -> None:
        for name, default in (("paid_pence", 0), ("recovered_pence", 0)):
            if getattr(request, name) is None:
                setattr(request, name, default)
        self.rows[request.id] = request

    def lock(self, request_id: str) -> PurchaseRequest:
        if request_id not in self.rows:
            raise NotFound("No purchase request with that id.")
        return self.rows[request_id]

    def change_state(
        self, request_id: str, expected: str, target: str, values: dict[str, Any]
    ) -> PurchaseRequest | None:
        row = self.rows.get(request_id)
        if row is None or row.state != expected:
            return None
        row.state = target
        row.updated_at = utcnow()
        for name, value in values.items():
            setattr(row, name, value)
        return row

    def record(
        self,
        request_id: str,
        from_state: str | None,
        to_state: str,
        actor: Identity,
        reason: str | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.history.append((request_id, from_state, to_state, actor.sub, reason))

    def evidence_of(
        self, request_ids: Any, kinds: tuple[str, ...], roles: tuple[str, ...]
    ) -> list[Any]:
        return []  # documents are stored by the SQL adapter only (tests/integration/budget)

    def approve(self, write: ApprovalWrite) -> ApprovedRequest | None:
        row = self.rows.get(write.request_id)
        before = any(
            r.person_id == (row.person_id if row else None) and r.approved_at is not None
            for r in self.rows.values()
            if r.id != write.request_id
        )
        changed = self.change_state(write.request_id, write.expected, write.target, write.values)
        if changed is None:
            return None
        self.record(write.request_id, write.expected, write.target, write.actor, write.note)
        fields = {name: getattr(changed, name) for name in ApprovedRequest._fields[:-1]}
        return ApprovedRequest(**fields, approved_before=before)


class FakeSchemes:
    """Schemes and their budget holders' assignments."""

    def __init__(self) -> None:
        self.rows: dict[str, Scheme] = {}
        self.holders: dict[str, SchemeAssignment] = {}

    def get(self, scheme_id: str) -> Scheme | None:
        return self.rows.get(scheme_id)

    def lock(self, scheme_id: str) -> Scheme | None:
        return self.rows.get(scheme_id)

    def add(self, scheme: Scheme) -> None:
        if scheme.id in self.rows:
            raise AssertionError(f"scheme {scheme.id} added twice (the database refuses it)")
        self.rows[scheme.id] = inserted(scheme)

    def listed(self, only: frozenset[str] | None) -> list[Scheme]:
        return sorted((s for s in self.rows.values() if only is None or s.id in only), key=by_id)

    def assigned_to(self, sub: str) -> list[str]:
        return [a.scheme_id for a in self.holders.values() if a.sub == sub]

    def assignment(self, assignment_id: str) -> SchemeAssignment | None:
        return self.holders.get(assignment_id)

    def assignment_of(self, scheme_id: str, sub: str) -> SchemeAssignment | None:
        found = [a for a in self.holders.values() if (a.scheme_id, a.sub) == (scheme_id, sub)]
        return found[0] if found else None

    def assignments(self, *, scheme_id: str | None, sub: str | None) -> list[SchemeAssignment]:
        return [
            a
            for a in self.holders.values()
            if (not scheme_id or a.scheme_id == scheme_id) and (not sub or a.sub == sub)
        ]

    def assign(self, assignment: SchemeAssignment) -> None:
        if assignment.scheme_id not in self.rows:
            raise AssertionError("an assignment names no scheme (the database refuses it)")
        self.holders[assignment.id] = inserted(assignment)

    def unassign(self, assignment: SchemeAssignment) -> None:
        del self.holders[assignment.id]


class FakePots:
    def __init__(self) -> None:
        self.rows: dict[str, Pot] = {}

    def get(self, pot_id: str) -> Pot | None:
        return self.rows.get(pot_id)

    def add(self, pot: Pot) -> None:
        if pot.id in self.rows:
            raise AssertionError(f"pot {pot.id} added twice (the database refuses it)")
        self.rows[pot.id] = inserted(pot)

    def listed(self, only: frozenset[str] | None) -> list[Pot]:
        found = [p for p in self.rows.values() if only is None or p.scheme_id in only]
        return sorted(found, key=lambda p: (p.starts_on, p.id))


class FakeAudit:
    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def add(self, record: AuditRecord) -> None:
        self.records.append(inserted(record))

    def actions(self) -> list[tuple[str, str, str]]:
        """(action, subject, by) of each record, in order."""
        return [(r.action, r.subject_id, r.by_sub) for r in self.records]


class FakePeople:
    def __init__(self, schemes: FakeSchemes | None = None) -> None:
        self.rows: dict[str, Person] = {}
        self.scheme_rows = schemes or FakeSchemes()
        self.eligibility: list[EligibilityRecord] = []

    def get(self, person_id: str) -> Person | None:
        return self.rows.get(person_id)

    def add(self, person: Person) -> None:
        if person.id in self.rows:
            raise AssertionError(f"person {person.id} added twice (the database refuses it)")
        self.rows[person.id] = inserted(person)

    def add_eligibility(self, record: EligibilityRecord) -> None:
        if record.person_id not in self.rows:
            raise AssertionError("an eligibility record names no person (the database refuses it)")
        self.eligibility.append(inserted(record))

    def current_eligibility(self, person_id: str) -> EligibilityRecord | None:
        """The latest record not ended, as the SQL one orders them."""
        live = [r for r in self.eligibility if r.person_id == person_id and r.ended_on is None]
        return max(live, key=lambda r: r.recorded_at, default=None)

    def scheme_of(self, person_id: str) -> Scheme:
        person = self.rows.get(person_id)
        scheme = self.scheme_rows.get(person.scheme_id) if person else None
        if scheme is None:
            raise NotFound("No scheme for this young person.")
        return scheme


class FakePlans:
    def __init__(self) -> None:
        self.goals: dict[str, Goal] = {}
        self.plans: dict[str, Plan] = {}
        self.reviews: list[PlanReview] = []

    def goal(self, goal_id: str) -> Goal | None:
        return self.goals.get(goal_id)

    def plan(self, plan_id: str) -> Plan | None:
        return self.plans.get(plan_id)

    def of_person(self, person_id: str) -> list[Plan]:
        return sorted((p for p in self.plans.values() if p.person_id == person_id), key=by_id)

    def lock(self, plan_id: str) -> Plan | None:
        return self.plans.get(plan_id)

    def goals_of(self, plan_id: str) -> list[Goal]:
        found = [g for g in self.goals.values() if g.plan_id == plan_id]
        return sorted(found, key=lambda g: (g.position, g.id))

    def add(self, plan: Plan, goals: list[Goal]) -> None:
        if plan.id in self.plans:
            raise AssertionError(f"plan {plan.id} added twice (the database refuses it)")
        self.plans[plan.id] = inserted(plan)
        for goal in goals:
            self.add_goal(goal)

    def add_goal(self, goal: Goal) -> None:
        if goal.plan_id not in self.plans:
            raise AssertionError(f"goal {goal.id} names no plan (the database refuses it)")
        self.goals[goal.id] = inserted(goal)

    def add_review(self, review: PlanReview) -> None:
        self.reviews.append(inserted(review))


class FakeLedger:
    """Balances per account and the movements made, by name."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.moves: list[tuple[str, str, int]] = []  # (kind, request id, pence)

    def _move(self, kind: str, request_id: str, debit: str, credit: str, amount: int) -> int:
        if self.balances.get(credit, 0) < amount:
            raise InsufficientFunds(credit, self.balances.get(credit, 0), amount, "The account")
        self.balances[credit] -= amount
        self.balances[debit] = self.balances.get(debit, 0) + amount
        self.moves.append((kind, request_id, amount))
        return len(self.moves)

    def fund_pot(self, pot_id: str, amount_pence: int, *, by: str, memo: str) -> int:
        """A grant: the pot's funding account goes negative by as much as the pot gets."""
        funding, pot = f"funding:{pot_id}", f"pot:{pot_id}"
        self.balances[funding] = self.balances.get(funding, 0) - amount_pence
        self.balances[pot] = self.balances.get(pot, 0) + amount_pence
        self.moves.append(("funding", pot_id, amount_pence))
        return len(self.moves)

    def balance(self, account: str) -> int:
        return self.balances.get(account, 0)

    def open_person(self, person_id: str) -> None:
        self.balances.setdefault(f"person:{person_id}", 0)

    def allocate(
        self, person_id: str, pot_id: str, amount_pence: int, *, by: str, what: str
    ) -> int:
        return self._move(
            "allocation", person_id, f"person:{person_id}", f"pot:{pot_id}", amount_pence
        )

    def open_request(self, request_id: str) -> None:
        self.balances.update({f"hold:{request_id}": 0, f"paid:{request_id}": 0})

    def available(self, person_id: str, *, lock: bool = False) -> int:
        return self.balances.get(f"person:{person_id}", 0)

    def hold(self, request: MoneyRequest, *, by: str) -> int:
        return self._move(
            "hold",
            request.id,
            f"hold:{request.id}",
            f"person:{request.person_id}",
            request.amount_pence,
        )

    def release(self, request: MoneyRequest, *, by: str, memo: str) -> int:
        return self._move(
            "release",
            request.id,
            f"person:{request.person_id}",
            f"hold:{request.id}",
            request.amount_pence,
        )

    def pay(
        self,
        request: MoneyRequest,
        amount_pence: int,
        *,
        by: str,
        reference: str,
        reason: str | None = None,
    ) -> int:
        txn = self._move(
            "pay", request.id, f"paid:{request.id}", f"hold:{request.id}", amount_pence
        )
        rest = request.amount_pence - amount_pence
        if rest:
            self._move(
                "reduction", request.id, f"person:{request.person_id}", f"hold:{request.id}", rest
            )
        return txn

    def recover(self, request: MoneyRequest, amount_pence: int, *, by: str, memo: str) -> int:
        return self._move(
            "recovery",
            request.id,
            f"person:{request.person_id}",
            f"paid:{request.id}",
            amount_pence,
        )


@dataclass
class FakeTransaction(FakeOutbox):
    """The ports of one transaction; `publish` (from FakeOutbox) keeps the events in order."""

    requests: FakeRequests = field(default_factory=FakeRequests)
    schemes: FakeSchemes = field(default_factory=FakeSchemes)
    people: FakePeople = field(init=False)
    plans: FakePlans = field(default_factory=FakePlans)
    pots: FakePots = field(default_factory=FakePots)
    ledger: FakeLedger = field(default_factory=FakeLedger)
    audit: FakeAudit = field(default_factory=FakeAudit)
    answers: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.people = FakePeople(self.schemes)  # one store of schemes, as in the database

    def _sees(self, actor: Identity, person: Person) -> bool:
        """access.can_see_person, with the assignments kept in memory."""
        if actor.is_service or actor.role == "admin":
            return True
        if actor.role == "advisor":
            return person.advisor_sub == actor.sub
        if actor.role == "budget_holder":
            return person.scheme_id in self.schemes.assigned_to(actor.sub)
        return False

    def visible_person(self, actor: Identity, person_id: str) -> Person:
        require_people_reader(actor)
        person = self.people.get(person_id)
        if person is None or not self._sees(actor, person):
            raise NotFound("No young person with that id on your caseload.")
        return person

    def person_view(self, person: Person) -> dict[str, Any]:
        """The parts of `person_views.person_view` the fakes can know: the record and its money."""
        return {
            "id": person.id,
            "scheme_id": person.scheme_id,
            "pot_id": person.pot_id,
            "advisor_sub": person.advisor_sub,
            "status": person.status,
            "budget": {
                "allocation_pence": person.allocation_pence,
                "remaining_pence": self.ledger.balance(f"person:{person.id}"),
            },
        }

    def visible_request(self, actor: Identity, request_id: str) -> PurchaseRequest:
        require(actor, *CASEWORK)
        req = self.requests.rows.get(request_id)
        if req is None:
            raise NotFound("No purchase request with that id.")
        if actor.role != "finance" and not self._sees(actor, self.people.rows[req.person_id]):
            raise NotFound("No purchase request with that id.")
        return req

    def visible_for_approval(
        self, actor: Identity, request_id: str
    ) -> tuple[ApprovalRead, SchemeTerms]:
        req = self.visible_request(actor, request_id)
        person = self.people.rows[req.person_id]
        scheme = self.people.scheme_of(req.person_id)
        read = {name: getattr(req, name) for name in ApprovalRead._fields[:-2]}
        terms = {name: getattr(scheme, name) for name in SchemeTerms._fields}
        return (
            ApprovalRead(**read, advisor_sub=person.advisor_sub, scheme_id=person.scheme_id),
            SchemeTerms(**terms),
        )

    def approve_and_hold(
        self, write: ApprovalWrite, view_of: AnswerView | None = None
    ) -> ApprovedRequest | None:
        return approval_write.step_by_step(self, write)

    def done(self, view: dict[str, Any]) -> dict[str, Any]:
        self.answers.append(view)
        return view


class FakeUnitOfWork(BaseFakeUnitOfWork[FakeTransaction]):
    """One in-memory budget world; `commits` counts the write transactions that committed."""

    def __init__(self) -> None:
        super().__init__(FakeTransaction())

    def write_for_approval(
        self, actor: Identity, request_id: str
    ) -> AbstractContextManager[FakeTransaction]:
        return self.write()


@dataclass
class FakeDirectory:
    answers: dict[str, Fundability] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def fundability(self, listing_id: str, cost_option_id: str | None) -> Fundability:
        self.asked.append(listing_id)
        if listing_id not in self.answers:
            raise NotFound("The directory has no such listing.")
        return self.answers[listing_id]


def fundability(
    listing_id: str,
    *,
    price_pence: int | None = 2_000,
    fundable: bool = True,
    verified: bool = True,
    categories: tuple[str, ...] = ("sport-fitness",),
) -> Fundability:
    return Fundability(
        listing_id=listing_id,
        cost_option_id=None,
        fundable=fundable,
        reasons=[] if fundable else [{"code": "provider_lapsed", "message": "Insurance lapsed."}],
        price_pence=price_pence,
        listing_name="Climbing club",
        provider_id="prov-1",
        provider_name="Rock Up CIC",
        provider_verified=verified,
        categories=list(categories),
    )


# --- a small world, built keyword-only --------------------------------------------------------


def add_scheme(
    uow: FakeUnitOfWork,
    *,
    scheme_id: str = "scheme-1",
    auto_approve_pence: int = 0,
    excluded_categories: tuple[str, ...] = (),
) -> Scheme:
    scheme = Scheme(
        id=scheme_id,
        name="Care leavers",
        cap_pence=50_000,
        auto_approve_pence=auto_approve_pence,
        excluded_categories=list(excluded_categories),
        first_review_months=3,
        review_months=12,
    )
    uow.tx.schemes.add(scheme)
    assignment = SchemeAssignment(
        id=f"assignment-{scheme_id}", scheme_id=scheme.id, sub="holder-1", created_by="admin-1"
    )
    uow.tx.schemes.assign(assignment)  # the tests' budget holder
    return scheme


def add_person(
    uow: FakeUnitOfWork,
    *,
    person_id: str = "person-1",
    scheme_id: str = "scheme-1",
    advisor_sub: str = "advisor-1",
    budget_pence: int = 50_000,
    with_plan: bool = True,
) -> tuple[Person, Goal]:
    """A young person with a plan of one goal (unless not `with_plan`) and `budget_pence` left."""
    person = Person(
        id=person_id,
        scheme_id=scheme_id,
        pot_id="pot-1",
        case_reference="LC-1",
        birth_date=date(2006, 5, 1),
        advisor_sub=advisor_sub,
        allocation_pence=budget_pence,
    )
    plan = Plan(
        id=f"plan-{person_id}",
        person_id=person_id,
        needs="",
        ideas="",
        next_review_date=date(2026, 9, 1),
        version=1,
    )
    goal = Goal(
        id=f"goal-{person_id}", plan_id=plan.id, text="Sleep better", position=0, active=True
    )
    uow.tx.people.rows[person.id] = person
    if with_plan:
        uow.tx.plans.plans[plan.id] = plan
        uow.tx.plans.goals[goal.id] = goal
    uow.tx.ledger.balances[f"person:{person_id}"] = budget_pence
    return person, goal


def add_request(
    uow: FakeUnitOfWork,
    *,
    request_id: str = "req-1",
    person_id: str = "person-1",
    state: str = "submitted",
    amount_pence: int = 3_000,
    held: bool = False,
    paid_pence: int = 0,
) -> PurchaseRequest:
    """A request in `state`; `held` moves its amount into its hold, `paid_pence` into paid."""
    req = PurchaseRequest(
        id=request_id,
        person_id=person_id,
        plan_id=f"plan-{person_id}",
        goal_id=f"goal-{person_id}",
        payee="Bikes for All",
        item="a bike",
        category="equipment",
        provider_verified=False,
        amount_pence=amount_pence,
        state=state,
        paid_pence=paid_pence,
        recovered_pence=0,
        created_by="advisor-1",
    )
    uow.tx.requests.add(req)
    ledger = uow.tx.ledger
    ledger.open_request(request_id)
    person = f"person:{person_id}"
    if held:
        ledger.balances[person] -= amount_pence
        ledger.balances[f"hold:{request_id}"] = amount_pence
    if paid_pence:
        ledger.balances[person] -= paid_pence
        ledger.balances[f"paid:{request_id}"] = paid_pence
    return req


# --- a payment run's locked rows (payment_run_checks.RunLocks) ---------------------------------


@dataclass
class FakeInstalment:
    """An instalment row as the run locks it: id, package, number, state, amount."""

    id: int
    package_id: str
    number: int
    state: str
    amount_pence: int


@dataclass
class FakeRunLocks:
    """Runs, their requests and package instalments, and each person's scheme waiver, in memory;
    `locked` lists what was read, in order, as the SQL version locks it."""

    runs: dict[str, PaymentRun] = field(default_factory=dict)
    in_run: dict[str, list[RunRequest]] = field(default_factory=dict)
    packages: dict[str, Package] = field(default_factory=dict)
    instalment_rows: dict[str, list[FakeInstalment]] = field(default_factory=dict)
    scheme_waivers: dict[str, CombinedDuties] = field(default_factory=dict)
    locked: list[str] = field(default_factory=list)

    def run(self, run_id: str) -> PaymentRun | None:
        self.locked.append("run")
        return self.runs.get(run_id)

    def requests(self, run_id: str) -> list[RunRequest]:
        self.locked.append("requests")
        return sorted(self.in_run.get(run_id, []), key=lambda r: r.id)

    def instalments(self, run_id: str) -> Paying:
        self.locked.append("instalments")
        rows = sorted(self.instalment_rows.get(run_id, []), key=lambda i: (i.package_id, i.number))
        return Paying({i.package_id: self.packages[i.package_id] for i in rows}, list(rows))

    def waivers(self, run_id: str) -> dict[str, CombinedDuties]:
        people = {r.person_id for r in self.in_run.get(run_id, [])} | {
            self.packages[i.package_id].person_id for i in self.instalment_rows.get(run_id, [])
        }
        return {p: self.scheme_waivers.get(p, CombinedDuties()) for p in people}

    def add_run(self, run_id: str = "run-1", *, state: str = "open") -> PaymentRun:
        run = PaymentRun(id=run_id, reference=f"PHB261201-{run_id[-2:].upper()}", state=state)
        self.runs[run_id] = run
        return run

    def add_request(
        self,
        request_id: str,
        *,
        run_id: str = "run-1",
        state: str = "approved",
        person_id: str = "person-1",
        approved_by: str = "holder-1",
        amount_pence: int = 1_000,
    ) -> RunRequest:
        row = RunRequest(request_id, state, person_id, amount_pence, "advisor-1", approved_by)
        self.in_run.setdefault(run_id, []).append(row)
        return row

    def add_package(
        self,
        package_id: str,
        *,
        run_id: str = "run-1",
        numbers: tuple[int, ...] = (1,),
        state: str = "active",
        instalment_state: str = "due",
        person_id: str = "person-1",
        created_by: str = "advisor-1",
    ) -> Package:
        package = Package(id=package_id, person_id=person_id, state=state, created_by=created_by)
        self.packages[package_id] = package
        rows = self.instalment_rows.setdefault(run_id, [])
        for number in numbers:
            rows.append(FakeInstalment(len(rows) + 1, package_id, number, instalment_state, 500))
        return package
