"""Answers written by orjson say what Flask's own JSON provider said, key order included."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import uuid

import pytest
from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider

from shared.json_provider import OrjsonProvider, install_json


@dataclasses.dataclass
class Point:
    lat: float
    lng: float


VALUES = [
    {"z": 1, "a": [1, 2.5, None, True], "m": {"b": "£20 a session", "a": "café"}},
    {"when": dt.datetime(2026, 12, 1, 23, 0, tzinfo=dt.UTC), "day": dt.date(2026, 12, 2)},
    {"id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "at": Point(50.77, 0.28)},
    {"price": decimal.Decimal("12.50"), "big": 2**70, 3: "a number as a key"},
    [],
    'text with "quotes" and <b>markup</b>',
]


def _answers(app: Flask, value: object) -> bytes:
    with app.app_context():
        return jsonify(value).get_data()


@pytest.mark.parametrize("value", VALUES)
def test_the_same_json_as_flask_wrote(value):
    ours, theirs = Flask("ours"), Flask("theirs")
    install_json(ours)
    theirs.json.sort_keys = False  # type: ignore[attr-defined]
    mine, flask_own = _answers(ours, value), _answers(theirs, value)
    assert json.loads(mine) == json.loads(flask_own)
    assert list(json.loads(mine)) == list(json.loads(flask_own))  # key order too
    assert mine.endswith(b"\n")


def test_orjson_writes_what_it_can_and_flask_the_rest():
    app = Flask("t")
    install_json(app)
    assert isinstance(app.json, OrjsonProvider)
    assert _answers(app, {"b": "café", "a": 1}) == '{"b":"café","a":1}\n'.encode()
    # a key that is not a string: Flask's provider writes it, as it always did
    assert _answers(app, {1: "x"}) == b'{"1":"x"}\n'


def test_debug_answers_stay_indented():
    app = Flask("t")
    install_json(app)
    app.debug = True
    assert _answers(app, {"a": 1}) == b'{\n  "a": 1\n}\n'
    assert isinstance(app.json, DefaultJSONProvider)
