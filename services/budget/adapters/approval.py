"""The approval's own statements, built once and bound per call.

- `read`: what an approval decides on (the request's state, amount and who raised it, whom it may
  be shown to, its scheme's terms), one statement of the columns it uses, not three whole rows;
- the state change, conditional on the state it starts from, returning the columns the answer
  and the steps after it use and whether the young person had an approval before, with the
  transition record and the report summary's delta made from the row the update returned: on
  PostgreSQL `changed_statement`'s data-modifying CTEs (so none if it changed nothing), which
  `service_layer.approval_write` makes one statement with the hold and the event; SQLite has no
  data-modifying CTEs: `change`, four statements there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    bindparam,
    exists,
    insert,
    null,
    select,
    update,
)
from sqlalchemy.orm import Session

from services.budget.adapters import report_summary
from services.budget.adapters.orm import (
    Person,
    PurchaseRequest,
    RequestTransition,
    Scheme,
    SchemeAssignment,
)
from services.budget.domain.rules import HOLDING_STATES
from shared import sqlite_prepared
from shared.identity import Identity

REQUESTS = cast(Table, PurchaseRequest.__table__)
PEOPLE = cast(Table, Person.__table__)
SCHEMES = cast(Table, Scheme.__table__)
ASSIGNMENTS = cast(Table, SchemeAssignment.__table__)
TRANSITIONS = cast(Table, RequestTransition.__table__)


class ApprovalRead(NamedTuple):
    """What an approval decides on, of the request and its young person."""

    id: str
    person_id: str
    state: str
    amount_pence: int
    created_by: str
    approved_by: str | None
    listing_id: str | None
    cost_option_id: str | None
    advisor_sub: str
    scheme_id: str


class SchemeTerms(NamedTuple):
    """What an approval and its answer use of the young person's scheme."""

    id: str
    budget_type: str
    combined_duties_allowed: bool
    combined_duties_team: list[str]
    excluded_categories: list[str]


class ApprovedRequest(NamedTuple):
    """The request as the approval left it (every column its answer shows), and whether another
    request of the same young person was approved before."""

    id: str
    person_id: str
    plan_id: str
    goal_id: str
    listing_id: str | None
    cost_option_id: str | None
    provider_id: str | None
    payee: str
    item: str
    category: str | None
    provider_verified: bool
    amount_pence: int
    state: str
    reason: str | None
    approved_by: str | None
    paid_by: str | None
    payment_reference: str | None
    paid_on: date | None
    paid_pence: int
    recovered_pence: int
    evidence_reference: str | None
    evidence_note: str | None
    activity_started_on: date | None
    payment_run_id: str | None
    created_by: str
    created_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None
    updated_at: datetime
    approved_before: bool


class ApprovalWrite(NamedTuple):
    """An approval's write as a use case asks for it (`Transaction.approve_and_hold`): the request
    moved from the state `expected` to `target` by `actor` with `values` (`approved_at` and
    `approved_by`, and a reduction's `amount_pence` and `reason`), `note` its record's reason.
    (A NamedTuple as the other values here: a frozen dataclass took 4.4 us to build against 1.3,
    timed on a loaded machine, on the approval's path.)"""

    request_id: str
    expected: str
    target: str
    values: dict[str, Any]
    actor: Identity
    note: str | None

    @property
    def at(self) -> datetime:
        return self.values["approved_at"]

    @property
    def amount_pence(self) -> int | None:
        return self.values.get("amount_pence")

    def change_params(self) -> dict[str, Any]:
        """The state change's bound values (`change_params`)."""
        return change_params(
            self.request_id,
            self.expected,
            self.target,
            at=self.at,
            by_sub=self.actor.sub,
            by_role=self.actor.role,
            amount_pence=self.amount_pence,
            note=self.note,
        )


_READ_COLUMNS = (
    *(REQUESTS.c[name] for name in ApprovalRead._fields[:-2]),
    PEOPLE.c.advisor_sub,
    PEOPLE.c.scheme_id,
    *(SCHEMES.c[name] for name in SchemeTerms._fields),
)
_READ = (
    select(*_READ_COLUMNS)
    .join_from(REQUESTS, PEOPLE, PEOPLE.c.id == REQUESTS.c.person_id)
    .join(SCHEMES, SCHEMES.c.id == PEOPLE.c.scheme_id)
    .where(REQUESTS.c.id == bindparam("request_id"))
)
# For a budget holder, whether they are assigned to that scheme too.
_READ_ASSIGNED = _READ.add_columns(
    exists()
    .where(ASSIGNMENTS.c.sub == bindparam("sub"), ASSIGNMENTS.c.scheme_id == PEOPLE.c.scheme_id)
    .label("assigned")
)
_SCHEME_AT = len(ApprovalRead._fields)
_ASSIGNED_AT = _SCHEME_AT + len(SchemeTerms._fields)


