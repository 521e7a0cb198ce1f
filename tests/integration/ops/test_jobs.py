"""The workers' scheduled jobs on SQLite and PostgreSQL, and when they fall due."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import pytest
from sqlalchemy import select

from services.components import app_factory
from services.worker import Job, Worker
from shared.config import ProcessSettings, WorkerSettings
from shared.db import Database
from shared.metrics import JOB_RUNS, LEDGER_VERIFY_OK
from shared.outbox import add_event, utcnow
from shared.registry import service_core
from tests.support import migrate


def make_app(service: str, database_url: str, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv(f"{service.upper()}_DATABASE_URL", database_url)
    migrate(service, database_url)
    return app_factory(service)()


def test_unanswered_checkins_close_after_the_limit_and_answered_ones_stay(
    database_url, tmp_path, monkeypatch
):
    from services.outcomes.adapters.orm import CheckIn, Person
    from services.outcomes.jobs import close_unanswered

    app = make_app("outcomes", database_url, tmp_path, monkeypatch)
    db = service_core(app).db
    today = date(2026, 12, 1)
    person = str(uuid.uuid4())

    def checkin(days_ago: int, status: str, week: int) -> str:
        cid = str(uuid.uuid4())
        s.add(
            CheckIn(
                id=cid,
                person_id=person,
                kind="follow_up",
                week=week,
                activity_id="a",
                instruments=[],
                due_on=today - timedelta(days=days_ago),
                status=status,
                created_at=utcnow(),
            )
        )
        return cid

    with db.write() as s:
        s.add(Person(id=person, scheme_id="s", advisor_sub="adv"))
        s.flush()
        stale = checkin(29, "open", 6)
        recent = checkin(27, "open", 12)
        answered = checkin(60, "answered", 18)
    assert close_unanswered(app, after_days=28, today=today) == 1
    with db.session() as s:
        status = dict(s.execute(select(CheckIn.id, CheckIn.status)).all())
    assert status == {stale: "closed", recent: "open", answered: "answered"}
    assert close_unanswered(app, after_days=28, today=today) == 0  # closing is done once
    db.dispose()


def test_delivered_events_and_inbox_ids_are_pruned_after_the_retention(
    database_url, tmp_path, monkeypatch
):
    from services.budget.adapters.orm import OutboxEvent
    from services.worker import prune_outbox_job

    app = make_app("budget", database_url, tmp_path, monkeypatch)
    db = service_core(app).db
    with db.write() as s:
        old, fresh, pending = (
            add_event(s, OutboxEvent, "outcomes", "t", {"n": n}) for n in range(3)
        )
    with db.write() as s:
        for event_id, delivered in ((old, utcnow() - timedelta(days=8)), (fresh, utcnow())):
            s.execute(
                OutboxEvent.__table__.update()
                .where(OutboxEvent.event_id == event_id)
                .values(delivered_at=delivered)
            )
    assert prune_outbox_job(app, retention=timedelta(days=7)) == 1
    with db.session() as s:
        left = set(s.scalars(select(OutboxEvent.event_id)))
    assert left == {fresh, pending}
    db.dispose()


def test_inbox_ids_are_forgotten_after_the_retention(database_url, tmp_path, monkeypatch):
    from services.outcomes.adapters.orm import InboxEvent
    from services.outcomes.jobs import prune

    app = make_app("outcomes", database_url, tmp_path, monkeypatch)
    db = service_core(app).db
    with db.write() as s:
        s.add(InboxEvent(event_id="old", topic="t", received_at=utcnow() - timedelta(days=9)))
        s.add(InboxEvent(event_id="new", topic="t", received_at=utcnow()))
    assert prune(app, retention=timedelta(days=7)) == 1
    with db.session() as s:
        assert set(s.scalars(select(InboxEvent.event_id))) == {"new"}
    db.dispose()


def test_the_nightly_verify_records_a_clean_ledger_in_the_metrics(
    database_url, tmp_path, monkeypatch
):
    from services.budget.jobs import verify

    app = make_app("budget", database_url, tmp_path, monkeypatch)
    LEDGER_VERIFY_OK.set(0)
    assert verify(app) == 0
    assert LEDGER_VERIFY_OK._value.get() == 1
    service_core(app).db.dispose()


def test_a_failing_job_is_counted_and_the_others_still_run(tmp_path):
    ran = []

    def broken(_app):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    worker = Worker.__new__(Worker)
    worker.service = "budget"
    worker.app = None
    worker.jobs = [
        Job("broken", broken, every=60),
        Job("fine", lambda _a: ran.append(1) or 2, every=60),
    ]
    import threading

    worker.stopping = threading.Event()
    before = JOB_RUNS.labels("budget", "broken", "error")._value.get()
    worker.run_due_jobs(now=0)
    assert ran == [1]
    assert JOB_RUNS.labels("budget", "broken", "error")._value.get() == before + 1
    assert all(job.next_due > 0 for job in worker.jobs)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 12, 1, 1, 0, tzinfo=UTC), datetime(2026, 12, 1, 2, 30, tzinfo=UTC)),
        (datetime(2026, 12, 1, 2, 30, tzinfo=UTC), datetime(2026, 12, 2, 2, 30, tzinfo=UTC)),
        (datetime(2026, 12, 1, 23, 0, tzinfo=UTC), datetime(2026, 12, 2, 2, 30, tzinfo=UTC)),
    ],
)
def test_a_daily_job_falls_due_at_its_time_next(now, expected):
    job = Job("verify-ledger", lambda _a: 0, at=clock(2, 30))
    job.schedule_next(now.timestamp())
    assert job.next_due == expected.timestamp()


def test_the_due_diligence_reminder_names_each_provider_needing_renewal(
    database_url, tmp_path, monkeypatch, caplog
):
    from services.directory.jobs import remind_due_diligence
    from services.directory.registry import directory_services
    from services.directory.service_layer import providers
    from services.directory.service_layer.commands import AddProvider, RecordCheck
    from shared.identity import Identity
    from shared.metrics import DUE_DILIGENCE_EXPIRING

    app = make_app("directory", database_url, tmp_path, monkeypatch)
    uow = directory_services(app).uow
    admin = Identity(sub="admin-jobs", role="admin")
    soon = date.today() + timedelta(days=10)
    later = date.today() + timedelta(days=300)
    made = {}
    for name, expiry in (("Renewing Soon Ltd", soon), ("Checked Till Later Ltd", later)):
        provider = providers.add_provider(AddProvider(actor=admin, values={"name": name}), uow)
        for kind in ("insurance", "safeguarding", "dbs"):
            check = RecordCheck(
                actor=admin, provider_id=provider["id"], kind=kind, expires_on=expiry
            )
            providers.add_check(check, uow)
        made[name] = provider["id"]
    never = AddProvider(actor=admin, values={"name": "Never Checked Ltd"})
    unchecked = providers.add_provider(never, uow)["id"]

    with caplog.at_level("WARNING", logger="services.directory.jobs"):
        assert remind_due_diligence(app, within=30) == 2
    named = {r.fields["provider_id"] for r in caplog.records}  # type: ignore[attr-defined]
    assert named == {made["Renewing Soon Ltd"], unchecked}
    assert DUE_DILIGENCE_EXPIRING._value.get() == 2
    service_core(app).db.dispose()


@pytest.mark.parametrize(
    ("service", "url", "search", "relays"),
    [
        ("budget", "postgresql://db.invalid/phb_budget", "meilisearch", True),
        ("directory", "postgresql://db.invalid/phb_directory", "meilisearch", True),
        # The web processes relay to their own local index: a worker must not take events away.
        ("directory", "postgresql://db.invalid/phb_directory", "tantivy", False),
        ("budget", "sqlite:///phb.db", "tantivy", False),  # embedded mode: one process relays
    ],
)
def test_a_worker_relays_only_where_the_web_processes_do_not(
    monkeypatch, tmp_path, service, url, search, relays
):
    from flask import Flask

    from shared.config import ServiceSettings
    from shared.registry import ServiceCore, install_core

    monkeypatch.delenv("PHB_INLINE_WORKERS", raising=False)
    monkeypatch.setenv("SEARCH_BACKEND", search)
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    db = Database(url)
    try:
        app = Flask(__name__)
        install_core(app, ServiceCore(settings=ServiceSettings.from_env(service), db=db))
        worker = Worker(
            service,
            app,
            [],
            process=ProcessSettings.from_env(service),
            settings=WorkerSettings(),
        )
        assert worker.relays is relays
    finally:
        db.dispose()
