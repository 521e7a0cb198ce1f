"""The commissioners' report summary: per young person and per pot and day, kept with the change.

The report's figures are made from purchase requests; at national scale (millions of requests)
reading them for every report is what makes it slow. So the budget service keeps two small
summaries in the same transaction as every change they depend on:

- `report_people`: per young person, the first approval, the first activity and the first payment,
  and the money their approved or ordered requests and their packages' instalments still due hold
  now;
- `report_pot_days`: per pot and day, what was paid that day (net of recoveries) for the young
  people the pot funds now (a transfer to another pot moves their history with them, as the
  report has always counted it).

Every way money is paid counts: a purchase request (alone or in a payment run) and an ongoing
package's instalment (alone or in a run). A package is approved when it is set up (its whole term
held, as `request.approved` announces it), its activity starts on its start day once an
instalment is paid (as `activity.started` says), and each instalment is paid on its day.

Every change is a commutative delta (an earliest date kept by `min`, an amount added), written by
one `INSERT ... ON CONFLICT DO UPDATE`, so transactions racing on one young person or one pot-day
both count and never overwrite each other. `expected_people` and `expected_pot_days` compute the
same figures from the requests; the migration fills the tables from them, the demo seed rebuilds
them, and `phb budget verify` compares them with the tables.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Table,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.budget.adapters.orm import (
    Base,
    Package,
    PackageInstalment,
    PaymentRunInstalment,
    Person,
    PurchaseRequest,
)
from services.budget.domain import packages as package_rules
from services.budget.domain import rules

if TYPE_CHECKING:  # (the approval's statements use this module's: no import at run time)
    from services.budget.adapters.approval import ApprovedRequest

HOLDING = sorted(rules.HOLDING_STATES)

# Index-only scans for the report's per-period counts of young people (reach; paid in the period),
# of the requests approved (paid) only: a request enters each as it is approved (paid), not
# before (`orm.PurchaseRequest`'s partial indexes).
Index(
    "ix_purchase_requests_approved_person",
    PurchaseRequest.approved_at,
    PurchaseRequest.person_id,
    postgresql_where=PurchaseRequest.approved_at.is_not(None),
    sqlite_where=PurchaseRequest.approved_at.is_not(None),
)
Index(
    "ix_purchase_requests_paid_person",
    PurchaseRequest.paid_on,
    PurchaseRequest.person_id,
    postgresql_where=PurchaseRequest.paid_on.is_not(None),
    sqlite_where=PurchaseRequest.paid_on.is_not(None),
)


class ReportPerson(Base):
    """A young person's firsts and the money held for them now (the commissioners' report)."""

    __tablename__ = "report_people"

    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)
    first_approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    first_activity_on: Mapped[date | None] = mapped_column(Date, index=True)
    first_paid_on: Mapped[date | None] = mapped_column(Date)
    # The latest too: whether someone was approved or paid in a period is then known from these
    # two dates, unless the period falls strictly between them (then their requests are asked).
    last_approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_paid_on: Mapped[date | None] = mapped_column(Date)
    held_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    # Who they are for the report, now (migration 0016): their scheme, pot and referral day, taken
    # from `people` when the row is made (under a share lock on the young person) and moved by a
    # transfer in the same transaction, so no section of the report joins `people`.
    scheme_id: Mapped[str] = mapped_column(String(36))
    pot_id: Mapped[str] = mapped_column(String(36))
    referred_on: Mapped[date] = mapped_column(Date)


class ReportPotDay(Base):
    """What a pot paid on a day, net of what was recovered (the commissioners' report)."""

    __tablename__ = "report_pot_days"

    pot_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    paid_pence: Mapped[int] = mapped_column(BigInteger, default=0)


PEOPLE = cast(Table, ReportPerson.__table__)
PLACE = ("scheme_id", "pot_id", "referred_on")  # who a row is for, not what happened to them
POT_DAYS = cast(Table, ReportPotDay.__table__)


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _earliest(table: Any, excluded: Any, column: str) -> Any:
    mine, theirs = table.c[column], excluded[column]
    return case((theirs.is_not(None) & (mine.is_(None) | (theirs < mine)), theirs), else_=mine)


def _latest(table: Any, excluded: Any, column: str) -> Any:
    mine, theirs = table.c[column], excluded[column]
    return case((theirs.is_not(None) & (mine.is_(None) | (theirs > mine)), theirs), else_=mine)


def _upsert_people(stmt: Any) -> Any:
    """`stmt` (an INSERT into the summary) adding to a row already there: the earliest and latest
    dates kept, held money added."""
    ex = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[PEOPLE.c.person_id],
        set_={
            "first_approved_at": _earliest(PEOPLE, ex, "first_approved_at"),
            "first_activity_on": _earliest(PEOPLE, ex, "first_activity_on"),
            "first_paid_on": _earliest(PEOPLE, ex, "first_paid_on"),
            "last_approved_at": _latest(PEOPLE, ex, "last_approved_at"),
            "last_paid_on": _latest(PEOPLE, ex, "last_paid_on"),
            "held_pence": PEOPLE.c.held_pence + ex.held_pence,
        },
    )


