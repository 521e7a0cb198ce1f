"""Small-number suppression: primary and secondary."""

from shared.suppression import MARK, suppress, suppress_with_wholes, total_cell


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


def _reach(counts, wholes, total_whole=None):
    cells, total = suppress_with_wholes(counts, wholes, total_whole)
    return shown(cells), total.shown


def test_a_count_whose_remainder_of_its_whole_is_small_is_withheld_with_another():
    # 95 of a cohort of 100 says 5 were not reached; the total would then give 95 away alone.
    assert _reach({"a": 95, "b": 20, "c": 30}, {"a": 100, "b": 50}) == (
        {"a": MARK, "b": MARK, "c": "30"},
        "145",
    )


def test_withheld_cells_whose_remainders_add_up_to_a_small_number_take_another():
    # a and b not reached: 3 + 4 = 7, so c goes too (its remainder 12 makes 19).
    cells, total = _reach(
        {"a": 97, "b": 46, "c": 20, "d": 40}, {"a": 100, "b": 50, "c": 32, "d": 90}
    )
    assert cells == {"a": MARK, "b": MARK, "c": MARK, "d": "40"}
    assert total == "203"


def test_the_total_is_withheld_when_its_remainder_is_small():
    assert _reach({"a": 95}, {"a": 100}, 100) == ({"a": MARK}, MARK)
    assert _reach({"a": 50, "b": 47}, {"a": 50, "b": 50}, 100) == ({"a": MARK, "b": MARK}, MARK)


def test_a_lone_cell_that_cannot_be_hidden_beside_others_hides_the_total():
    assert _reach({"a": 95, "b": 0}, {"a": 100}) == ({"a": MARK, "b": "0"}, MARK)


def test_without_a_whole_or_with_a_large_remainder_counts_are_shown():
    assert _reach({"a": 95, "b": 9}, {"b": 100}, None) == ({"a": "95", "b": "9"}, "104")
    assert _reach({"a": 100, "b": 9}, {"a": 100, "b": 100}, 200) == ({"a": "100", "b": "9"}, "109")


def test_small_counts_stay_primary_beside_their_wholes():
    cells, total = suppress_with_wholes({"a": 7, "b": 40}, {"a": 100, "b": 60}, 160)
    assert (cells["a"].suppressed, cells["b"].suppressed, total.shown) == (
        "primary",
        "secondary",
        "47",
    )
