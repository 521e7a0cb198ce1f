"""The `phb` command: run the suite, migrate, seed, mint development tokens, and each service's own commands."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import click

from services.budget.cli import group as budget_commands
from services.directory.cli import group as directory_commands
from services.gateway.cli import group as gateway_commands
from services.outcomes.cli import group as outcomes_commands
from shared.config import (
    DEFAULT_PORTS,
    SERVICES,
    BackupSettings,
    ProcessSettings,
    ServeSettings,
    database_url,
    signing_key,
    var_dir,
)

SEED_MARKER = ".seeded"


@click.group(help="PHB Suite: personal health budgets for care-experienced young people.")
def main() -> None:
    from shared import clock
    from shared.config import ClockSettings

    clock.configure(ClockSettings.from_env())  # commands that run use cases see the demo date


MIGRATED = (*SERVICES, "gateway")  # the gateway's own database holds web sessions


def migrate_all(services: tuple[str, ...] = MIGRATED) -> None:
    from services.components import package
    from shared.migrations import migration_lock, upgrade

    for service in services:
        url = database_url(service)
        with migration_lock(service, url):
            upgrade(package(service), url)
        click.echo(f"  {service}: migrated")


def seed_all() -> None:
    """Each service seeds its own database, in dependency order, and each seed is idempotent."""
    from services.components import seeder
    from shared.db import Database

    for service in SERVICES:
        seed = seeder(service)
        db = Database(database_url(service))
        try:
            summary = seed(db)
        finally:
            db.dispose()
        click.echo(f"  {service}: {summary}")
    (var_dir() / SEED_MARKER).write_text(time.strftime("%Y-%m-%dT%H:%M:%S"))


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(MIGRATED))
@click.option(
    "--check-heads", is_flag=True, help="Only check each service has one head; exit 1 if not."
)
def migrate(services: tuple[str, ...], check_heads: bool) -> None:
    """Apply each service's database migrations (all services and the gateway unless named).

    Production runs this once per release as its own job (compose's `migrate` service, the
    Kubernetes Job); an advisory lock makes a second migrator wait rather than race."""
    if check_heads:
        from services.components import package
        from shared.migrations import heads

        found = {s: heads(package(s)) for s in services or MIGRATED}
        for service, revisions in found.items():
            click.echo(f"  {service}: {len(revisions)} head(s) {', '.join(revisions)}")
        if any(len(revisions) != 1 for revisions in found.values()):
            raise click.ClickException("a service has more than one migration head: merge them")
        return
    migrate_all(services or MIGRATED)


@main.command()
def seed() -> None:
    """Add the fictional demo data (idempotent)."""
    seed_all()


@main.command()
@click.option(
    "--role",
    required=True,
    type=click.Choice(["advisor", "budget_holder", "finance", "provider", "admin", "commissioner"]),
)
@click.option("--sub", default=None, help="Subject (user id); defaults to a demo user of the role.")
@click.option("--provider-id", default=None, help="For a provider user: the organisation's id.")
@click.option("--ttl", default=8 * 3600, show_default=True, help="Lifetime in seconds.")
def token(role: str, sub: str | None, provider_id: str | None, ttl: int) -> None:
    """Print a development bearer token (embedded mode's dev issuer)."""
    from services.gateway.auth import dev_issuer
    from shared.identity import Identity

    identity = Identity(
        sub=sub or f"demo-{role.replace('_', '-')}", role=role, provider_id=provider_id
    )
    click.echo(dev_issuer().issue(identity, ttl_seconds=ttl))


@main.group()
def keys() -> None:
    """Internal identity keys."""


@keys.command("new")
def keys_new() -> None:
    """Print a new Ed25519 key pair for a service's INTERNAL_SIGNING_KEY and its public half."""
    from shared.internal_tokens import describe_new_key

    pair = describe_new_key()
    click.echo(pair["private"] + pair["public"], nl=False)


@main.command()
@click.option("--port", default=DEFAULT_PORTS["gateway"], show_default=True, help="Gateway port.")
@click.option("--seed/--no-seed", "do_seed", default=True, help="Seed demo data on first start.")
def up(port: int, do_seed: bool) -> None:
    """Start the gateway and the three services on localhost, in demo mode; Ctrl-C stops them."""
    from services.launcher import make_suite
    from shared.internal_tokens import demo_key

    if not signing_key("gateway"):
        for name in (*SERVICES, "gateway"):
            demo_key(var_dir(), name)  # each party's demo key, before any process needs it
    click.echo("Migrating databases...")
    migrate_all()
    if do_seed and not (var_dir() / SEED_MARKER).exists():
        click.echo("Seeding demo data (first start)...")
        seed_all()
    ports = {**DEFAULT_PORTS, "gateway": port}
    # Demo sign-in and the dev token issuer: only here.
    # One process per service and no `phb worker`: its web processes relay their events, on
    # PostgreSQL too (`auto` would leave that to a worker), unless PHB_INLINE_WORKERS says 0.
    inline = ProcessSettings.from_env("gateway").inline_workers
    extra = {"PHB_DEMO": "1", "PHB_INLINE_WORKERS": "1" if inline == "auto" else inline}
    suite = make_suite(var_dir(), ports=ports, extra_env=extra)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            stopping = True
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        suite.start_all()
        started = time.monotonic()
        suite.wait_ready()
        click.echo(f"\nPHB Suite is ready ({time.monotonic() - started:.1f}s):")
        click.echo(f"  web and API    {suite.gateway}/")
        click.echo(f"  health         {suite.gateway}/health")
        click.echo(f"  API docs       {suite.gateway}/docs")
        click.echo(f"  ORUK feed      {suite.gateway}/oruk/")
        for name in SERVICES:
            click.echo(f"  {name:<14} {suite.url(name)}  (internal)")
        click.echo(f"  logs           {suite.log_dir}")
        from services.gateway.auth import dev_issuer
        from shared.identity import Identity

        demo = dev_issuer().issue(Identity(sub="demo-advisor", role="advisor"))
        click.echo(f"\nDemo advisor token:\n  {demo}\n")
        links = var_dir() / "demo-links.txt"
        if links.exists():
            click.echo(links.read_text())
        click.echo("Press Ctrl-C to stop.")
        while True:
            for name, process in list(suite.processes.items()):
                if process.poll() is not None:
                    click.echo(
                        f"{name} stopped unexpectedly (exit {process.returncode}); restarting"
                    )
                    suite.start(name)
            time.sleep(1)
    except KeyboardInterrupt:
        click.echo("\nStopping...")
    finally:
        suite.stop_all()
        click.echo("Stopped.")


@main.command()
@click.argument("service", type=click.Choice([*SERVICES, "gateway"]))
@click.option("--workers", default=None, type=int, help="Default: $WEB_CONCURRENCY, else 1.")
@click.option("--threads", default=None, type=int, help="Default: $PHB_THREADS, else 8.")
@click.option(
    "--migrate/--no-migrate",
    "do_migrate",
    default=False,
    help="Migrate first (development only: production runs `phb migrate` as a job).",
)
def serve(service: str, workers: int | None, threads: int | None, do_migrate: bool) -> None:
    """Production: serve SERVICE on $PORT with $PHB_SERVER (granian or gunicorn; JSON logs,
    multiprocess /metrics).

    It never migrates unless told to; relays and schedules run in `phb worker SERVICE` on
    PostgreSQL (see PHB_INLINE_WORKERS). The gateway first checks its security configuration
    and refuses, with one line saying why, to start without OIDC sign-in (or PHB_DEMO=1), a
    required secret, or with a known default."""
    if service == "gateway":
        from services.gateway.settings import GatewaySettings

        problems = GatewaySettings.load().problems()
        if problems:
            raise click.ClickException(f"gateway refused to start: {problems[0]}")
    if do_migrate:
        migrate_all((service,))
    settings = ServeSettings.from_env(service)
    if settings.server == "granian":
        from shared.granian_serve import granian_argv

        argv = granian_argv(settings, workers, threads)
    elif settings.server == "gunicorn":
        settings.multiprocess_dir.mkdir(parents=True, exist_ok=True)
        argv = gunicorn_argv(settings, workers, threads)
    else:
        raise click.ClickException(
            f"PHB_SERVER must be granian or gunicorn, not {settings.server!r}"
        )
    # This Python's server, whether or not its bin/ is on PATH.
    os.execve(argv[0], argv, settings.environment())


def gunicorn_argv(
    settings: ServeSettings, workers: int | None = None, threads: int | None = None
) -> list[str]:
    """The gunicorn command line for `settings.service` (run it with `settings.environment()`)."""
    import gunicorn

    # gunicorn 27's control socket sits at one path per user: replicas on a host would share it.
    extra = ["--no-control-socket"] if gunicorn.version_info >= (27,) else []
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        "python:shared.gunicorn_conf",
        "--bind",
        f"{settings.bind_host}:{settings.port}",
        "--workers",
        str(workers or settings.workers),
        "--threads",
        str(threads or settings.threads),
        "--worker-class",
        "gthread",
        *extra,
        f"services.components:gunicorn_app({settings.service!r})",
    ]


