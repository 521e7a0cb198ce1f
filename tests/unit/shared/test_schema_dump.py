"""`compile_dump`: the same output as the schema's own `dump`, field for field, type for type."""

from __future__ import annotations

import uuid
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields, post_dump, pre_dump

from services.budget.api.requests.routes import _dump
from services.budget.api.requests.schemas import RequestSchema
from shared.schema_dump import compile_dump

REQUEST = RequestSchema()
FAST = compile_dump(REQUEST)


def same(fast: dict[str, Any], slow: dict[str, Any]) -> None:
    """Equal as values, in key order and in JSON (so True is not 1 and 1 is not 1.0)."""
    assert fast == slow
    assert list(fast) == list(slow)
    assert orjson.dumps(fast) == orjson.dumps(slow)


text = st.one_of(st.none(), st.text(max_size=12))
moments = st.one_of(
    st.none(),
    st.datetimes(timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-5))])),
)
days = st.one_of(st.none(), st.dates())
pence = st.one_of(st.none(), st.integers(min_value=-(10**12), max_value=10**12))
transitions = st.fixed_dictionaries(
    {
        "from_state": text,
        "to_state": st.text(max_size=8),
        "at": st.datetimes(),
        "by": st.text(max_size=8),
        "role": st.text(max_size=8),
        "reason": text,
    }
)
FIELDS: dict[str, Any] = {
    "id": st.text(max_size=36),
    "scheme_id": st.text(max_size=36),
    "person_id": st.text(max_size=36),
    "plan_id": text,
    "goal_id": st.text(max_size=36),
    "listing_id": st.one_of(st.none(), st.uuids(), st.uuids().map(str)),
    "cost_option_id": st.one_of(st.none(), st.uuids().map(str)),
    "provider_id": text,
    "payee": text,
    "item": text,
    "category": text,
    "provider_verified": st.one_of(st.none(), st.booleans()),
    "amount_pence": pence,
    "state": st.sampled_from(["submitted", "approved", "paid"]),
    "reason": text,
    "approved_by": text,
    "approved_at": moments,
    "submitted_at": moments,
    "payment_reference": text,
    "paid_on": days,
    "paid_pence": pence,
    "paid_by": text,
    "recovered_pence": pence,
    "evidence_reference": text,
    "evidence_note": text,
    "activity_started_on": days,
    "created_by": st.text(max_size=8),
    "created_at": moments,
    "updated_at": moments,
    "payment_run_id": text,
    "history": st.lists(transitions, max_size=3),
    "actions": st.one_of(st.none(), st.lists(st.sampled_from(["approve", "pay", "cancel"]))),
    # Keys the schema does not dump (load-only or unknown) are left out, as by the schema.
    "supplier": text,
    "submit": st.booleans(),
    "unknown": text,
}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=FIELDS))
def test_any_request_view_dumps_as_the_schema_dumps_it(view: dict[str, Any]) -> None:
    same(FAST(view), REQUEST.dump(view))


def approval_answer() -> dict[str, Any]:
    """An approval's answer as `request_queries.request_view` builds it."""
    now = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=UTC)
    return {
        "id": str(uuid.uuid4()),
        "scheme_id": str(uuid.uuid4()),
        "person_id": str(uuid.uuid4()),
        "plan_id": str(uuid.uuid4()),
        "goal_id": str(uuid.uuid4()),
        "listing_id": None,
        "cost_option_id": None,
        "provider_id": None,
        "payee": "Bikes for All",
        "item": "a bike",
        "category": None,
        "provider_verified": False,
        "amount_pence": 3000,
        "state": "approved",
        "reason": None,
        "approved_by": "holder-1",
        "approved_at": now,
        "submitted_at": now - timedelta(days=1),
        "payment_reference": None,
        "paid_on": None,
        "paid_pence": 0,
        "paid_by": None,
        "recovered_pence": 0,
        "evidence_reference": None,
        "evidence_note": None,
        "activity_started_on": None,
        "created_by": "advisor-1",
        "created_at": now - timedelta(days=2),
        "updated_at": now,
        "payment_run_id": None,
        "actions": ["cancel", "order", "pay"],
    }


def test_the_approval_answer_the_api_sends_is_the_schemas_dump() -> None:
    view = approval_answer()
    view["paid_on"] = date(2026, 12, 3)
    view["listing_id"] = uuid.UUID("12345678-1234-5678-1234-567812345678")
    same(_dump(view), REQUEST.dump(view))
    assert _dump(view)["approved_at"] == "2026-12-02T09:30:15.123456+00:00"
    assert _dump(view)["listing_id"] == "12345678-1234-5678-1234-567812345678"
    assert _dump(view)["paid_on"] == "2026-12-03"


def test_an_object_read_by_attribute_dumps_as_the_schema_dumps_it() -> None:
    class Row:
        pass

    row = Row()
    row.__dict__.update(approval_answer())
    same(FAST(row), REQUEST.dump(row))  # type: ignore[arg-type]


def test_a_value_a_field_cannot_write_fails_as_the_schema_fails() -> None:
    view = approval_answer()
    view["approved_at"] = "not a datetime"
    with pytest.raises(TypeError):
        REQUEST.dump(view)
    with pytest.raises(TypeError):
        FAST(view)


class _Inner(Schema):
    n = fields.Integer()


class _Everything(Schema):
    renamed = fields.String(data_key="shown_as")
    read_elsewhere = fields.Integer(attribute="source")
    dotted = fields.String(attribute="a.b")
    defaulted = fields.String(dump_default="default")
    nested = fields.Nested(_Inner)
    method = fields.Method("twice")
    as_text = fields.Integer(as_string=True)
    decimal = fields.Decimal()
    rfc = fields.DateTime(format="rfc")
    custom = fields.DateTime(format="%Y/%m")
    clock = fields.Time()
    raw = fields.Raw()
    numbers = fields.List(fields.Integer())
    nested_list = fields.List(fields.Nested(_Inner))
    hidden = fields.String(load_only=True)

    class Meta:
        datetimeformat = "iso"

    def twice(self, obj: dict[str, Any]) -> int:
        return 2 * obj.get("source", 0)


def test_fields_it_does_not_plan_are_dumped_by_the_field_itself() -> None:
    schema = _Everything()
    fast = compile_dump(schema)
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    values: list[dict[str, Any]] = [
        {},
        {
            "renamed": "x",
            "source": 3,
            "a": {"b": "deep"},
            "nested": {"n": "4"},
            "as_text": 5,
            "decimal": "1.50",
            "rfc": moment,
            "custom": moment,
            "clock": time(9, 30),
            "raw": {"any": [1, "thing"]},
            "numbers": ["1", 2, None],
            "nested_list": [{"n": 1}, {"n": "2"}],
            "hidden": "secret",
        },
        {"defaulted": None, "renamed": None, "numbers": None, "nested": None},
    ]
    for value in values:
        assert fast(value) == schema.dump(value)
        assert list(fast(value)) == list(schema.dump(value))
    assert "hidden" not in fast(values[1]) and fast(values[0])["defaulted"] == "default"


def test_schemas_whose_dump_is_more_than_their_fields_are_refused() -> None:
    class Before(Schema):
        a = fields.String()

        @pre_dump
        def change(self, data: Any, **_: Any) -> Any:
            return data

    class After(Schema):
        a = fields.String()

        @post_dump
        def change(self, data: Any, **_: Any) -> Any:
            return data

    class Ordered(Schema):
        a = fields.String()
        dict_class = OrderedDict

    for schema in (Before(), After(), Ordered(), RequestSchema(many=True)):
        with pytest.raises(ValueError):
            compile_dump(schema)
