"""A session keeps what it loaded until it is dropped (docs/operations.md, "A native crash in the
directory"): a listing and its provider refer to each other, so a listing the caller lets go of
is garbage only the collector frees, and on CPython 3.11 a collection that frees it while the
session stores on its state frees memory twice."""

from __future__ import annotations

import gc
import weakref

from services.directory.adapters.orm import Service
from services.directory.seed import seed
from services.directory.service_layer import documents as docs
from tests.integration.directory.test_database import migrated


def test_a_listing_let_go_of_lives_until_its_session_ends_and_no_longer(database_url):
    db = migrated(database_url)
    try:
        seed(db)
        with db.session() as session:
            service = session.scalars(docs.listing_query().order_by(Service.id).limit(1)).one()
            assert service in service.organization.services  # a cycle
            listing = weakref.ref(service)
            del service
            gc.collect()
            assert listing() is not None
        del session
        gc.collect()
        gc.collect()
        assert listing() is None
    finally:
        db.dispose()
