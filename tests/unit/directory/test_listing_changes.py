"""Archiving and assuring a listing against an in-memory listing store: who may, If-Match, the
audit trail and the search index's event in the same change, and archiving only once."""

from __future__ import annotations

from datetime import date

import pytest

from services.directory.service_layer import listings
from services.directory.service_layer.commands import ArchiveListing, AssureListing
from shared.concurrency import etag
from shared.errors import Forbidden, NotFound, PreconditionFailed, PreconditionRequired
from shared.identity import Identity
from tests.unit.directory.fakes import FakeListingStore

PROVIDER = Identity(sub="provider-user-1", role="provider", provider_id="org-1")
OTHER_PROVIDER = Identity(sub="provider-user-2", role="provider", provider_id="org-2")
ADMIN = Identity(sub="admin-1", role="admin")


@pytest.fixture
def store() -> FakeListingStore:
    store = FakeListingStore()
    store.add("listing-1")
    return store


def archive(store: FakeListingStore, actor: Identity = PROVIDER, version: int | None = 1):
    if_match = None if version is None else etag("listing-1", version)
    return listings.archive(
        store, ArchiveListing(actor=actor, listing_id="listing-1", if_match=if_match)
    )


def test_a_provider_archives_its_own_listing_audited_and_announced_together(store):
    archived = archive(store)
    assert archived.archived_at is not None and archived.version == 2
    ((action, listing_id, by, fields),) = store.audit
    assert (action, listing_id, by, list(fields)) == (
        "archived",
        "listing-1",
        "provider-user-1",
        ["archived_at"],
    )
    assert store.outbox.events == [("listing.upserted", {"id": "listing-1", "version": 2})]


def test_archiving_again_with_the_new_version_changes_nothing(store):
    first = archive(store).archived_at
    again = archive(store, version=2)
    assert (again.archived_at, again.version) == (first, 2)
    assert (len(store.audit), len(store.outbox.events)) == (1, 1)


def test_another_providers_listing_is_forbidden_and_stays_as_it_was(store):
    with pytest.raises(Forbidden):
        archive(store, OTHER_PROVIDER)
    listing = store.rows["listing-1"]
    assert (listing.archived_at, listing.version, store.audit, store.outbox.events) == (
        None,
        1,
        [],
        [],
    )
    assert archive(store, ADMIN).archived_at is not None  # an admin may archive any


def test_a_stale_or_missing_if_match_is_refused_and_an_unknown_listing_not_found(store):
    with pytest.raises(PreconditionFailed):
        archive(store, version=7)
    with pytest.raises(PreconditionRequired):
        archive(store, version=None)
    with pytest.raises(NotFound):
        listings.archive(store, ArchiveListing(actor=ADMIN, listing_id="nope", if_match="*"))
    assert (store.rows["listing-1"].version, store.audit) == (1, [])


def test_assuring_moves_the_assured_date_to_today_and_names_the_assurer(store):
    cmd = AssureListing(actor=ADMIN, listing_id="listing-1", if_match=etag("listing-1", 1))
    assured = listings.assure(store, cmd)
    assert (assured.assured_date, assured.assurer, assured.version) == (
        date.today(),
        "admin-1",
        2,
    )
    ((action, _, by, fields),) = store.audit
    assert (action, by, sorted(fields)) == ("assured", "admin-1", ["assured_date", "assurer"])
    assert [topic for topic, _ in store.outbox.events] == ["listing.upserted"]
    with pytest.raises(PreconditionFailed):  # the version it read has changed
        listings.assure(store, cmd)