@main.command()
@click.argument("service", type=click.Choice(SERVICES))
@click.option("--once", is_flag=True, help="Run every job once, drain the outbox, then exit.")
def worker(service: str, once: bool) -> None:
    """Run SERVICE's outbox relays and scheduled jobs, apart from its web processes.

    Run as many replicas as you like: one leads (a PostgreSQL advisory lock), the others wait to
    take over. Metrics on $PHB_METRICS_PORT (default 9100)."""
    from services.worker import run_worker

    raise SystemExit(run_worker(service, once=once))


@main.command()
@click.option(
    "--to",
    "destination",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to write into (default: $PHB_BACKUP_DIR, else var/backups).",
)
@click.argument("services", nargs=-1, type=click.Choice(MIGRATED))
def backup(destination: Path | None, services: tuple[str, ...]) -> None:
    """Back up every database, the gateway's too (pg_dump, or the SQLite files), with a manifest."""
    from services.backup import BackupError
    from services.backup import backup as run

    settings = BackupSettings.from_env(MIGRATED)
    try:
        made = run(destination or settings.folder, services or MIGRATED, settings)
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"backed up to {made}")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--service", "services", multiple=True, type=click.Choice(MIGRATED))
def restore(folder: Path, services: tuple[str, ...]) -> None:
    """Restore a `phb backup` folder into empty databases (then run `phb budget verify`)."""
    from services.backup import BackupError
    from services.backup import restore as run

    try:
        done = run(folder, services or None, BackupSettings.from_env(MIGRATED))
    except BackupError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"restored {', '.join(done)} from {folder}")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("revision")
@click.argument("service", type=click.Choice(SERVICES))
@click.option("-m", "--message", required=True)
def db_revision(service: str, message: str) -> None:
    """Write a migration from the difference between SERVICE's models and its database."""
    from services.components import package
    from shared.migrations import revision

    scratch = Path(var_dir()) / f"revision-{service}-{os.getpid()}.db"
    try:
        revision(package(service), f"sqlite:///{scratch}", message)
    finally:
        scratch.unlink(missing_ok=True)


main.add_command(budget_commands, "budget")
main.add_command(directory_commands, "directory")
main.add_command(outcomes_commands, "outcomes")
main.add_command(gateway_commands, "gateway")
