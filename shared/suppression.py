"""Small-number suppression: no count of 1-7 leaves the service, nor any cell that would reveal one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

THRESHOLD = 8  # counts 1..THRESHOLD-1 are suppressed (DOMAIN.md)
MARK = "[c]"  # the ONS marker for a confidential (suppressed) cell


@dataclass(frozen=True)
class Cell:
    """A count as published: its value, or None with the reason it was withheld."""

    count: int | None
    suppressed: str | None = None  # "primary" (a small count) or "secondary" (would reveal one)

    def as_dict(self) -> dict[str, Any]:
        if self.suppressed:
            return {"count": None, "suppressed": self.suppressed}
        return {"count": self.count}

    @property
    def shown(self) -> str:
        return MARK if self.suppressed else str(self.count)


def is_small(count: int, threshold: int = THRESHOLD) -> bool:
    return 0 < count < threshold


def suppress(counts: dict[str, int], threshold: int = THRESHOLD) -> dict[str, Cell]:
    """Cells of one breakdown whose total is published alongside them.

    Primary: every count of 1..threshold-1. Secondary: if exactly one cell is withheld, the
    published total minus the others would reveal it, so the next smallest non-zero cell goes too
    (repeated until the withheld cells add up to at least `threshold`, so no small sum leaks).
    """
    cells = {k: Cell(v) for k, v in counts.items()}
    withheld = {k for k, v in counts.items() if is_small(v, threshold)}
    for key in withheld:
        cells[key] = Cell(None, "primary")
    if withheld:
        while len(withheld) == 1 or 0 < sum(counts[k] for k in withheld) < threshold:
            candidates = sorted((v, k) for k, v in counts.items() if k not in withheld and v > 0)
            if not candidates:
                break
            _, key = candidates[0]
            withheld.add(key)
            cells[key] = Cell(None, "secondary")
    return cells


def suppress_overlapping(
    counts: dict[str, int],
    total: int,
    people_in: Callable[[frozenset[str]], int],
    threshold: int = THRESHOLD,
) -> dict[str, Cell]:
    """Cells of a breakdown in which one young person may be in several cells (each cell counts
    distinct people: spend by category, payee or month), published beside the number of distinct
    people in all and a sum of money that is the cells' sum.

    The money withheld is the total less the cells shown, so withheld cells go at least two
    together and until the distinct people across them (`people_in(keys)`: their counts overlap,
    so their sum says nothing) are not 1..threshold-1. Beside the total, those outside a cell are
    as good as published, so a cell that leaves 1..threshold-1 of the total outside it is withheld
    too (secondary).
    """
    cells = {k: Cell(v) for k, v in counts.items()}
    for key, value in counts.items():
        if is_small(value, threshold):
            cells[key] = Cell(None, "primary")
        elif is_small(total - value, threshold):
            cells[key] = Cell(None, "secondary")
    withheld = {k for k, cell in cells.items() if cell.suppressed}
    while withheld and (len(withheld) == 1 or is_small(people_in(frozenset(withheld)), threshold)):
        candidates = sorted((v, k) for k, v in counts.items() if k not in withheld and v > 0)
        if not candidates:
            break
        _, key = candidates[0]
        withheld.add(key)
        cells[key] = Cell(None, "secondary")
    return cells


def total_cell(total: int, threshold: int = THRESHOLD) -> Cell:
    return Cell(None, "primary") if is_small(total, threshold) else Cell(total)


def suppress_with_wholes(
    counts: dict[str, int],
    wholes: dict[str, int],
    total_whole: int | None,
    threshold: int = THRESHOLD,
) -> tuple[dict[str, Cell], Cell]:
    """Cells of a breakdown published with their total and each beside a whole (a cohort size):
    (the cells, the total's cell).

    The remainder (whole minus count: those not reached) is as good as published, so it is
    protected like a count: a cell whose remainder is 1..threshold-1 is withheld (secondary), and
    cells are withheld together until neither the withheld counts nor, where every one of them has
    a whole, the withheld remainders add up to 1..threshold-1, and no withheld cell is alone beside
    the total. The total is withheld when it, or its remainder against `total_whole`, is small, or
    when its withheld cells could not be protected any other way.
    """
    remainder = {k: wholes[k] - v for k, v in counts.items() if k in wholes and wholes[k] >= v}
    cells = {k: Cell(v) for k, v in counts.items()}
    for key, value in counts.items():
        if is_small(value, threshold):
            cells[key] = Cell(None, "primary")
        elif is_small(remainder.get(key, 0), threshold):
            cells[key] = Cell(None, "secondary")
    withheld = {k for k, cell in cells.items() if cell.suppressed}

    def leaks() -> bool:
        if not withheld:
            return False
        if len(withheld) == 1 or is_small(sum(counts[k] for k in withheld), threshold):
            return True
        known = all(k in remainder for k in withheld)
        return known and is_small(sum(remainder[k] for k in withheld), threshold)

    while leaks():
        candidates = sorted(
            (v, k)
            for k, v in counts.items()
            if k not in withheld and (v > 0 or remainder.get(k, 0) > 0)
        )
        if not candidates:
            break
        _, key = candidates[0]
        withheld.add(key)
        cells[key] = Cell(None, "secondary")
    total = sum(counts.values())
    if is_small(total, threshold):
        return cells, Cell(None, "primary")
    if (
        total_whole is not None
        and total_whole >= total
        and is_small(total_whole - total, threshold)
    ):
        return cells, Cell(None, "secondary")
    if leaks():
        return cells, Cell(None, "secondary")
    return cells, Cell(total)
