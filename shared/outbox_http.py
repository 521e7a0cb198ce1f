"""Outbox delivery by HTTP: a relay's due events, in order, many to a call, to a receiver's batch
endpoint (the budget's events to the outcomes service: docs/contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from shared.http import ServiceClient
from shared.identity import Identity
from shared.outbox import MAX_BATCH, Delivered, Message

# Under the receivers' body limit (shared.app.MAX_BODY_BYTES), so a batch is never refused for size.
MAX_BATCH_BYTES = 500_000


@dataclass(frozen=True)
class _Answer:
    ok: bool
    error: str = ""
    bad_index: int | None = None


class HttpBatchDelivery:
    """Delivers messages in order, many to a POST of `{"events": [...]}`, as this service's identity.

    The receiver applies a batch in one transaction, each event once by its id, and answers 200
    with one receipt an event, or applies none and answers problem+json naming the first event it
    could not apply (`event_index`): the ones before it are sent again without it, and the relay
    records the failure on it. Any other answer, or none, leaves the whole batch pending."""

    def __init__(
        self,
        client: ServiceClient,
        path: str,
        identity: Identity,
        *,
        max_events: int = MAX_BATCH,
        max_bytes: int = MAX_BATCH_BYTES,
    ):
        self.client = client
        self.path = path
        self.identity = identity
        self.max_events = max_events
        self.max_bytes = max_bytes

    def __call__(self, messages: list[Message]) -> Delivered:
        encoded = [orjson.dumps(m.as_json()) for m in messages]
        taken = 0
        while taken < len(messages):
            end, size = taken + 1, len(encoded[taken])
            while (
                end < len(messages)
                and end - taken < self.max_events
                and size + len(encoded[end]) + 1 <= self.max_bytes
            ):
                size += len(encoded[end]) + 1
                end += 1
            result = self._deliver(messages[taken:end], encoded[taken:end])
            taken += result.count
            if result.error is not None:
                return Delivered(taken, result.error)
        return Delivered(taken)

    def _deliver(self, messages: list[Message], encoded: list[bytes]) -> Delivered:
        """One batch, or the events before the one the receiver names as bad."""
        end, error = len(messages), None
        while end > 0:
            answer = self._post(messages[:end], encoded[:end])
            if answer.ok:
                return Delivered(end, error)
            if answer.bad_index is None or not 0 <= answer.bad_index < end:
                return Delivered(0, answer.error)
            end, error = answer.bad_index, answer.error
        return Delivered(0, error)

    def _post(self, messages: list[Message], encoded: list[bytes]) -> _Answer:
        response = self.client.forward(
            "POST",
            self.path,
            identity=self.identity,
            headers={"Content-Type": "application/json"},
            body=b'{"events":[' + b",".join(encoded) + b"]}",
        )
        name = self.client.name
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            answer = None
        if response.status == 200 and isinstance(answer, dict):
            received = [r.get("id") for r in answer.get("received") or [] if isinstance(r, dict)]
            if received == [m.event_id for m in messages]:
                return _Answer(True)
            return _Answer(False, f"{name} answered for other events than it was sent")
        text = response.content[:300].decode("utf-8", "replace")
        error = f"{name} answered {response.status}: {text}"
        index = answer.get("event_index") if isinstance(answer, dict) else None
        if response.status == 422 and isinstance(index, int) and not isinstance(index, bool):
            return _Answer(False, error, index)
        return _Answer(False, error)