def _upsert_pot_days(stmt: Any) -> Any:
    return stmt.on_conflict_do_update(
        index_elements=[POT_DAYS.c.pot_id, POT_DAYS.c.day],
        set_={"paid_pence": POT_DAYS.c.paid_pence + stmt.excluded.paid_pence},
    )


_COLUMNS = (
    "person_id",
    "first_approved_at",
    "first_activity_on",
    "first_paid_on",
    "held_pence",
    "last_approved_at",
    "last_paid_on",
    *PLACE,
)


def _one_person(dialect: Any) -> Any:
    """One young person's delta, bound per call: their scheme, pot and referral day read from
    `people` in the same statement, under a share lock (a transfer moving them waits, or is waited
    for and then read), for the case where this makes their row."""
    moment, day = DateTime(timezone=True), Date()
    delta = select(
        Person.id,
        bindparam("first_approved_at", type_=moment),
        bindparam("first_activity_on", type_=day),
        bindparam("first_paid_on", type_=day),
        bindparam("held_pence", type_=BigInteger()),
        bindparam("last_approved_at", type_=moment),
        bindparam("last_paid_on", type_=day),
        Person.scheme_id,
        Person.pot_id,
        Person.referred_on,
    ).where(Person.id == bindparam("person_id"))
    return _upsert_people(
        dialect.insert(PEOPLE).from_select(list(_COLUMNS), delta.with_for_update(read=True))
    )