READ = {False: _READ, True: _READ_ASSIGNED}  # by whether a budget holder's assignment is read


def read_params(request_id: str, holder_sub: str | None) -> dict[str, Any]:
    """`READ[holder_sub is not None]`'s bound values."""
    if holder_sub is None:
        return {"request_id": request_id}
    return {"request_id": request_id, "sub": holder_sub}


def read_row(
    row: Any, holder_sub: str | None
) -> tuple[ApprovalRead, SchemeTerms, bool | None] | None:
    """What `READ` selected (a row of NULLs, or none, if there is no such request)."""
    if row is None or row[0] is None:
        return None
    assigned = bool(row[_ASSIGNED_AT]) if holder_sub is not None else None
    return (
        ApprovalRead(*row[:_SCHEME_AT]),
        SchemeTerms(*row[_SCHEME_AT:_ASSIGNED_AT]),
        assigned,
    )


def read(
    session: Session, request_id: str, holder_sub: str | None
) -> tuple[ApprovalRead, SchemeTerms, bool | None] | None:
    """The request, its young person and their scheme as an approval sees them, or None if there is
    no such request; with `holder_sub`, whether that budget holder is assigned to the scheme."""
    statement = READ[holder_sub is not None]
    params = read_params(request_id, holder_sub)
    # (on SQLite, run on the driver: `shared.sqlite_prepared`)
    return read_row(sqlite_prepared.first(session, statement, params), holder_sub)


_RETURNED = tuple(REQUESTS.c[name] for name in ApprovedRequest._fields[:-1])
_OTHER = REQUESTS.alias("other")
_RECORDED_COLUMNS = [
    "request_id",
    "from_state",
    "to_state",
    "at",
    "by_sub",
    "by_role",
    "reason",
    "details",
]


def approved_before(request_id: Any, person_id: Any) -> Any:
    """Whether another request of the young person was approved before (as `approved_before`)."""
    return (
        exists()
        .where(
            _OTHER.c.person_id == person_id,
            _OTHER.c.approved_at.is_not(None),
            _OTHER.c.id != request_id,
        )
        .label("approved_before")
    )


# The approval's read made by the key's claim on PostgreSQL (`approval_write.ahead`): `READ`'s
# columns, then every column of the request its answer shows (`ApprovedRequest`'s but the last),
# so that the answer can be made before the state change and stored by the same statement
# (`predicted`, `settled`).
READ_AHEAD = {
    holder: statement.add_columns(*(column.label(f"now_{column.name}") for column in _RETURNED))
    for holder, statement in READ.items()
}


def predicted(
    row: tuple[Any, ...],
    holder_sub: str | None,
    target: str,
    *,
    at: datetime,
    by_sub: str,
    amount_pence: int | None = None,
    note: str | None = None,
) -> ApprovedRequest | None:
    """The request as the approval would leave it, from `READ_AHEAD`'s row: what was read, changed
    as `changed_statement` changes it with `change_params`' values (the state `target`, approved at
    and `updated_at` `at` by `by_sub`; with `amount_pence`, that amount and `note` as the reason).
    None if the row found no request. Its `approved_before` is not known yet (False): the state
    change tells it. Only a guess: the change may meet a row changed since; `settled` tells."""
    start = _ASSIGNED_AT + (holder_sub is not None)
    now = row[start:]
    if len(now) != len(_RETURNED) or now[0] is None:
        return None
    guess = ApprovedRequest._make((*now, False))
    zone = guess.created_at.tzinfo
    if zone is None or at.tzinfo is None:
        return None
    at = at.astimezone(zone)  # (a time comes back in the session's zone, as `created_at` came)
    changes: dict[str, Any] = {
        "state": target,
        "approved_at": at,
        "approved_by": by_sub,
        "updated_at": at,
    }
    if amount_pence is not None:
        changes.update(amount_pence=amount_pence, reason=note)
    return guess._replace(**changes)


def settled(changed: ApprovedRequest, guess: ApprovedRequest) -> ApprovedRequest | None:
    """`guess` (`predicted`) with the state change's `approved_before`, if the request the change
    returned is the one guessed in every column: each of the same type and value, a time at the
    same offset (`==` alone takes 1 for True, and one instant at two offsets, for equal), so that
    anything made from either is the same; None if not."""
    for a, b in zip(changed[:-1], guess[:-1], strict=True):
        if type(a) is not type(b) or a != b:
            return None
        if isinstance(a, datetime) and a.utcoffset() != cast(datetime, b).utcoffset():
            return None
    return guess._replace(approved_before=changed.approved_before)


