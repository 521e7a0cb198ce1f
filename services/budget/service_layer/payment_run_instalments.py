"""Package instalments in payment runs: taken when a run is made, paid from each package's hold
when the run is paid, freed when it is cancelled, and read as the run's package lines.

An instalment joins a run only through a conditional `UPDATE ... SET payment_run_id = :run WHERE
payment_run_id IS NULL AND state = 'due'`, so two runs made at once never share one. Paying locks
the run's packages (in id order) and then their instalments, the same order as paying one
instalment by hand or ending a package, so none of them can deadlock another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, func, insert, literal, select, update
from sqlalchemy.orm import Session

from services.budget.adapters.orm import (
    AuditRecord,
    Package,
    PackageInstalment,
    PaymentRun,
    PaymentRunInstalment,
    Person,
)
from services.budget.domain import packages as package_rules
from services.budget.domain import payment_runs as runs
from services.budget.service_layer import package_events
from services.budget.service_layer.unit_of_work import SqlTransaction
from shared.clock import utcnow
from shared.identity import Identity


def line_key(package_id: str, number: int) -> str:
    """How an instalment is named in a run's files and refusals: `PACKAGE#N`."""
    return f"{package_id}#{number}"


def claim_due(session: Session, run_id: str, due_by: date, scheme_id: str | None) -> int:
    """Put every free instalment of an active package due by `due_by` in the run; how many."""
    packages = select(Package.id).where(Package.state == package_rules.ACTIVE)
    if scheme_id:
        packages = packages.where(
            Package.person_id.in_(select(Person.id).where(Person.scheme_id == scheme_id))
        )
    claimed = session.execute(
        update(PackageInstalment)
        .where(
            PackageInstalment.payment_run_id.is_(None),
            PackageInstalment.state == package_rules.DUE,
            PackageInstalment.due_on <= due_by,
            PackageInstalment.package_id.in_(packages),
        )
        .values(payment_run_id=run_id)
        .execution_options(synchronize_session=False)
    )
    return int(claimed.rowcount)  # type: ignore[attr-defined]


def record_items(session: Session, run_id: str) -> tuple[int, int]:
    """Keep the run's record of its instalments; (how many, their sum in pence)."""
    session.execute(
        insert(PaymentRunInstalment).from_select(
            ["run_id", "instalment_id", "amount_pence"],
            select(
                literal(run_id, String(36)), PackageInstalment.id, PackageInstalment.amount_pence
            ).where(PackageInstalment.payment_run_id == run_id),
        )
    )
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(PaymentRunInstalment.amount_pence), 0)).where(
            PaymentRunInstalment.run_id == run_id
        )
    ).one()
    return int(count), int(total)


@dataclass
class Paying:
    """A run's packages and instalments, locked for paying."""

    packages: dict[str, Package]
    instalments: list[Any]  # rows: id, package_id, number, state, amount_pence

    def refusals(self) -> list[runs.InstalmentUnpayable]:
        found = (
            runs.why_instalment_unpayable(
                i.package_id, i.number, self.packages[i.package_id].state, i.state
            )
            for i in self.instalments
        )
        return [why for why in found if why is not None]


def lock_for_paying(session: Session, run_id: str) -> Paying:
    """The run's packages, then its instalments, locked until the transaction ends."""
    in_run = PackageInstalment.payment_run_id == run_id
    packages = {
        p.id: p
        for p in session.scalars(
            select(Package)
            .where(Package.id.in_(select(PackageInstalment.package_id).where(in_run)))
            .order_by(Package.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    instalments = list(
        session.execute(
            select(
                PackageInstalment.id,
                PackageInstalment.package_id,
                PackageInstalment.number,
                PackageInstalment.state,
                PackageInstalment.amount_pence,
            )
            .where(in_run)
            .order_by(PackageInstalment.package_id, PackageInstalment.number)
            .with_for_update()
        )
    )
    return Paying(packages, instalments)


def pay(tx: SqlTransaction, actor: Identity, run: PaymentRun, paying: Paying, on: date) -> None:
    """Pay every instalment of the run from its package's hold; a package's last completes it."""
    if not paying.instalments:
        return
    session = tx.session
    changed = session.execute(
        update(PackageInstalment)
        .where(
            PackageInstalment.payment_run_id == run.id,
            PackageInstalment.state == package_rules.DUE,
        )
        .values(
            state=package_rules.PAID,
            payment_reference=run.reference,
            paid_on=on,
            paid_by=actor.sub,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != len(paying.instalments):  # type: ignore[attr-defined]  # locked
        raise runs.RunClosed("The run's instalments changed meanwhile; reload it and try again.")
    for i in paying.instalments:
        tx.ledger.pay_instalment(
            paying.packages[i.package_id],
            i.number,
            i.amount_pence,
            by=actor.sub,
            reference=run.reference,
        )
    now = utcnow()
    for package in paying.packages.values():
        numbers = [i.number for i in paying.instalments if i.package_id == package.id]
        package_events.instalments_paid(session, package, len(numbers), now)
        _complete_if_done(session, package)
        session.add(
            AuditRecord(
                by_sub=actor.sub,
                action="package.instalment_paid",
                subject_id=package.id,
                details={"numbers": numbers, "payment_run": run.reference},
            )
        )


def _complete_if_done(session: Session, package: Package) -> None:
    """`UPDATE packages SET state = 'completed' WHERE state = 'active'` once nothing is due."""
    due = session.scalar(
        select(func.count()).where(
            PackageInstalment.package_id == package.id,
            PackageInstalment.state == package_rules.DUE,
        )
    )
    if due:
        return
    done = session.execute(
        update(Package)
        .where(Package.id == package.id, Package.state == package_rules.ACTIVE)
        .values(state=package_rules.COMPLETED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]  # locked above: unreachable
        raise runs.RunClosed("A package in the run changed meanwhile; reload it and try again.")


def free(session: Session, run_id: str) -> None:
    """A cancelled run's instalments wait for the next run."""
    session.execute(
        update(PackageInstalment)
        .where(PackageInstalment.payment_run_id == run_id)
        .values(payment_run_id=None)
        .execution_options(synchronize_session=False)
    )


def set_up_by_viewer(session: Session, run_id: str, viewer: Identity) -> list[str]:
    """The run's instalments of packages the viewer set up (the page says why they can't pay)."""
    rows = session.execute(
        select(PackageInstalment.package_id, PackageInstalment.number)
        .join(PaymentRunInstalment, PaymentRunInstalment.instalment_id == PackageInstalment.id)
        .join(Package, Package.id == PackageInstalment.package_id)
        .where(PaymentRunInstalment.run_id == run_id, Package.created_by == viewer.sub)
        .order_by(PackageInstalment.package_id, PackageInstalment.number)
    )
    return [line_key(package_id, number) for package_id, number in rows]
