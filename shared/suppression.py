"""Small-number suppression: no count of 1-7 leaves the service, nor any cell that would reveal one."""

from __future__ import annotations

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


def total_cell(total: int, threshold: int = THRESHOLD) -> Cell:
    return Cell(None, "primary") if is_small(total, threshold) else Cell(total)
