"""Where a full rebuild reads listings from: the directory's own builder of SearchDocuments."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

from services.directory.domain.search import SearchDocument
from shared.db import Database

# The directory's service layer provides `all_search_documents(session)`: every listing (any
# status) as the document its outbox events carry.
BUILDER_MODULE = "services.directory.service_layer.search_documents"
BUILDER_NAME = "all_search_documents"


def document_builder() -> Callable[[Any], Iterable[SearchDocument]] | None:
    try:
        module = importlib.import_module(BUILDER_MODULE)
    except ModuleNotFoundError as err:
        if err.name != BUILDER_MODULE:
            raise
        return None
    return getattr(module, BUILDER_NAME, None)


def database_documents(db: Database) -> list[SearchDocument] | None:
    """Every listing in the database as a search document; None if the directory can't say yet."""
    builder = document_builder()
    if builder is None:
        return None
    with db.session() as session:
        return list(builder(session))
