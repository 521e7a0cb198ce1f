"""`phb directory ...`: the directory's own commands."""

from __future__ import annotations

import click

from shared.config import database_url


@click.group(help="The directory: listings and their search index.")
def group() -> None:
    pass


@group.command()
@click.option(
    "--backend",
    "backend_name",
    default=None,
    help="tantivy or meilisearch (default: $SEARCH_BACKEND).",
)
def reindex(backend_name: str | None) -> None:
    """Rebuild the search index from the database, without taking search offline."""
    from services.directory.search.config import make_backend
    from services.directory.search.reindex import reindex as rebuild
    from services.directory.service_layer.search_documents import every_listing_document
    from services.directory.service_layer.unit_of_work import SqlUnitOfWork
    from services.directory.settings import SearchSettings
    from shared.db import Database

    db = Database(database_url("directory"))
    backend = make_backend(SearchSettings.from_env(), backend_name)
    try:
        documents = every_listing_document(SqlUnitOfWork(db))
        with click.progressbar(length=len(documents), label="Indexing listings") as bar:
            summary = rebuild(backend, documents, progress=bar.update)
        click.echo(f"{backend.name}: {summary}; the index holds {backend.count()} listings")
    finally:
        backend.close()
        db.dispose()


@group.command("export")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), default="-", help="File (default: stdout)."
)
def export_command(output: str) -> None:
    """Every provider and listing as NDJSON (one record a line), for `phb directory import`."""
    from services.directory.service_layer.transfer import export_lines
    from services.directory.service_layer.unit_of_work import SqlUnitOfWork
    from shared.db import Database

    db = Database(database_url("directory"))
    try:
        with click.open_file(output, "w") as out:
            for line in export_lines(SqlUnitOfWork(db)):
                out.write(line + "\n")
    finally:
        db.dispose()


@group.command("import")
@click.argument("source")
def import_command(source: str) -> None:
    """Upsert records by id from a file or URL: ORUK/HSDS paged JSON, a JSON list or NDJSON.

    Each record lands whole or not at all; every rejected record is listed with its reason."""
    from services.directory.adapters.geocode import OfflineGeocoder
    from services.directory.service_layer.transfer import import_records, read_source
    from services.directory.service_layer.unit_of_work import SqlUnitOfWork
    from shared.db import Database
    from shared.identity import Identity

    records = read_source(source)
    db = Database(database_url("directory"))
    try:
        with click.progressbar(length=len(records), label="Importing records") as bar:
            summary = import_records(
                SqlUnitOfWork(db),
                OfflineGeocoder(),
                Identity(sub="phb-cli", role="admin"),
                records,
                bar.update,
            )
    finally:
        db.dispose()
    click.echo(
        f"{summary.created} created, {summary.updated} updated, {len(summary.rejected)} rejected"
    )
    for rejected in summary.rejected:
        click.echo(
            f"  record {rejected['line']} ({rejected['id'] or 'no id'}): {rejected['reason']}"
        )
    if summary.rejected:
        raise SystemExit(1)
