"""Schemes, budget holders and pots against the in-memory unit of work: who may, what is checked."""

from __future__ import annotations

from datetime import date

import pytest

from services.budget.service_layer import schemes
from services.budget.service_layer.commands import (
    AssignHolder,
    CreatePot,
    CreateScheme,
    UnassignHolder,
    UpdateScheme,
)
from shared.concurrency import etag
from shared.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ValidationFailed,
)
from shared.identity import Identity
from tests.unit.budget.fakes import FakeUnitOfWork

ADMIN = Identity(sub="admin-1", role="admin")
ADVISOR = Identity(sub="advisor-1", role="advisor")
HOLDER = Identity(sub="holder-1", role="budget_holder")
OTHER_HOLDER = Identity(sub="holder-2", role="budget_holder")
PROVIDER = Identity(sub="provider-1", role="provider")


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


def new_scheme(uow: FakeUnitOfWork, **values):
    values = {"name": "Care leavers", "cap_pence": 50_000, "min_age": 16, "max_age": 25, **values}
    return schemes.create_scheme(CreateScheme(actor=ADMIN, settings=values), uow)


def new_pot(uow: FakeUnitOfWork, scheme_id: str, **values):
    values = {
        "name": "ICB grant",
        "funder": "NHS ICB",
        "amount_pence": 1_000_000,
        "starts_on": date(2026, 4, 1),
        **values,
    }
    return schemes.create_pot(CreatePot(actor=ADMIN, scheme_id=scheme_id, **values), uow)


def update(uow: FakeUnitOfWork, actor: Identity, scheme_id: str, changes: dict, *, if_match):
    cmd = UpdateScheme(actor=actor, scheme_id=scheme_id, changes=changes, if_match=if_match)
    return schemes.update_scheme(cmd, uow)


def assign(uow: FakeUnitOfWork, actor: Identity, scheme_id: str, sub: str):
    return schemes.assign_holder(AssignHolder(actor=actor, scheme_id=scheme_id, sub=sub), uow)


def unassign(uow: FakeUnitOfWork, actor: Identity, assignment_id: str) -> None:
    schemes.unassign_holder(UnassignHolder(actor=actor, assignment_id=assignment_id), uow)


def test_a_new_scheme_takes_its_kinds_defaults_under_the_admins_settings_and_is_audited(uow):
    scheme = new_scheme(uow, kind="mental_health_s117", cap_pence=40_000, max_age=None)
    assert (scheme.kind, scheme.cap_pence, scheme.version) == ("mental_health_s117", 40_000, 1)
    assert (scheme.eligibility, scheme.carry_over) == ("section_117", "carry")  # the kind's
    assert scheme.hold_expiry_days == 90  # a column default, as the database gives it
    assert uow.tx.audit.actions() == [("scheme.created", scheme.id, "admin-1")]


def test_settings_that_do_not_fit_together_are_refused_field_by_field_and_nothing_is_made(uow):
    with pytest.raises(ValidationFailed) as refused:
        new_scheme(uow, min_age=20, max_age=18, auto_approve_pence=60_000)
    assert set(refused.value.errors) == {"max_age", "auto_approve_pence"}
    assert (uow.tx.schemes.rows, uow.tx.audit.records) == ({}, [])


def test_only_a_small_team_may_combine_duties(uow):
    with pytest.raises(ValidationFailed) as refused:
        new_scheme(uow, combined_duties_team=[f"user-{n}" for n in range(10)])
    assert list(refused.value.errors) == ["combined_duties_team"]


@pytest.mark.parametrize("actor", [ADVISOR, HOLDER, PROVIDER])
def test_only_admins_configure_schemes_holders_and_pots(uow, actor):
    scheme = new_scheme(uow)
    with pytest.raises(Forbidden):
        schemes.create_scheme(CreateScheme(actor=actor, settings={"name": "x"}), uow)
    with pytest.raises(Forbidden):
        update(uow, actor, scheme.id, {"name": "y"}, if_match="*")
    with pytest.raises(Forbidden):
        assign(uow, actor, scheme.id, "holder-9")
    with pytest.raises(Forbidden):
        cmd = CreatePot(
            actor=actor,
            scheme_id=scheme.id,
            name="x",
            funder="y",
            amount_pence=1,
            starts_on=date(2026, 4, 1),
        )
        schemes.create_pot(cmd, uow)
    assert len(uow.tx.audit.records) == 1


def test_a_change_needs_the_etag_read_and_is_checked_against_the_whole_configuration(uow):
    scheme = new_scheme(uow)
    with pytest.raises(PreconditionRequired):
        update(uow, ADMIN, scheme.id, {"name": "New"}, if_match=None)
    with pytest.raises(ValidationFailed) as refused:
        # above the stored cap: only the two together break the rule
        update(uow, ADMIN, scheme.id, {"auto_approve_pence": 60_000}, if_match=etag(scheme.id, 1))
    assert list(refused.value.errors) == ["auto_approve_pence"]
    changed = update(uow, ADMIN, scheme.id, {"name": "New"}, if_match=etag(scheme.id, 1))
    assert (changed.name, changed.version) == ("New", 2)
    with pytest.raises(PreconditionFailed):
        update(uow, ADMIN, scheme.id, {"name": "Lost"}, if_match=etag(scheme.id, 1))
    assert uow.tx.schemes.rows[scheme.id].name == "New"
    assert [a for a, _, _ in uow.tx.audit.actions()] == ["scheme.created", "scheme.changed"]
    assert uow.tx.audit.records[-1].details == {"name": "New"}
    with pytest.raises(NotFound):
        update(uow, ADMIN, "no-such-scheme", {"name": "x"}, if_match="*")


