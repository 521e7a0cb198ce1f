"""The key's answer stored by the approval's own statement (PostgreSQL), made before it from the
approval's read: the same text as `Idempotency.remember` stores, replayed byte for byte; a request
changed between the read and the change is answered, and its answer stored, as it was changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from services.budget.adapters import approval
from services.budget.adapters.approval import ApprovedRequest
from services.budget.service_layer import approval_write
from services.budget.service_layer.idempotency import Idempotency
from shared.internal_tokens import LEEWAY_SECONDS
from shared.replay import DatabaseReplayGuard
from tests.integration.budget.helpers import migrated
from tests.integration.budget.test_idempotency import (
    _keyed_approval,
    _statements,
    as_json,
    submitted_request,
)
from tests.support import postgres_database, require_postgres


def _stored(db, key_name):  # type: ignore[no-untyped-def]
    """The key's stored answer as the database keeps it (its text), with its state and status."""
    with db.session() as session:
        return session.execute(
            text(
                "SELECT state, status_code, CAST(response AS TEXT) FROM idempotency_keys"
                " WHERE key = :key"
            ),
            {"key": f"test|{key_name}"},
        ).one()


def _as_remembered(db, key_name, body):  # type: ignore[no-untyped-def]
    """The same answer stored again by `Idempotency.remember` (the way every other write stores
    its answer), and read back as `_stored` reads it."""
    key = Idempotency.for_call(key_name, "test", b"{}", dump=as_json)
    db.run_write(lambda session: key.remember(session, 200, body))
    return _stored(db, key_name)


def test_the_answer_stored_with_the_change_is_the_answer_remember_stores(database_url):
    db = migrated(database_url)
    guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
    try:
        request_id = submitted_request(db)
        seen, stop = _statements(db)
        try:
            outcome = _keyed_approval(db, guard, uuid.uuid4().hex, request_id, "k-one")
        finally:
            stop()
        assert (outcome.status, outcome.replayed, outcome.body["state"]) == (200, False, "approved")
        written = [" ".join(s.split()) for s in seen if not s.startswith("DELETE")]
        if not db.sqlite:  # the claim with the read; the change with all it writes and the answer
            assert len(written) == 2 and "answered AS (UPDATE idempotency_keys" in written[1]
        stored = _stored(db, "k-one")
        assert stored[:2] == ("done", 200)
        assert _as_remembered(db, "k-one", outcome.body) == stored  # byte for byte
        again = _keyed_approval(db, guard, uuid.uuid4().hex, request_id, "k-one")
        assert (again.status, again.replayed, again.body) == (200, True, outcome.body)
    finally:
        db.dispose()


@pytest.fixture
def postgresql_url():  # type: ignore[no-untyped-def]
    """An empty PostgreSQL database (SQLite's approval stores its answer apart, always)."""
    require_postgres()
    with postgres_database() as url:
        yield url


@pytest.mark.postgres
def test_a_request_changed_after_the_read_is_answered_as_changed_and_that_answer_kept(
    postgresql_url, monkeypatch
):  # type: ignore[no-untyped-def]
    db = migrated(postgresql_url)
    guard = DatabaseReplayGuard(db, leeway_seconds=LEEWAY_SECONDS)
    other = create_engine(db.url)
    real = approval_write.in_one
    try:
        request_id = submitted_request(db)

        def changed_meanwhile(session, *args, **kwargs):  # type: ignore[no-untyped-def]
            with other.begin() as connection:  # committed after the read, before the change
                connection.execute(
                    text("UPDATE purchase_requests SET item = 'Renamed meanwhile' WHERE id = :id"),
                    {"id": request_id},
                )
            return real(session, *args, **kwargs)

        monkeypatch.setattr(approval_write, "in_one", changed_meanwhile)
        seen, stop = _statements(db)
        try:
            outcome = _keyed_approval(db, guard, uuid.uuid4().hex, request_id, "k-two")
        finally:
            stop()
        monkeypatch.setattr(approval_write, "in_one", real)
        assert outcome.body["item"] == "Renamed meanwhile"
        assert outcome.body["state"] == "approved"
        written = [" ".join(s.split()) for s in seen if not s.startswith("DELETE")]
        # the guess's answer stored with the change, then the answer as changed stored over it
        assert len(written) == 3 and written[2].startswith("UPDATE idempotency_keys")
        stored = _stored(db, "k-two")
        assert '"item": "Renamed meanwhile"' in stored[2]
        assert _as_remembered(db, "k-two", outcome.body) == stored
        again = _keyed_approval(db, guard, uuid.uuid4().hex, request_id, "k-two")
        assert (again.replayed, again.body) == (True, outcome.body)
    finally:
        other.dispose()
        db.dispose()


def _request(**changes) -> ApprovedRequest:  # type: ignore[no-untyped-def]
    at = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    fields = dict.fromkeys(ApprovedRequest._fields)
    fields.update(
        id="r",
        provider_verified=True,
        amount_pence=100,
        created_at=at,
        updated_at=at,
        approved_at=at,
        approved_before=False,
    )
    fields.update(changes)
    return ApprovedRequest(**fields)


def test_settled_takes_the_guess_only_when_every_column_is_the_same_to_the_letter():
    guess = _request()
    same = approval.settled(_request(approved_before=True), guess)
    assert same is not None and same.approved_before is True and same[:-1] == guess[:-1]
    assert approval.settled(_request(amount_pence=101), guess) is None
    assert approval.settled(_request(provider_verified=1), guess) is None  # 1 == True, not same
    assert approval.settled(_request(amount_pence=100.0), guess) is None
    london = timezone(timedelta(hours=1))
    moved = guess.approved_at.astimezone(london)  # the same instant at another offset
    assert moved == guess.approved_at
    assert approval.settled(_request(approved_at=moved), guess) is None


def test_the_guess_comes_in_the_zone_the_read_came_in():
    zone = timezone(timedelta(hours=1))
    created = datetime(2026, 6, 1, 9, 0, tzinfo=zone)
    read = (None,) * (len(approval.ApprovalRead._fields) + len(approval.SchemeTerms._fields))
    now = [None] * (len(ApprovedRequest._fields) - 1)
    now[ApprovedRequest._fields.index("id")] = "r"
    now[ApprovedRequest._fields.index("created_at")] = created
    at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    guess = approval.predicted((*read, *now), None, "approved", at=at, by_sub="bh")
    assert guess is not None
    assert guess.approved_at == at and guess.approved_at.utcoffset() == timedelta(hours=1)
    assert guess.updated_at is guess.approved_at and guess.state == "approved"
    naive = datetime(2026, 6, 1, 12, 0)
    assert approval.predicted((*read, *now), None, "approved", at=naive, by_sub="bh") is None