# One young person's or one pot-day's delta (every approval, payment and recovery writes one): built
# once per dialect and bound per call. Building the upsert's CASE expressions on every call was
# half of the budget's CPU on the approval path.
_UPSERT_ONE = {
    name: (_one_person(dialect), _upsert_pot_days(dialect.insert(POT_DAYS)))
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def person_delta(dialect_name: str) -> Any:
    """The upsert of one young person's delta (`_add_to_people`'s), bound by `_COLUMNS`' names, for
    a caller that runs it itself (SQLite's approval: `service_layer.approval_sqlite`)."""
    return _UPSERT_ONE[dialect_name][0]


def people_upsert(rows: Any) -> Any:
    """PostgreSQL's upsert of the per-person deltas `rows` selects (`_COLUMNS`), to run inside
    another statement (the approval's: `adapters.approval`)."""
    return _upsert_people(postgresql.insert(PEOPLE).from_select(list(_COLUMNS), rows))


def _add_to_people(session: Session, rows: Any) -> None:
    """Upsert per-person deltas: one row (a dict of `_COLUMNS` but `PLACE`), or rows as a SELECT
    of `_COLUMNS`."""
    if isinstance(rows, dict):
        session.execute(_UPSERT_ONE[session.get_bind().dialect.name][0], rows)
        return
    session.execute(_upsert_people(_insert(session, PEOPLE).from_select(list(_COLUMNS), rows)))


def _add_to_pot_days(session: Session, rows: Any) -> None:
    """Upsert (pot_id, day, paid_pence) deltas: one as a dict, several as a list, or a SELECT."""
    if isinstance(rows, dict | list):
        session.execute(_UPSERT_ONE[session.get_bind().dialect.name][1], rows)
        return
    columns = ["pot_id", "day", "paid_pence"]
    session.execute(_upsert_pot_days(_insert(session, POT_DAYS).from_select(columns, rows)))


def note_change(
    session: Session, before: str, req: PurchaseRequest | ApprovedRequest, values: dict[str, Any]
) -> None:
    """One request moved from `before` to `req.state` with `values` set: its effect on the summary.

    Money columns are set by two actions only: paying (from an unpaid request) and recovering
    (once: recovered is a final state), so what they add is what they set.
    """
    held_before = req.amount_pence if before in rules.HOLDING_STATES else 0
    if "amount_pence" in values and before in rules.HOLDING_STATES:
        raise ValueError("an amount is changed only before approval")
    held = (req.amount_pence if req.state in rules.HOLDING_STATES else 0) - held_before
    paid = int(values.get("paid_pence", 0)) - (
        int(values["recovered_pence"]) if "recovered_pence" in values else 0
    )
    firsts = {
        "first_approved_at": values.get("approved_at"),
        "first_activity_on": values.get("activity_started_on"),
        "first_paid_on": values.get("paid_on"),
        "last_approved_at": values.get("approved_at"),
        "last_paid_on": values.get("paid_on"),
    }
    if held or any(v is not None for v in firsts.values()):
        _add_to_people(session, {"person_id": req.person_id, **firsts, "held_pence": held})
    if paid and req.paid_on is not None:
        # Read under a share lock: a transfer moving this young person to another pot waits, or
        # is waited for, so the payment lands on the pot their history is on.
        pot_id = session.scalar(
            select(Person.pot_id).where(Person.id == req.person_id).with_for_update(read=True)
        )
        _add_to_pot_days(session, {"pot_id": pot_id, "day": req.paid_on, "paid_pence": paid})


def note_run_paid(session: Session, run_id: str, paid_on: date) -> None:
    """A payment run was paid on `paid_on`: its requests in full and its package instalments (their
    holds posted), in bulk, each young person once, in one lock order for every run."""
    no_time = literal(None, DateTime(timezone=True))
    requests = select(
        PurchaseRequest.person_id.label("person_id"),
        literal(None, Date).label("activity_on"),
        (-PurchaseRequest.amount_pence).label("held_pence"),
        PurchaseRequest.paid_pence.label("paid_pence"),
    ).where(PurchaseRequest.payment_run_id == run_id)
    instalments = (
        select(
            Package.person_id,
            Package.starts_on,
            -PackageInstalment.amount_pence,
            PackageInstalment.amount_pence,
        )
        .select_from(PaymentRunInstalment)
        .join(PackageInstalment, PackageInstalment.id == PaymentRunInstalment.instalment_id)
        .join(Package, Package.id == PackageInstalment.package_id)
        .where(
            PaymentRunInstalment.run_id == run_id,
            PackageInstalment.state == package_rules.PAID,
        )
    )
    paid = union_all(requests, instalments).subquery()
    session.execute(  # their pots, under a share lock (see `note_change`)
        select(Person.id)
        .where(Person.id.in_(select(paid.c.person_id)))
        .order_by(Person.id)
        .with_for_update(read=True)
    )
    _add_to_people(
        session,
        select(
            paid.c.person_id,
            no_time,
            func.min(paid.c.activity_on),
            literal(paid_on, Date),
            func.sum(paid.c.held_pence),
            no_time,
            literal(paid_on, Date),
            Person.scheme_id,
            Person.pot_id,
            Person.referred_on,
        )
        .join(Person, Person.id == paid.c.person_id)
        .group_by(paid.c.person_id, Person.scheme_id, Person.pot_id, Person.referred_on)
        .order_by(paid.c.person_id),
    )
    _add_to_pot_days(
        session,
        select(Person.pot_id, literal(paid_on, Date), func.sum(paid.c.paid_pence))
        .join(Person, Person.id == paid.c.person_id)
        .group_by(Person.pot_id)
        .order_by(Person.pot_id),
    )


def note_package_set_up(session: Session, package: Package) -> None:
    """A package was set up: approved when made, its whole term held."""
    _add_to_people(
        session,
        {
            "person_id": package.person_id,
            "first_approved_at": package.created_at,
            "first_activity_on": None,
            "first_paid_on": None,
            "held_pence": package.amount_pence,
            "last_approved_at": package.created_at,
            "last_paid_on": None,
        },
    )


def note_instalment_paid(session: Session, package: Package, paid_on: date, pence: int) -> None:
    """One instalment of a package, of `pence`, was paid on `paid_on` from its hold (its activity
    has started on the package's start day)."""
    _add_to_people(
        session,
        {
            "person_id": package.person_id,
            "first_approved_at": None,
            "first_activity_on": package.starts_on,
            "first_paid_on": paid_on,
            "held_pence": -pence,
            "last_approved_at": None,
            "last_paid_on": paid_on,
        },
    )
    pot_id = session.scalar(  # under a share lock (see `note_change`)
        select(Person.pot_id).where(Person.id == package.person_id).with_for_update(read=True)
    )
    _add_to_pot_days(session, {"pot_id": pot_id, "day": paid_on, "paid_pence": pence})


def note_released(session: Session, person_id: str, pence: int) -> None:
    """Money a package held was given back (it ended early)."""
    if pence:
        _add_to_people(
            session,
            {
                "person_id": person_id,
                "first_approved_at": None,
                "first_activity_on": None,
                "first_paid_on": None,
                "held_pence": -pence,
                "last_approved_at": None,
                "last_paid_on": None,
            },
        )


def move_person(
    session: Session, person_id: str, old_pot: str, new_pot: str, new_scheme: str
) -> None:
    """A young person now on `new_scheme`, funded by `new_pot` (the transfer has moved them in
    `people`, holding their row): their summary row says so, and what they were paid moves with
    them."""
    session.execute(
        update(PEOPLE)
        .where(PEOPLE.c.person_id == person_id)
        .values(scheme_id=new_scheme, pot_id=new_pot)
    )
    if old_pot == new_pot:
        return
    paid = _paid_days().subquery()
    days = session.execute(
        select(paid.c.day, func.sum(paid.c.paid_pence))
        .where(paid.c.person_id == person_id)
        .group_by(paid.c.day)
        .order_by(paid.c.day)
    ).all()
    for pot_id, sign in ((old_pot, -1), (new_pot, 1)):
        rows = [{"pot_id": pot_id, "day": d, "paid_pence": sign * int(p)} for d, p in days if p]
        if rows:
            _add_to_pot_days(session, rows)


def _net() -> Any:
    return PurchaseRequest.paid_pence - PurchaseRequest.recovered_pence


def _paid_days() -> Any:
    """(person_id, day, paid_pence): what was paid per young person and day, every way."""
    requests = select(
        PurchaseRequest.person_id.label("person_id"),
        PurchaseRequest.paid_on.label("day"),
        _net().label("paid_pence"),
    ).where(PurchaseRequest.paid_on.is_not(None))
    instalments = (
        select(Package.person_id, PackageInstalment.paid_on, PackageInstalment.amount_pence)
        .join(Package, Package.id == PackageInstalment.package_id)
        .where(PackageInstalment.state == package_rules.PAID)
    )
    return union_all(requests, instalments)


def _marks() -> Any:
    """Every approval, activity start, payment and held amount of a young person, one per row:
    their requests, their packages (set up = approved) and their packages' instalments."""
    no_time, no_day = literal(None, DateTime(timezone=True)), literal(None, Date)
    requests = select(
        PurchaseRequest.person_id.label("person_id"),
        PurchaseRequest.approved_at.label("approved_at"),
        PurchaseRequest.activity_started_on.label("activity_on"),
        PurchaseRequest.paid_on.label("paid_on"),
        case((PurchaseRequest.state.in_(HOLDING), PurchaseRequest.amount_pence), else_=0).label(
            "held_pence"
        ),
    )
    packages = select(Package.person_id, Package.created_at, no_day, no_day, literal(0))
    paid = PackageInstalment.state == package_rules.PAID
    instalments = select(
        Package.person_id,
        no_time,
        case((paid, Package.starts_on), else_=None),
        case((paid, PackageInstalment.paid_on), else_=None),
        case(
            (PackageInstalment.state == package_rules.DUE, PackageInstalment.amount_pence),
            else_=0,
        ),
    ).join(Package, Package.id == PackageInstalment.package_id)
    return union_all(requests, packages, instalments)


def expected_people() -> Any:
    """`report_people` recomputed from the requests and packages: a young person with any request
    or package has a row, with their scheme, pot and referral day now."""
    marks = _marks().subquery()
    return (
        select(
            marks.c.person_id.label("person_id"),
            func.min(marks.c.approved_at).label("first_approved_at"),
            func.min(marks.c.activity_on).label("first_activity_on"),
            func.min(marks.c.paid_on).label("first_paid_on"),
            func.sum(marks.c.held_pence).label("held_pence"),
            func.max(marks.c.approved_at).label("last_approved_at"),
            func.max(marks.c.paid_on).label("last_paid_on"),
            Person.scheme_id.label("scheme_id"),
            Person.pot_id.label("pot_id"),
            Person.referred_on.label("referred_on"),
        )
        .join(Person, Person.id == marks.c.person_id)
        .group_by(marks.c.person_id, Person.scheme_id, Person.pot_id, Person.referred_on)
    )


def expected_pot_days() -> Any:
    """`report_pot_days` recomputed from the requests, the packages' instalments and each young
    person's pot now."""
    paid = _paid_days().subquery()
    return (
        select(
            Person.pot_id.label("pot_id"),
            paid.c.day.label("day"),
            func.sum(paid.c.paid_pence).label("paid_pence"),
        )
        .join(Person, Person.id == paid.c.person_id)
        .group_by(Person.pot_id, paid.c.day)
    )


def rebuild(session: Session) -> None:
    """Both summaries recomputed from the requests (the demo seed, which writes requests directly)."""
    session.execute(delete(POT_DAYS))
    session.execute(delete(PEOPLE))
    session.execute(insert(PEOPLE).from_select(list(_COLUMNS), expected_people()))
    session.execute(
        insert(POT_DAYS).from_select(["pot_id", "day", "paid_pence"], expected_pot_days())
    )
