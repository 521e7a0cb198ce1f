"""Applying the directory's outbox events (destination "search") to the index."""

from __future__ import annotations

from typing import Any

from services.directory.domain.search import SearchDocument
from services.directory.search.backend import SearchBackend
from shared.outbox import Delivered, Message

DESTINATION = "search"
UPSERTED, DELETED = "listing.upserted", "listing.deleted"


class IndexDelivery:
    """The relay's delivery: a failed index write raises, so the event stays pending and is retried.

    `batch` takes a relay's due events at once: each run of upserts (or of deletes) is one index
    write, in order, so a burst of edits costs one commit, not one an edit."""

    def __init__(self, backend: SearchBackend):
        self.backend = backend

    def __call__(self, message: Message) -> None:
        if message.topic == UPSERTED:
            self.backend.upsert([SearchDocument.from_dict(message.payload["document"])])
        elif message.topic == DELETED:
            self.backend.delete([message.payload["id"]])
        else:
            raise ValueError(f"The search index doesn't know the event {message.topic!r}")

    def batch(self, messages: list[Message]) -> Delivered:
        """Apply `messages` in order, a run of one topic in one write; stop at the first that
        fails (an unknown topic, a bad payload, the index): the ones before it are applied."""
        start = 0
        while start < len(messages):
            topic = messages[start].topic
            end = start
            while end < len(messages) and messages[end].topic == topic:
                end += 1
            try:
                run = [_change(topic, m.payload) for m in messages[start:end]]
            except (KeyError, TypeError, ValueError) as err:
                return Delivered(start, str(err) or type(err).__name__)
            try:
                self._write(topic, run)
            except Exception as err:  # noqa: BLE001 - the run stays pending and is retried
                return Delivered(start, str(err) or type(err).__name__)
            start = end
        return Delivered(len(messages))

    def _write(self, topic: str, run: list[SearchDocument | str]) -> None:
        if topic == UPSERTED:
            latest = {d.id: d for d in run if isinstance(d, SearchDocument)}  # the last edit wins
            self.backend.upsert(latest.values())
        else:
            self.backend.delete(dict.fromkeys(i for i in run if isinstance(i, str)))


def _change(topic: str, payload: dict[str, Any]) -> SearchDocument | str:
    if topic == UPSERTED:
        return SearchDocument.from_dict(payload["document"])
    if topic == DELETED:
        return str(payload["id"])
    raise ValueError(f"The search index doesn't know the event {topic!r}")
