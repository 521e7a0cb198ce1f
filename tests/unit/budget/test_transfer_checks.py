"""Which scheme takes a young person who moves, and which pot tops their budget up, against the
in-memory unit of work (the move itself, its ledger and its conditional update, is tested on
databases in tests/integration/budget/test_transfers*.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.budget.adapters.orm import EligibilityRecord, Pot, Scheme
from services.budget.service_layer import transfers
from shared.errors import Conflict, NotFound, ValidationFailed
from tests.unit.budget.fakes import FakeUnitOfWork, add_person, add_scheme

TODAY = date(2026, 6, 1)
S117_RECORD = {
    "basis": "section_117",
    "mha_section": "3",
    "aftercare_plan_date": date(2026, 5, 1),
    "responsible_nhs_body": "NHS North ICB",
    "responsible_council": "Northshire",
}


def new_scheme(uow: FakeUnitOfWork, scheme_id: str = "scheme-2", **settings) -> Scheme:
    values = {"name": "Aftercare", "cap_pence": 80_000, "min_age": 16, "max_age": 25}
    values |= {"active": True, "eligibility": "none", **settings}
    scheme = Scheme(id=scheme_id, **values)
    uow.tx.schemes.add(scheme)
    return scheme


def pot(uow: FakeUnitOfWork, pot_id: str, scheme_id: str, pence: int, starts_on: date) -> Pot:
    row = Pot(
        id=pot_id,
        scheme_id=scheme_id,
        name=pot_id,
        funder="NHS ICB",
        amount_pence=pence,
        starts_on=starts_on,
    )
    uow.tx.pots.add(row)
    uow.tx.ledger.fund_pot(pot_id, pence, by="admin-1", memo=pot_id)
    return row


@pytest.fixture
def uow() -> FakeUnitOfWork:
    """A young person born 2006-05-01 (20 today) on scheme-1."""
    uow = FakeUnitOfWork()
    uow.old = add_scheme(uow)
    uow.person, _ = add_person(uow)
    return uow


def receive(uow: FakeUnitOfWork, scheme_id: str = "scheme-2", eligibility=None) -> Scheme:
    return transfers.receiving_scheme(uow.tx, uow.person, uow.old, scheme_id, eligibility, TODAY)


def keep_record(uow: FakeUnitOfWork, ended_on: date | None = None) -> None:
    """A section 117 record kept for the person (in force unless ended)."""
    record = EligibilityRecord(
        id="record-1",
        person_id=uow.person.id,
        basis="section_117",
        recorded_by="advisor-1",
        recorded_at=datetime(2026, 5, 2, tzinfo=UTC),
        ended_on=ended_on,
    )
    uow.tx.people.eligibility.append(record)


def test_an_open_scheme_for_the_persons_age_takes_them(uow):
    assert receive(uow, new_scheme(uow).id).id == "scheme-2"


def test_the_same_scheme_an_unknown_one_or_a_closed_one_does_not(uow):
    with pytest.raises(Conflict) as same:
        receive(uow, "scheme-1")
    assert same.value.extra["rule"] == "same-scheme"
    with pytest.raises(NotFound):
        receive(uow, "no-such-scheme")
    new_scheme(uow, active=False)
    with pytest.raises(ValidationFailed) as closed:
        receive(uow)
    assert closed.value.errors == {"to_scheme_id": ["Closed to new people."]}


def test_a_scheme_the_person_is_too_old_for_refuses_on_to_scheme_id(uow):
    new_scheme(uow, min_age=0, max_age=18)
    with pytest.raises(ValidationFailed) as refused:
        receive(uow)
    assert list(refused.value.errors) == ["to_scheme_id"]
    assert "ends at age 18" in refused.value.detail


def test_a_scheme_needing_a_record_takes_the_one_in_force_or_the_one_sent_with_the_move(uow):
    new_scheme(uow, eligibility="section_117")
    with pytest.raises(ValidationFailed) as refused:
        receive(uow)
    assert list(refused.value.errors) == ["eligibility"]
    assert receive(uow, eligibility=S117_RECORD).id == "scheme-2"
    keep_record(uow)
    assert receive(uow).id == "scheme-2"  # the record in force is enough


def test_an_ended_record_is_not_in_force(uow):
    new_scheme(uow, eligibility="section_117")
    keep_record(uow, ended_on=date(2026, 5, 30))
    with pytest.raises(ValidationFailed):
        receive(uow)


def test_the_top_up_comes_from_the_first_pot_that_can_cover_it_else_the_first(uow):
    new = new_scheme(uow)
    pot(uow, "early", new.id, 10_000, date(2026, 1, 1))
    pot(uow, "later", new.id, 90_000, date(2026, 4, 1))
    assert transfers.pot_for_top_up(uow.tx, new, None, 30_000) == "later"
    assert transfers.pot_for_top_up(uow.tx, new, None, 5_000) == "early"
    # none can: the first, and the ledger refuses the allocation naming what is left
    assert transfers.pot_for_top_up(uow.tx, new, None, 100_000) == "early"


def test_a_named_pot_must_fund_the_new_scheme_and_a_scheme_needs_a_pot(uow):
    new = new_scheme(uow)
    pot(uow, "theirs", "scheme-1", 50_000, date(2026, 4, 1))
    with pytest.raises(ValidationFailed) as refused:
        transfers.pot_for_top_up(uow.tx, new, None, 1_000)
    assert list(refused.value.errors) == ["pot_id"]
    with pytest.raises(NotFound):
        transfers.pot_for_top_up(uow.tx, new, "theirs", 1_000)
    pot(uow, "ours", new.id, 50_000, date(2026, 4, 1))
    assert transfers.pot_for_top_up(uow.tx, new, "ours", 1_000) == "ours"


def test_a_move_to_another_council_takes_no_pot(uow):
    assert transfers.pot_for_top_up(uow.tx, None, "anything", 1_000) is None
