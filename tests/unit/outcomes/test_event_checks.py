"""The batch route's quick check of an event (`_plainly_valid`) answers only what EventSchema
answers: an event it passes is the one EventSchema loads, and anything it is unsure of is left to
EventSchema, which names what is wrong."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from services.outcomes.api.events.routes import _plainly_valid
from services.outcomes.api.events.schemas import EventSchema
from services.outcomes.service_layer.commands import ReceiveEvent

_JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_IDS = (
    st.uuids().map(str)
    | st.uuids().map(lambda u: u.hex)
    | st.uuids().map(lambda u: "{" + str(u).upper() + "}")
    | st.uuids().map(lambda u: f"urn:uuid:{u}")
    | st.text(alphabet="0123456789abcdef-", max_size=40)
    | _JSON_SCALARS
)
_TOPICS = st.text(max_size=90) | _JSON_SCALARS
_PAYLOADS = st.dictionaries(st.text(), _JSON_SCALARS) | st.lists(_JSON_SCALARS) | _JSON_SCALARS
_WHEN = st.text(max_size=45) | _JSON_SCALARS
_EVENTS = st.fixed_dictionaries(
    {"id": _IDS, "topic": _TOPICS, "payload": _PAYLOADS, "occurred_at": _WHEN},
    optional={"extra": _JSON_SCALARS},
) | st.dictionaries(st.sampled_from(["id", "topic", "payload", "occurred_at"]), _JSON_SCALARS)


@settings(max_examples=300, deadline=None)
@given(_EVENTS)
def test_an_event_passed_quickly_is_the_one_eventschema_loads(event):
    quick = _plainly_valid(event)
    try:
        loaded = ReceiveEvent.of(EventSchema().load(event))
    except ValidationError:
        assert quick is None
        return
    if quick is not None:
        assert quick == loaded
        assert quick.payload is not event["payload"]  # a copy, as EventSchema's


def test_the_budgets_events_are_passed_quickly():
    event = {
        "id": str(uuid.uuid4()),
        "topic": "request.approved",
        "payload": {"request_id": str(uuid.uuid4()), "amount_pence": 100},
        "occurred_at": "2026-12-02T19:00:00.123456+00:00",
    }
    assert _plainly_valid(event) == ReceiveEvent.of(EventSchema().load(event))
    assert _plainly_valid({**event, "id": uuid.UUID(event["id"]).hex}) is not None
