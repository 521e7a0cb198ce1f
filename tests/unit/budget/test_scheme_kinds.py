"""Scheme kinds are data: each kind's defaults, and settings that must fit together."""

from __future__ import annotations

import pytest

from services.budget.domain import schemes as kinds
from shared.errors import ValidationFailed


@pytest.mark.parametrize("kind", kinds.KINDS)
def test_every_kinds_defaults_are_consistent_settings(kind):
    settings = kinds.with_preset({"kind": kind, "name": "S", "cap_pence": 100_000})
    kinds.check_settings(settings)
    assert settings["kind"] == kind


def test_a_kind_fills_only_what_the_admin_left_out():
    settings = kinds.with_preset({"kind": kinds.CHILDREN_YOUNG_PEOPLE, "max_age": 18})
    assert settings["min_age"] == 0 and settings["max_age"] == 18
    assert settings["eligibility"] == kinds.EHC_OR_CONTINUING_CARE
    assert settings["parent_may_act"] is True


def test_no_kind_means_todays_care_leavers_scheme():
    settings = kinds.with_preset({"name": "S"})
    assert settings["kind"] == kinds.CARE_LEAVERS
    assert (settings["min_age"], settings["max_age"]) == (16, 25)
    assert settings["budget_type"] == kinds.NOTIONAL and settings["carry_over"] == "return"


def test_inconsistent_settings_are_named_field_by_field():
    with pytest.raises(ValidationFailed) as refused:
        kinds.check_settings(
            {
                "min_age": 18,
                "max_age": 16,
                "budget_type": kinds.THIRD_PARTY,
                "parent_may_act": True,
                "cap_pence": 100,
                "auto_approve_pence": 200,
            }
        )
    errors = refused.value.errors
    assert set(errors) == {
        "max_age",
        "third_party_name",
        "parent_may_act",
        "auto_approve_pence",
    }


def test_check_in_questions_and_age_bands_are_not_the_budgets_to_keep():
    """Outcomes owns them (its /schemes/{id}/outcome-settings, tests/unit/outcomes)."""
    for kind in kinds.KINDS:
        assert not {"instrument_set", "age_bands"} & set(kinds.PRESETS[kind])
