"""`phb outcomes ...`: the evaluation report, event replay and the demo feedback links."""

from __future__ import annotations

import json
from pathlib import Path

import click

from services.outcomes.domain.instruments import Catalogue
from services.outcomes.settings import OutcomesSettings
from shared.config import database_url
from shared.db import Database


@click.group(help="The outcomes service: evaluation report, event replay, demo links.")
def group() -> None:
    pass


def _db(url: str | None) -> Database:
    return Database(url or database_url("outcomes"))


@group.command()
@click.option("--database-url", "url", default=None, help="Defaults to the outcomes database.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "html"]),
    default=None,
    help="Defaults to the --out file's extension, else json.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def report(url: str | None, fmt: str | None, out: Path | None) -> None:
    """Write the evaluation report (small numbers withheld) to --out, or print it."""
    from services.outcomes.service_layer import reports
    from services.outcomes.service_layer.report_html import to_html
    from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork

    fmt = fmt or (out.suffix.lstrip(".") if out and out.suffix in (".csv", ".html") else "json")
    db = _db(url)
    try:
        data = reports.build_report(SqlUnitOfWork(db), _instruments())
    finally:
        db.dispose()
    text = {
        "json": lambda: json.dumps(data, indent=2, default=str),
        "csv": lambda: reports.to_csv(data),
        "html": lambda: to_html(data),
    }[fmt]()
    if out:
        out.write_text(text)
        pairs = data["population"]["matched_pairs"]
        click.echo(f"wrote {out} ({fmt}, {pairs.get('count', '[c]')} matched pairs)")
    else:
        click.echo(text)


def _instruments() -> Catalogue:
    from services.outcomes.adapters.instrument_files import load_catalogue

    return load_catalogue(OutcomesSettings.from_env().instrument_dir)


@group.command()
@click.option("--database-url", "url", default=None, help="Defaults to the outcomes database.")
@click.option("--all", "everything", is_flag=True, help="Re-apply every kept event, not only held.")
def replay(url: str | None, everything: bool) -> None:
    """Re-apply kept events that were held (e.g. they arrived before the person's enrolment)."""
    from services.outcomes.service_layer.commands import ReplayEvents
    from services.outcomes.service_layer.events import replay as run
    from services.outcomes.service_layer.unit_of_work import SqlUnitOfWork

    db = _db(url)
    try:
        result = run(ReplayEvents(everything=everything), SqlUnitOfWork(db), _instruments())
    finally:
        db.dispose()
    click.echo(f"re-applied {result['reapplied']}, still held {result['still_held']}")


@group.command("demo-links")
@click.option("--database-url", "url", default=None, help="Defaults to the outcomes database.")
def demo_links(url: str | None) -> None:
    """Issue the demo feedback links again (demo data only) and print them."""
    from services.outcomes.seed import write_demo_links

    db = _db(url)
    try:
        for line in write_demo_links(db, OutcomesSettings.from_env().link_days):
            click.echo(line)
    finally:
        db.dispose()
