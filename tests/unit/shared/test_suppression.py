"""Small-number suppression: primary and secondary."""

from shared.suppression import MARK, suppress, total_cell


def shown(cells):
    return {k: c.shown for k, c in cells.items()}


def test_counts_of_eight_and_over_and_zero_are_shown():
    assert shown(suppress({"a": 8, "b": 40, "c": 0})) == {"a": "8", "b": "40", "c": "0"}


def test_counts_of_one_to_seven_are_withheld():
    cells = suppress({"a": 7, "b": 1, "c": 30, "d": 20})
    assert cells["a"].suppressed == "primary" and cells["b"].suppressed == "primary"
    assert shown(cells)["c"] == "30"


def test_a_lone_withheld_cell_takes_the_next_smallest_with_it():
    cells = suppress({"small": 3, "mid": 9, "big": 50})
    assert shown(cells) == {"small": MARK, "mid": MARK, "big": "50"}
    assert cells["mid"].suppressed == "secondary"


def test_withheld_cells_that_add_up_to_a_small_number_take_another():
    cells = suppress({"a": 2, "b": 3, "c": 10, "d": 40})
    assert shown(cells) == {"a": MARK, "b": MARK, "c": MARK, "d": "40"}


def test_two_withheld_cells_adding_to_eight_or_more_are_enough():
    cells = suppress({"a": 4, "b": 5, "c": 10, "d": 40})
    assert shown(cells) == {"a": MARK, "b": MARK, "c": "10", "d": "40"}


def test_nothing_small_means_nothing_withheld():
    assert all(c.suppressed is None for c in suppress({"a": 10, "b": 12}).values())


def test_a_small_total_is_withheld():
    assert total_cell(5).as_dict() == {"count": None, "suppressed": "primary"}
    assert total_cell(0).as_dict() == {"count": 0}


def test_a_small_number_of_drop_outs_is_not_revealed_by_baselines_minus_pairs():
    from services.outcomes.service_layer.reports import _population

    few = _population(baselines=61, pairs=60)
    assert few["baselines_answered"] == {"count": None, "suppressed": "secondary"}
    assert few["completion_rate_pct"] is None and few["completion_note"]
    many = _population(baselines=80, pairs=60)
    assert many["baselines_answered"] == {"count": 80} and many["completion_rate_pct"] == 75.0
