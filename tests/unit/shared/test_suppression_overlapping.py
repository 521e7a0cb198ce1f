"""Suppression of a breakdown whose cells overlap (one young person in several categories, payees
or months): no withheld cell, and no sum of money from fewer than 8 young people, can be worked
out from the total and the cells shown."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.suppression import THRESHOLD, is_small, suppress, suppress_overlapping

# Each young person: the cells they were paid in (a non-empty subset of up to 5 cells).
CELLS = ("a", "b", "c", "d", "e")
people_strategy = st.lists(
    st.frozensets(st.sampled_from(CELLS), min_size=1, max_size=3), min_size=0, max_size=60
)


def _published(people: list[frozenset[str]]):  # type: ignore[no-untyped-def]
    counts = {c: sum(1 for p in people if c in p) for c in CELLS}
    counts = {c: n for c, n in counts.items() if n}

    def people_in(keys: frozenset[str]) -> int:
        return sum(1 for p in people if p & keys)

    return counts, people_in, suppress_overlapping(counts, len(people), people_in)


@settings(max_examples=400, derandomize=True, deadline=None)
@given(people_strategy)
def test_the_money_left_out_of_the_total_is_never_from_fewer_than_eight(people):  # type: ignore[no-untyped-def]
    counts, people_in, cells = _published(people)
    withheld = frozenset(k for k, cell in cells.items() if cell.suppressed)
    shown = {k: cells[k].count for k in cells if not cells[k].suppressed}
    assert all(n is not None and not is_small(n) for n in shown.values())
    if is_small(len(people)):
        return  # the total is withheld too (total_cell): nothing is left to subtract from
    if withheld:
        # total - shown = the withheld cells' sum: never one cell alone, never a small group.
        assert len(withheld) >= 2
        assert not is_small(people_in(withheld))
    for key, n in shown.items():
        # those outside a shown cell (the total less it) are not a small group either
        assert not is_small(len(people) - n), key  # type: ignore[operator]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(people_strategy)
def test_each_count_of_one_to_seven_is_withheld(people):  # type: ignore[no-untyped-def]
    counts, _, cells = _published(people)
    for key, n in counts.items():
        if is_small(n):
            assert cells[key].suppressed == "primary"


def test_two_small_cells_of_the_same_four_people_take_a_third_with_them():
    # b and c are the same four young people: their counts add up to 8, but only 4 are behind
    # the money the total less the cells shown reveals, so the plain rule is not enough.
    people = [frozenset({"a"})] * 20 + [frozenset({"d"})] * 10 + [frozenset({"b", "c"})] * 4
    counts, people_in, cells = _published(people)
    plain = suppress(counts)
    assert {k for k, c in plain.items() if c.suppressed} == {"b", "c"}, "the old rule leaked"
    assert {k for k, c in cells.items() if c.suppressed} == {"b", "c", "d"}
    assert people_in(frozenset({"b", "c", "d"})) >= THRESHOLD


def test_a_cell_that_leaves_a_few_of_the_total_outside_it_is_withheld():
    # 30 young people, 27 of them paid by a and the other 3 by b and a too: a's 30 of 33 says
    # that 3 were paid by others only.
    people = [frozenset({"a"})] * 27 + [frozenset({"a", "b"})] * 3 + [frozenset({"b"})] * 3
    _, _, cells = _published(people)
    assert cells["a"].suppressed == "secondary"
    assert cells["b"].suppressed == "primary"
