"""SQL pieces the reports share, the same on SQLite and PostgreSQL: whole days between two dates,
and a median computed by the database with window functions (no rows loaded into Python)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Integer, func, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.selectable import Subquery


class days_between(FunctionElement[int]):  # noqa: N801 (used like a SQL function)
    """Whole days from `earlier` to `later` (a date or a timestamp, taken as its UTC day)."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_default(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday(date({compiler.process(later, **kw)})) - "
        f"julianday(date({compiler.process(earlier, **kw)})) AS INTEGER)"
    )


@compiles(days_between, "postgresql")
def _days_between_postgresql(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"(CAST(({compiler.process(later, **kw)}) AT TIME ZONE 'UTC' AS DATE) - "
        f"CAST({compiler.process(earlier, **kw)} AS DATE))"
        if _is_timestamp(later)
        else f"(CAST({compiler.process(later, **kw)} AS DATE) - "
        f"CAST({compiler.process(earlier, **kw)} AS DATE))"
    )


def _is_timestamp(expr: ColumnElement[Any]) -> bool:
    return getattr(getattr(expr, "type", None), "timezone", False) is True


def median_and_count(session: Session, values: Subquery, column: str) -> tuple[float | None, int]:
    """The median of one numeric column of `values`, and how many rows it has, in one query.

    Rows are numbered in order by a window function; the median is the average of the middle one
    or two, picked by their row number, so only two numbers come back.
    """
    value = values.c[column]
    ranked = select(
        value.label("v"),
        func.row_number().over(order_by=value).label("rn"),
        func.count().over().label("n"),
    ).subquery()
    row = session.execute(
        select(func.avg(ranked.c.v), func.max(ranked.c.n)).where(
            ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
        )
    ).one()
    count = int(row[1] or 0)
    return (float(row[0]) if count else None), count


def for_reports(session: Session, *, work_mem: str | None = None) -> None:
    """A report's read transaction on PostgreSQL: no JIT compilation. A report's estimated cost
    counts every correlated EXISTS as if run for every row (they run for a few), which puts it
    over `jit_above_cost`; compiling the plan then took more than half of a commissioners' report
    (EXPLAIN ANALYZE at 200,000 young people: 3.9 s of JIT in 7.2 s) for queries that run once.

    `work_mem` (e.g. "32MB"), for this transaction only: a report whose sorts or hashes spill to
    disk at the server's default may ask for more (each caller says why)."""
    if work_mem is not None and not _MEMORY.fullmatch(work_mem):
        raise ValueError(f"work_mem {work_mem!r}: a whole number of kB or MB, e.g. '32MB'")
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SET LOCAL jit = off"))
    # psycopg prepares a statement on the server after a few runs, and PostgreSQL may then plan it
    # once for any parameters (a generic plan): for a report, whose best plan depends on the
    # period and the scheme, that chose nested loops that ran for minutes (a year's cost per
    # improvement for one scheme, the 6th run of the same statement). Planning takes a
    # millisecond; a report always plans for its own parameters.
    session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    if work_mem is not None:
        session.execute(text(f"SET LOCAL work_mem = '{work_mem}'"))


_MEMORY = re.compile(r"[1-9][0-9]{0,5}(kB|MB)")
