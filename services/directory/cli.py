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
    from services.directory.search.source import database_documents
    from shared.db import Database

    db = Database(database_url("directory"))
    backend = make_backend(backend_name)
    try:
        documents = database_documents(db)
        if documents is None:
            raise click.ClickException("This directory can't list its listings for search yet.")
        with click.progressbar(length=len(documents), label="Indexing listings") as bar:
            summary = rebuild(backend, documents, progress=bar.update)
        click.echo(f"{backend.name}: {summary}; the index holds {backend.count()} listings")
    finally:
        backend.close()
        db.dispose()
