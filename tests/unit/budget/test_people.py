"""Enrolment, caseloads and consent against the in-memory unit of work: pots, ages, records, events."""

from __future__ import annotations

from datetime import date

import pytest

from services.budget.service_layer import people, schemes
from services.budget.service_layer.commands import (
    AssignHolder,
    ChangeConsent,
    CreatePot,
    CreateScheme,
    EnrolPerson,
    FundingPart,
    ReassignPerson,
)
from services.budget.service_layer.ledger import InsufficientFunds
from shared.errors import Forbidden, NotFound, ValidationFailed
from shared.identity import Identity
from tests.unit.budget.fakes import FakeUnitOfWork

ADMIN = Identity(sub="admin-1", role="admin")
ADVISOR = Identity(sub="advisor-1", role="advisor")
OTHER_ADVISOR = Identity(sub="advisor-2", role="advisor")
HOLDER = Identity(sub="holder-1", role="budget_holder")
OTHER_HOLDER = Identity(sub="holder-2", role="budget_holder")
FINANCE = Identity(sub="finance-1", role="finance")
TODAY = date(2026, 6, 1)
SEVENTEEN = date(2009, 1, 15)


def scheme(uow: FakeUnitOfWork, **values) -> str:
    values = {"name": "Care leavers", "cap_pence": 50_000, "min_age": 16, "max_age": 25, **values}
    return schemes.create_scheme(CreateScheme(actor=ADMIN, settings=values), uow).id


def pot(uow: FakeUnitOfWork, scheme_id: str, pence: int, starts_on: date, **values) -> str:
    cmd = CreatePot(
        actor=ADMIN,
        scheme_id=scheme_id,
        name=f"Pot from {starts_on}",
        funder="NHS ICB",
        amount_pence=pence,
        starts_on=starts_on,
        **values,
    )
    return schemes.create_pot(cmd, uow).id


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.scheme_id = scheme(uow)
    uow.pot_id = pot(uow, uow.scheme_id, 200_000, date(2026, 4, 1))
    schemes.assign_holder(AssignHolder(actor=ADMIN, scheme_id=uow.scheme_id, sub="holder-1"), uow)
    uow.tx.answers.clear()
    uow.tx.events.clear()  # setting up the scheme announced it (scheme.changed)
    return uow


def enrol(uow: FakeUnitOfWork, actor: Identity = ADVISOR, **values):
    values = {
        "scheme_id": uow.scheme_id,
        "case_reference": "LC-1",
        "birth_date": SEVENTEEN,
        **values,
    }
    cmd = EnrolPerson(actor=actor, **values)
    return people.enrol_person(cmd, uow, today=TODAY)


def test_enrolling_draws_the_cap_from_the_schemes_pot_and_tells_outcomes(uow):
    person = enrol(uow, consent_evaluation=True)
    assert (person.advisor_sub, person.allocation_pence, person.pot_id) == (
        "advisor-1",
        50_000,
        uow.pot_id,
    )
    assert uow.tx.ledger.balance(f"person:{person.id}") == 50_000
    assert uow.tx.ledger.balance(f"pot:{uow.pot_id}") == 150_000
    topic, payload = uow.tx.events[-1]
    assert topic == "person.enrolled"
    assert (payload["birth_year"], payload["consent_evaluation"]) == (2009, True)
    assert uow.tx.answers == [uow.tx.person_view(person)]  # the key's answer, in the same write
    assert people.get_person(uow, ADVISOR, person.id)["budget"]["remaining_pence"] == 50_000


def test_the_first_pot_that_can_cover_the_allocation_pays_for_it(uow):
    early = pot(uow, uow.scheme_id, 10_000, date(2026, 1, 1))  # starts first, too small
    person = enrol(uow)
    assert person.pot_id == uow.pot_id
    assert uow.tx.ledger.balance(f"pot:{early}") == 10_000