def _update(reduced: bool) -> Any:
    """`UPDATE ... WHERE id = :request_id AND state = :expected`; a reduction sets the amount and
    its reason too. (Bound names differ from the columns': SET reserves those.)"""
    values: dict[str, Any] = {
        "state": bindparam("target", type_=String),
        "approved_at": bindparam("moved_at", type_=DateTime(timezone=True)),
        "approved_by": bindparam("moved_by", type_=String),
        "updated_at": bindparam("moved_at", type_=DateTime(timezone=True)),
    }
    if reduced:
        values.update(
            amount_pence=bindparam("new_amount", type_=Integer),
            reason=bindparam("note", type_=String),
        )
    return (
        update(REQUESTS)
        .where(
            REQUESTS.c.id == bindparam("request_id"),
            REQUESTS.c.state == bindparam("expected", type_=String),
        )
        .values(values)
    )


def changed_statement(reduced: bool) -> Any:
    """PostgreSQL: the conditional update returning the changed row's columns (`ApprovedRequest`'s
    but the last), as a CTE named `changed`, and the statements written from the row it returned
    (none if it changed nothing), as CTEs to add to the same statement: the transition record and
    the report summary's delta (`report_summary.note_change` for an approval: the amount now held,
    the approval's time as the young person's first and latest, their scheme, pot and referral day
    read under a share lock as it reads them). `service_layer.approval_write` adds the hold and the
    event."""
    changed = _update(reduced).returning(*_RETURNED).cte("changed")
    no_day = null().cast(Date)
    summarised = report_summary.people_upsert(
        select(
            PEOPLE.c.id,
            changed.c.approved_at,
            no_day,
            no_day,
            changed.c.amount_pence,
            changed.c.approved_at,
            no_day,
            PEOPLE.c.scheme_id,
            PEOPLE.c.pot_id,
            PEOPLE.c.referred_on,
        )
        .join_from(changed, PEOPLE, PEOPLE.c.id == changed.c.person_id)
        .with_for_update(read=True, of=PEOPLE)
    )
    recorded = insert(TRANSITIONS).from_select(
        _RECORDED_COLUMNS,
        select(
            changed.c.id,
            bindparam("expected", type_=String),
            bindparam("target", type_=String),
            bindparam("moved_at", type_=DateTime(timezone=True)),
            bindparam("moved_by", type_=String),
            bindparam("moved_role", type_=String),
            bindparam("note", type_=String),
            bindparam("details", type_=JSON),
        ),
    )
    summarised = summarised.returning(report_summary.PEOPLE.c.person_id)
    return changed, (recorded.cte("recorded"), summarised.cte("summarised"))


def change_params(
    request_id: str,
    expected: str,
    target: str,
    *,
    at: datetime,
    by_sub: str,
    by_role: str,
    amount_pence: int | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The state change's bound values (its statements' and `changed_statement`'s)."""
    if expected in HOLDING_STATES or target not in HOLDING_STATES:
        raise ValueError("the approval's statement holds money from a state that held none")
    params: dict[str, Any] = {
        "request_id": request_id,
        "expected": expected,
        "target": target,
        "moved_at": at,
        "moved_by": by_sub,
        "moved_role": by_role,
        "note": note,
        "details": None,
    }
    if amount_pence is not None:
        params["new_amount"] = amount_pence
    return params


# (SQLite: no data-modifying CTEs; a subquery in RETURNING loses its qualified names.)
_CHANGE = {reduced: _update(reduced).returning(*_RETURNED) for reduced in (False, True)}
_RECORD = insert(TRANSITIONS)
_APPROVED_BEFORE = select(
    approved_before(bindparam("request_id", type_=String), bindparam("person_id", type_=String))
)


def change(
    session: Session,
    request_id: str,
    expected: str,
    target: str,
    *,
    at: datetime,
    by_sub: str,
    by_role: str,
    amount_pence: int | None = None,
    note: str | None = None,
) -> ApprovedRequest | None:
    """Approve, step by step (SQLite's way; PostgreSQL's is one statement with the hold and the
    event, `service_layer.approval_write`): the state change from `expected` to `target` (into a
    state holding money) with who and when (and, with `amount_pence`, the reduced amount and `note`
    as its reason), its transition record and its report summary's delta; the request as changed,
    or None if it was not in `expected` (then nothing was written). Four statements."""
    params = change_params(
        request_id,
        expected,
        target,
        at=at,
        by_sub=by_sub,
        by_role=by_role,
        amount_pence=amount_pence,
        note=note,
    )
    reduced = amount_pence is not None
    row = session.execute(_CHANGE[reduced], params).first()
    if row is None:
        return None
    session.execute(
        _RECORD,
        {
            "request_id": request_id,
            "from_state": expected,
            "to_state": target,
            "at": at,
            "by_sub": by_sub,
            "by_role": by_role,
            "reason": note,
            "details": None,
        },
    )
    before = session.scalar(_APPROVED_BEFORE, {"request_id": request_id, "person_id": row[1]})
    changed = ApprovedRequest._make((*row, bool(before)))
    values = {"approved_at": at, "approved_by": by_sub}
    if reduced:
        values.update(amount_pence=amount_pence, reason=note)
    report_summary.note_change(session, expected, changed, values)
    return changed
