"""`phb budget ...`: the budget service's own commands."""

from __future__ import annotations

import json
import sys

import click

from services.budget.service_layer.verify import verify_ledger
from shared.config import database_url
from shared.db import Database


@click.group(help="The budget service: ledger checks.")
def group() -> None:
    pass


@group.command()
@click.option("--database-url", "url", default=None, help="Defaults to the budget database.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
def verify(url: str | None, as_json: bool) -> None:
    """Recompute every ledger invariant; exit 1 on any breach."""
    db = Database(url or database_url("budget"))
    try:
        with db.session() as session:
            report = verify_ledger(session)
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for name, count in report.checked.items():
            click.echo(f"  checked {count} {name}")
        for breach in report.breaches:
            click.echo(f"  BREACH {breach.invariant}: {breach.detail}", err=True)
        click.echo("ledger OK" if report.ok else f"ledger BROKEN: {len(report.breaches)} breaches")
    sys.exit(0 if report.ok else 1)


@group.command("expire-holds")
@click.option("--database-url", "url", default=None, help="Defaults to the budget database.")
def expire_holds(url: str | None) -> None:
    """Expire approvals unused for the scheme's hold_expiry_days, releasing their holds."""
    from services.budget.service_layer.requests import expire_stale_holds

    db = Database(url or database_url("budget"))
    try:
        expired = expire_stale_holds(db)
    finally:
        db.dispose()
    click.echo(f"expired {len(expired)} approvals")


@group.group("documents")
def documents() -> None:
    """Uploaded invoices, receipts and evidence."""


@documents.command("sweep")
@click.option("--database-url", "url", default=None, help="Defaults to the budget database.")
@click.option(
    "--older-than-minutes",
    "minutes",
    default=60,
    show_default=True,
    type=click.IntRange(min=1),
    help="Only bytes written at least this long ago (an upload in progress is younger).",
)
def sweep_documents(url: str | None, minutes: int) -> None:
    """Delete stored files that no document records (left when an upload failed twice over)."""
    from datetime import timedelta

    from services.budget.adapters.documents import document_store
    from services.budget.service_layer.documents import sweep
    from services.budget.settings import DocumentStorageSettings

    store = document_store(DocumentStorageSettings.from_env())
    db = Database(url or database_url("budget"))
    try:
        swept = sweep(db, store, older_than=timedelta(minutes=minutes))
    finally:
        db.dispose()
    for key in swept:
        click.echo(f"  deleted {key}")
    click.echo(f"swept {len(swept)} files with no record")