def test_a_budget_holder_sees_only_the_schemes_assigned_to_them(uow):
    mine, theirs = new_scheme(uow, name="Mine"), new_scheme(uow, name="Theirs")
    assert schemes.list_schemes(uow, HOLDER) == []
    assign(uow, ADMIN, mine.id, "holder-1")
    assert [s["name"] for s in schemes.list_schemes(uow, HOLDER)] == ["Mine"]
    assert schemes.read_scheme(uow, HOLDER, mine.id)["name"] == "Mine"
    with pytest.raises(NotFound):
        schemes.read_scheme(uow, HOLDER, theirs.id)
    assert {s["name"] for s in schemes.list_schemes(uow, ADMIN)} == {"Mine", "Theirs"}


def test_a_provider_learns_a_schemes_name_cap_and_ages_but_not_its_rules(uow):
    scheme = new_scheme(uow, excluded_categories=["gambling"], auto_approve_pence=2_000)
    public = schemes.read_scheme(uow, PROVIDER, scheme.id)
    assert "excluded_categories" not in public and "auto_approve_pence" not in public
    assert (public["cap_pence"], public["min_age"], public["version"]) == (50_000, 16, 1)
    staff = schemes.read_scheme(uow, ADVISOR, scheme.id)
    assert (staff["excluded_categories"], staff["auto_approve_pence"]) == (["gambling"], 2_000)


def test_a_holder_is_assigned_once_and_unassigned_with_an_audit_record_each_time(uow):
    scheme = new_scheme(uow)
    assignment = assign(uow, ADMIN, scheme.id, "holder-1")
    with pytest.raises(Conflict):
        assign(uow, ADMIN, scheme.id, "holder-1")
    with pytest.raises(NotFound):
        assign(uow, ADMIN, "no-such-scheme", "holder-1")
    assign(uow, ADMIN, scheme.id, "holder-2")
    assert [a.sub for a in schemes.list_assignments(uow, HOLDER)] == ["holder-1"]
    assert schemes.list_assignments(uow, HOLDER, sub="holder-2") == []
    assert len(schemes.list_assignments(uow, ADMIN, scheme_id=scheme.id)) == 2
    unassign(uow, ADMIN, assignment.id)
    with pytest.raises(NotFound):
        unassign(uow, ADMIN, assignment.id)
    assert [a.sub for a in schemes.list_assignments(uow, ADMIN)] == ["holder-2"]
    assert [(a, details) for a, details in _audit(uow)][1:] == [
        ("scheme.holder_assigned", {"sub": "holder-1"}),
        ("scheme.holder_assigned", {"sub": "holder-2"}),
        ("scheme.holder_unassigned", {"sub": "holder-1"}),
    ]
    with pytest.raises(Forbidden):
        schemes.list_assignments(uow, ADVISOR)


def _audit(uow):
    return [(r.action, r.details) for r in uow.tx.audit.records]


def test_a_new_pot_is_funded_in_the_ledger_in_the_same_transaction_and_answers_its_view(uow):
    scheme = new_scheme(uow)
    pot = new_pot(uow, scheme.id)
    assert uow.tx.ledger.balance(f"pot:{pot.id}") == 1_000_000
    assert uow.tx.ledger.balance(f"funding:{pot.id}") == -1_000_000
    (view,) = uow.tx.answers  # stored with the change when the call has an Idempotency-Key
    assert (view["unallocated_pence"], view["allocated_pence"]) == (1_000_000, 0)
    assert view["funding_stream"] == "health"
    assert schemes.get_pot(uow, ADMIN, pot.id) == view


def test_a_pot_that_ends_before_it_starts_or_names_no_scheme_is_refused_and_moves_nothing(uow):
    with pytest.raises(ValidationFailed) as refused:
        new_pot(uow, "scheme-x", ends_on=date(2026, 3, 31))
    assert list(refused.value.errors) == ["ends_on"]
    with pytest.raises(NotFound):
        new_pot(uow, "no-such-scheme")
    assert (uow.tx.pots.rows, uow.tx.ledger.moves) == ({}, [])


def test_a_budget_holder_sees_the_pots_of_their_schemes_only(uow):
    mine, theirs = new_scheme(uow, name="Mine"), new_scheme(uow, name="Theirs")
    assign(uow, ADMIN, mine.id, "holder-1")
    my_pot = new_pot(uow, mine.id, starts_on=date(2026, 5, 1))
    their_pot = new_pot(uow, theirs.id, starts_on=date(2026, 4, 1))
    assert [p["id"] for p in schemes.list_pots(uow, HOLDER)] == [my_pot.id]
    assert [p["id"] for p in schemes.list_pots(uow, ADMIN)] == [their_pot.id, my_pot.id]
    assert schemes.list_pots(uow, OTHER_HOLDER) == []
    with pytest.raises(NotFound):
        schemes.get_pot(uow, HOLDER, their_pot.id)
    with pytest.raises(Forbidden):
        schemes.list_pots(uow, ADVISOR)


def test_setting_up_and_changing_a_scheme_announces_its_name_kind_and_ages_to_outcomes(uow):
    scheme = new_scheme(uow, kind="children_young_people", min_age=0, max_age=25)
    changed = {"max_age": 24}
    update(uow, ADMIN, scheme.id, changed, if_match=etag(scheme.id, 1))
    announced = [p for topic, p in uow.tx.events if topic == "scheme.changed"]
    assert announced == [
        {
            "scheme_id": scheme.id,
            "name": "Care leavers",
            "kind": "children_young_people",
            "min_age": 0,
            "max_age": max_age,
        }
        for max_age in (25, 24)
    ]
