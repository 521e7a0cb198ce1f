"""Applying the directory's outbox events (destination "search") to the index."""

from __future__ import annotations

from services.directory.domain.search import SearchDocument
from services.directory.search.backend import SearchBackend
from shared.outbox import Message

DESTINATION = "search"
UPSERTED, DELETED = "listing.upserted", "listing.deleted"


class IndexDelivery:
    """The relay's delivery: a failed index write raises, so the event stays pending and is retried."""

    def __init__(self, backend: SearchBackend):
        self.backend = backend

    def __call__(self, message: Message) -> None:
        if message.topic == UPSERTED:
            self.backend.upsert([SearchDocument.from_dict(message.payload["document"])])
        elif message.topic == DELETED:
            self.backend.delete([message.payload["id"]])
        else:
            raise ValueError(f"The search index doesn't know the event {message.topic!r}")