def test_when_no_pot_can_cover_the_allocation_nothing_is_enrolled_or_moved():
    uow = FakeUnitOfWork()
    uow.scheme_id = scheme(uow)
    pot(uow, uow.scheme_id, 10_000, date(2026, 4, 1))
    uow.tx.events.clear()  # setting up the scheme announced it (scheme.changed)
    moves = list(uow.tx.ledger.moves)
    with pytest.raises(InsufficientFunds):
        enrol(uow)
    assert (uow.tx.people.rows, uow.tx.ledger.moves) == ({}, moves)
    assert [topic for topic, _ in uow.tx.events] == []


def test_a_scheme_without_a_pot_or_a_pot_of_another_scheme_is_refused(uow):
    bare = scheme(uow, name="No money yet")
    with pytest.raises(ValidationFailed) as refused:
        enrol(uow, scheme_id=bare)
    assert list(refused.value.errors) == ["pot_id"]
    with pytest.raises(NotFound):
        enrol(uow, scheme_id=bare, pot_id=uow.pot_id)
    with pytest.raises(NotFound):
        enrol(uow, scheme_id="no-such-scheme")


def test_an_admin_names_the_advisor_and_only_advisors_and_admins_enrol(uow):
    with pytest.raises(ValidationFailed) as refused:
        enrol(uow, ADMIN)
    assert list(refused.value.errors) == ["advisor_sub"]
    assert enrol(uow, ADMIN, advisor_sub="advisor-2").advisor_sub == "advisor-2"
    assert enrol(uow, ADVISOR, advisor_sub="advisor-2").advisor_sub == "advisor-1"
    for actor in (HOLDER, FINANCE):
        with pytest.raises(Forbidden):
            enrol(uow, actor)


@pytest.mark.parametrize(
    ("birth_date", "message"),
    [(date(2011, 1, 1), "starts at age 16"), (date(1999, 1, 1), "ends at age 25")],
)
def test_someone_outside_the_schemes_ages_is_refused_by_birth_date(uow, birth_date, message):
    with pytest.raises(ValidationFailed) as refused:
        enrol(uow, birth_date=birth_date)
    assert message in refused.value.detail and list(refused.value.errors) == ["birth_date"]
    assert uow.tx.people.rows == {}


def test_a_closed_scheme_takes_no_one(uow):
    closed = scheme(uow, active=False)
    with pytest.raises(ValidationFailed) as refused:
        enrol(uow, scheme_id=closed)
    assert list(refused.value.errors) == ["scheme_id"]


def test_on_a_per_plan_scheme_the_allocation_is_required_and_never_above_the_cap(uow):
    per_plan = scheme(uow, kind="mental_health_s117", max_age=None, eligibility="none")
    pot(uow, per_plan, 100_000, date(2026, 4, 1))
    with pytest.raises(ValidationFailed) as refused:
        enrol(uow, scheme_id=per_plan)
    assert list(refused.value.errors) == ["allocation_pence"]
    with pytest.raises(ValidationFailed) as refused:
        enrol(uow, scheme_id=per_plan, allocation_pence=50_001)
    assert "At most 50000." in refused.value.errors["allocation_pence"]
    assert enrol(uow, scheme_id=per_plan, allocation_pence=12_000).allocation_pence == 12_000


def test_joint_funding_draws_each_part_from_its_own_pot_and_must_add_up(uow):
    education = pot(uow, uow.scheme_id, 50_000, date(2026, 4, 2), funding_stream="education")
    parts = (
        FundingPart(pot_id=uow.pot_id, amount_pence=30_000),
        FundingPart(pot_id=education, amount_pence=10_000),
    )
    with pytest.raises(ValidationFailed) as refused:
        enrol(uow, funding=parts, allocation_pence=45_000)
    assert refused.value.errors == {"funding": ["They add up to 40000, not 45000."]}
    with pytest.raises(ValidationFailed):
        enrol(uow, funding=(parts[0], parts[0]))
    person = enrol(uow, funding=parts)
    assert (person.allocation_pence, person.pot_id) == (40_000, uow.pot_id)
    assert uow.tx.ledger.balance(f"pot:{education}") == 40_000
    assert uow.tx.ledger.balance(f"person:{person.id}") == 40_000
    other = pot(uow, scheme(uow, name="Elsewhere"), 50_000, date(2026, 4, 1))
    with pytest.raises(NotFound):
        enrol(uow, funding=(FundingPart(pot_id=other, amount_pence=1_000),))


