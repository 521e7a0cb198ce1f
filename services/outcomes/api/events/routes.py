"""`POST /events/batch`: the budget service's events, many to a call, applied once each."""

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError as MarshmallowError

from services.outcomes.api.events.schemas import (
    BatchReceiptSchema,
    EventBatchSchema,
    EventSchema,
    ReplayQueryArgsSchema,
    ReplayResultSchema,
)
from services.outcomes.registry import outcomes_services
from services.outcomes.service_layer import events
from services.outcomes.service_layer.commands import ReceiveEvent, ReceiveEvents, ReplayEvents
from shared.app import current_identity, require_role
from shared.errors import Forbidden, ValidationFailed

blp = Blueprint("events", __name__, url_prefix="/events", description="Events from other services.")
# The only sender of events (docs/contracts.md): no other service, and no user, may post them.
SENDER = "budget"


@blp.route("/batch")
class EventBatch(MethodView):
    @blp.arguments(EventBatchSchema)
    @blp.response(200, BatchReceiptSchema)
    def post(self, batch):
        """Receive the budget service's events in order, in one transaction (each deduplicated by its id)"""
        caller = current_identity()
        if not (caller.is_service and caller.sub == SENDER):
            raise Forbidden("Only the budget service sends events.")
        cmd = ReceiveEvents(_valid(batch["events"]))
        app = outcomes_services()
        statuses = events.receive_batch(cmd, app.uow, app.instruments)
        # Each receipt names its event as the sender wrote the id (a UUID in any of its spellings:
        # the budget's payment runs on SQLite write 32 hex digits); outcomes keys it canonically.
        sent = [str(e["id"]) for e in batch["events"]]
        return {"received": [{"id": i, "status": s} for i, s in zip(sent, statuses, strict=True)]}


def _valid(raw: list[dict]) -> tuple[ReceiveEvent, ...]:
    """Every event checked as EventSchema: 422 names every bad field (`events.<i>.<field>`) and
    the first bad event (`event_index`), and nothing is applied."""
    schema = EventSchema()
    loaded, errors, first = [], {}, None
    for index, event in enumerate(raw):
        plain = _plainly_valid(event)
        if plain is not None:
            loaded.append(plain)
            continue
        try:
            loaded.append(ReceiveEvent.of(schema.load(event)))
        except MarshmallowError as err:
            first = index if first is None else first
            errors.update({f"events.{index}.{name}": m for name, m in err.messages_dict.items()})
    if first is not None:
        raise ValidationFailed(
            f"Event {first} is not a valid event; nothing in this batch was applied.",
            errors=errors,
            event_index=first,
        )
    return tuple(loaded)


_FIELDS = {"id", "topic", "payload", "occurred_at"}


def _plainly_valid(event: dict) -> ReceiveEvent | None:
    """The event as EventSchema loads it, for one that plainly passes (all four fields, nothing
    else, each a JSON value of its type within its lengths, the id a UUID), without marshmallow's
    machinery (most of the route's CPU an event); None for anything else, which EventSchema then
    checks and names."""
    if type(event) is not dict or event.keys() != _FIELDS:
        return None
    topic, payload, occurred_at = event["topic"], event["payload"], event["occurred_at"]
    if not (
        type(topic) is str
        and 1 <= len(topic) <= 80
        and type(payload) is dict
        and type(occurred_at) is str
        and len(occurred_at) <= 40
        and type(event["id"]) is str
    ):
        return None
    try:
        event_id = uuid.UUID(event["id"])
    except ValueError:
        return None
    return ReceiveEvent(
        id=str(event_id), topic=topic, payload=dict(payload), occurred_at=occurred_at
    )


@blp.route("/replay")
class Replay(MethodView):
    @blp.arguments(ReplayQueryArgsSchema, location="query")
    @blp.response(200, ReplayResultSchema)
    def post(self, args):
        """Re-apply kept events: those held for an earlier one, or all (admin)"""
        require_role("admin")
        cmd = ReplayEvents(everything=args["everything"])
        return events.replay(cmd, outcomes_services().uow, outcomes_services().instruments)
