"""A table's indexes as a database made them and as the models declare them: (columns, the partial
index's predicate or None) by name, comparable across SQLite and PostgreSQL (alembic's
compare_metadata does not compare predicates)."""

from __future__ import annotations

import re

from sqlalchemy import Table, text

from shared.db import Database

Shape = tuple[list[str], str | None]


def _shape(definition: str) -> Shape:
    match = re.search(r"\(([^()]*)\)(?: WHERE (.*))?$", definition)
    assert match, definition
    columns = [c.strip() for c in match.group(1).split(",")]
    predicate = match.group(2)
    return columns, predicate.strip("()").strip() if predicate else None


def definitions(db: Database, table: str) -> dict[str, str]:
    """Each index of `table` but the primary key's: its CREATE INDEX as the database keeps it,
    spaces and quotes normalised."""
    if db.sqlite:
        sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
    else:
        sql = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"
    with db.engine.connect() as connection:
        rows = connection.execute(text(sql), {"t": table}).all()
    return {
        name: re.sub(r"\s+", " ", definition.replace('"', "")).replace("public.", "")
        for name, definition in rows
        if definition and not name.startswith(("pk_", "uq_", "sqlite_autoindex"))
    }


def made(db: Database, table: str) -> dict[str, Shape]:
    """The indexes of `table` the database has (not its primary key's nor its unique constraints'),
    as `declared` gives them."""
    return {name: _shape(sql) for name, sql in definitions(db, table).items()}


def declared(table: Table, dialect: str) -> dict[str, Shape]:
    """The indexes the model of `table` declares (not its unique constraints)."""
    out = {}
    for index in table.indexes:
        where = index.dialect_options[dialect]["where"]
        predicate = None if where is None else str(where).replace(f"{table.name}.", "")
        out[str(index.name)] = ([c.name for c in index.columns], predicate)
    return out
