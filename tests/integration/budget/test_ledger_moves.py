"""One movement of money (`ledger_moves.move`) on SQLite and PostgreSQL: all of it or none of it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event, select

from services.budget.adapters.orm import LedgerEntry, LedgerTransaction
from services.budget.service_layer.ledger import (
    FUNDING,
    PERSON,
    POT,
    InsufficientFunds,
    Ledger,
    account_id,
    balance,
)
from services.budget.service_layer.ledger_moves import move
from tests.support import module_database, rolled_back

migrated_budget = module_database("budget")


@pytest.fixture
def db(migrated_budget):
    with rolled_back(migrated_budget) as database:
        yield database


def funded_pot(db, pence: int) -> str:
    pot_id = str(uuid.uuid4())
    with db.write() as session:
        Ledger(session).fund_pot(pot_id, pence, by="test", memo="grant")
    return pot_id


def statements_of(session, call):  # type: ignore[no-untyped-def]
    """What `call` sends to the database (the test's own savepoints left out)."""
    sent: list[str] = []

    def listen(*args):  # type: ignore[no-untyped-def]
        sent.append(args[2])

    event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        result = call()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    return result, [s for s in sent if "SAVEPOINT" not in s]


def test_a_movement_is_one_statement_on_postgresql_and_balances_both_sides(db):
    pot_id = funded_pot(db, 5_000)
    person = str(uuid.uuid4())
    with db.write() as session:
        Ledger(session).open_person(person)
        txn_id, sent = statements_of(
            session,
            lambda: Ledger(session).allocate(person, pot_id, 3_000, by="admin", what="The pot"),
        )
        assert len(sent) == (1 if session.get_bind().dialect.name == "postgresql" else 4)
        assert balance(session, account_id(POT, pot_id)) == 2_000
        assert balance(session, account_id(PERSON, person)) == 3_000
        txn = session.get(LedgerTransaction, txn_id)
        assert (txn.kind, txn.status, txn.created_by) == ("allocation", "posted", "admin")
        entries = session.execute(
            select(LedgerEntry.account_id, LedgerEntry.debit_pence, LedgerEntry.credit_pence)
            .where(LedgerEntry.transaction_id == txn_id)
            .order_by(LedgerEntry.id)
        ).all()
        assert [tuple(e) for e in entries] == [
            (account_id(PERSON, person), 3_000, 0),
            (account_id(POT, pot_id), 0, 3_000),
        ]


def test_a_movement_the_account_cannot_cover_moves_nothing_and_says_what_is_left(db):
    pot_id = funded_pot(db, 5_000)
    person = str(uuid.uuid4())
    with db.write() as session:
        Ledger(session).open_person(person)
        entries_before = session.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id.desc()))
        with pytest.raises(InsufficientFunds) as refused:
            Ledger(session).allocate(person, pot_id, 5_001, by="admin", what="The pot")
        assert refused.value.extra["available_pence"] == 5_000
        assert balance(session, account_id(POT, pot_id)) == 5_000
        assert balance(session, account_id(PERSON, person)) == 0
        latest = session.scalar(select(LedgerEntry.id).order_by(LedgerEntry.id.desc()))
        assert latest == entries_before


def test_money_taken_for_an_account_that_does_not_exist_is_refused_with_the_transaction(db):
    pot_id = funded_pot(db, 5_000)
    with pytest.raises(LookupError):
        with db.write() as session:
            move(
                session,
                kind="allocation",
                debit=account_id(PERSON, "nobody"),
                credit=account_id(POT, pot_id),
                amount_pence=1_000,
                by="admin",
            )
    with db.session() as session:
        assert balance(session, account_id(POT, pot_id)) == 5_000
        assert balance(session, account_id(FUNDING, pot_id)) == -5_000
