"""What a full rebuild of the search index reads: every listing as the document its events carry.
The app and `phb directory reindex` pass this builder to the search code at start-up."""

from __future__ import annotations

from services.directory.domain.search import SearchDocument
from services.directory.service_layer.documents import all_search_documents
from services.directory.service_layer.unit_of_work import UnitOfWork


def every_listing_document(uow: UnitOfWork) -> list[SearchDocument]:
    with uow.read() as session:
        return all_search_documents(session)
