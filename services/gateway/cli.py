"""`phb gateway ...`: the admin-managed map from provider users to their organisations."""

from __future__ import annotations

import click

from services.gateway.oidc import link_provider_user, list_provider_users, unlink_provider_user
from shared.config import database_url
from shared.db import Database


@click.group(help="The gateway's own records (provider users' organisations).")
def group() -> None:
    pass


@group.group("provider-user")
def provider_user() -> None:
    """Which organisation a provider user acts for, when the identity provider does not say."""


def _db() -> Database:
    from services import gateway
    from shared.migrations import upgrade

    url = database_url("gateway")
    upgrade(gateway, url)
    return Database(url)


@provider_user.command("link")
@click.argument("subject")
@click.argument("provider_id")
def link(subject: str, provider_id: str) -> None:
    """Link the account SUBJECT (the token's `sub`) to the organisation PROVIDER_ID."""
    db = _db()
    try:
        link_provider_user(db, subject, provider_id)
    except ValueError as err:
        raise click.BadParameter("PROVIDER_ID must be an organisation's id (a UUID)") from err
    finally:
        db.dispose()
    click.echo(f"{subject} -> {provider_id}")


@provider_user.command("unlink")
@click.argument("subject")
def unlink(subject: str) -> None:
    db = _db()
    try:
        found = unlink_provider_user(db, subject)
    finally:
        db.dispose()
    if not found:
        raise click.ClickException(f"{subject} is not linked")
    click.echo(f"{subject} unlinked")


@provider_user.command("list")
def listing() -> None:
    db = _db()
    try:
        for subject, provider_id in list_provider_users(db):
            click.echo(f"{subject}\t{provider_id}")
    finally:
        db.dispose()
