"""CSV that a spreadsheet opens as data: no cell of ours is ever run as a formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

# Spreadsheets read a cell starting with one of these as a formula (or strip the tab/CR and then do).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]{1,30}(\.[0-9]{1,30})?")


class _Writable(Protocol):
    def write(self, s: str, /) -> int: ...


def safe_cell(value: Any) -> Any:
    """The cell as written: text that would start a formula gets a leading apostrophe.

    Numbers stay numbers, and so does text that is nothing but a number ("-12.5"): a
    spreadsheet reads that as the number it is, never as a formula.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


class SafeCsvWriter:
    """`csv.writer` whose every row goes through `safe_cell`."""

    def __init__(self, out: _Writable, **options: Any):
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: _Writable, **options: Any) -> SafeCsvWriter:
    return SafeCsvWriter(out, **options)