def test_a_scheme_that_needs_an_eligibility_record_keeps_it_with_an_audit_record(uow):
    s117 = scheme(uow, kind="mental_health_s117", max_age=None, cap_basis="scheme")
    pot(uow, s117, 100_000, date(2026, 4, 1))
    with pytest.raises(ValidationFailed) as refused:
        enrol(uow, scheme_id=s117)
    assert list(refused.value.errors) == ["eligibility"]
    record = {
        "basis": "section_117",
        "mha_section": "3",
        "aftercare_plan_date": date(2026, 5, 1),
        "responsible_nhs_body": "NHS North ICB",
        "responsible_council": "Northshire",
    }
    person = enrol(uow, scheme_id=s117, eligibility=record)
    (kept,) = uow.tx.people.eligibility
    assert (kept.person_id, kept.basis, kept.mha_section, kept.recorded_by) == (
        person.id,
        "section_117",
        "3",
        "advisor-1",
    )
    assert uow.tx.audit.actions()[-1] == ("eligibility.recorded", person.id, "advisor-1")


def reassign(uow: FakeUnitOfWork, actor: Identity, person_id: str, advisor_sub: str):
    cmd = ReassignPerson(actor=actor, person_id=person_id, advisor_sub=advisor_sub)
    return people.reassign_person(cmd, uow)


def test_reassigning_moves_the_caseload_audits_it_and_tells_outcomes_unless_unchanged(uow):
    person = enrol(uow)
    reassign(uow, HOLDER, person.id, "advisor-1")
    assert [t for t, _ in uow.tx.events] == ["person.enrolled"]
    reassign(uow, HOLDER, person.id, "advisor-2")
    assert uow.tx.events[-1] == (
        "person.reassigned",
        {"person_id": person.id, "advisor_sub": "advisor-2", "previous_advisor_sub": "advisor-1"},
    )
    assert uow.tx.audit.records[-1].details == {"from": "advisor-1", "to": "advisor-2"}
    with pytest.raises(NotFound):  # no longer on their caseload
        people.get_person(uow, ADVISOR, person.id)
    with pytest.raises(NotFound):  # a budget holder for other schemes
        reassign(uow, OTHER_HOLDER, person.id, "advisor-3")
    with pytest.raises(Forbidden):
        reassign(uow, ADVISOR, person.id, "advisor-3")
    assert uow.tx.people.rows[person.id].advisor_sub == "advisor-2"


def test_consent_changes_are_audited_and_sent_on_and_only_caseworkers_change_them(uow):
    person = enrol(uow)
    people.change_consent(
        ChangeConsent(actor=ADVISOR, person_id=person.id, consent_case_study=True), uow
    )
    topic, payload = uow.tx.events[-1]
    assert (topic, payload["consent_case_study"], payload["consent_evaluation"]) == (
        "person.consent_changed",
        True,
        False,
    )
    assert uow.tx.audit.actions()[-1] == ("person.consent_changed", person.id, "advisor-1")
    with pytest.raises(NotFound):
        people.change_consent(
            ChangeConsent(actor=OTHER_ADVISOR, person_id=person.id, consent_case_study=False), uow
        )
    with pytest.raises(Forbidden):
        people.change_consent(
            ChangeConsent(actor=HOLDER, person_id=person.id, consent_case_study=False), uow
        )
    assert uow.tx.people.rows[person.id].consent_case_study is True
