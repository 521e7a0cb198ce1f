"""Lines written by `shared.logs.log_fields` (the access log's way out) straight to the JSON handler
are byte for byte the lines `logger.info(..., extra={"fields": ...})` writes through the logging
machinery, redaction included; anything but the plain configuration goes through logging."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from shared import logs
from shared.logs import JsonFormatter, log_fields, request_id_var

FIELD_SETS: list[dict[str, Any]] = [
    {
        "method": "POST",
        "path": "/requests/9b1c/approve",
        "status": 200,
        "bytes": 312,
        "duration_ms": 1.3,
        "request_id": "a" * 32,
    },
    {  # secrets in what a client chose: its request id, the path, the method
        "method": "GET",
        "path": "/feedback/abc123-token",
        "status": None,
        "bytes": 0,
        "duration_ms": 0.0,
        "request_id": "Bearer s3cret.tok",
    },
    {"path": "/x", "request_id": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln", "status": 401},
    {"path": "/check-in/zzz?code=1", "request_id": "phb_session=abc; x", "method": "bEaReR q"},
    {"path": "/caf\u00e9/\u212a", "request_id": '"quoted" \\ and \n newline', "odd": {1, 2}},
    {"path": "/a?state=s&token=t", "nested": {"k": [1, 2.5, None, True]}, "bytes": 10**20},
]


@contextmanager
def plain_root() -> Iterator[io.StringIO]:
    """The root logger as `configure_logging` leaves it, writing to a string (inside the test's
    body: pytest adds its own capturing handlers to the root for each phase)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, root.filters[:]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("budget"))
    root.handlers[:] = [handler]
    root.filters[:] = []
    root.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.handlers[:], root.filters[:] = saved[0], saved[2]
        root.setLevel(saved[1])


@pytest.fixture
def access() -> Iterator[logging.Logger]:
    logger = logging.getLogger("phb.test-access-lines")
    yield logger
    logger.filters[:] = []
    logger.handlers[:] = []
    logger.__dict__.pop("makeRecord", None)


def _through_logging(logger: logging.Logger, fields: dict[str, Any]) -> None:
    logger.info("request", extra={"fields": fields})


def _lines(stream: io.StringIO) -> list[str]:
    lines = stream.getvalue().split("\n")
    assert lines[-1] == ""
    return lines[:-1]


@pytest.mark.parametrize("fields", FIELD_SETS)
@pytest.mark.parametrize("request_id", [None, "rid-of-the-context"])
@pytest.mark.parametrize("now", [1764675000.123, 1764675000.9999999, 1764675001.0])
def test_a_line_written_directly_is_the_line_logging_writes(
    access, monkeypatch, fields, request_id, now
):
    monkeypatch.setattr(time, "time", lambda: now)
    token = request_id_var.set(request_id)

    def no_record(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the direct way made a LogRecord")

    try:
        with plain_root() as stream:
            access.makeRecord = no_record  # type: ignore[method-assign]
            log_fields(access, "request", dict(fields))
            del access.makeRecord
            _through_logging(access, dict(fields))
    finally:
        request_id_var.reset(token)
    direct, through = _lines(stream)
    assert direct == through
    # and field by field, as a reader of the log sees them
    assert json.loads(direct) == json.loads(through)
    for secret in ("abc123-token", "s3cret.tok", "eyJhbGciOiJFZERTQSJ9", "=abc", "=s&", "=t"):
        assert secret not in direct


def test_the_timestamp_is_the_seconds_and_milliseconds_of_the_record(access, monkeypatch):
    with plain_root() as stream:
        _timestamps(access, monkeypatch, stream)


def _timestamps(access: logging.Logger, monkeypatch: Any, stream: io.StringIO) -> None:
    for now, expected in [
        (1764675000.0, "2025-12-02T11:30:00.000Z"),
        (1764675000.9995, "2025-12-02T11:30:00.999Z"),
        (1764675001.5, "2025-12-02T11:30:01.500Z"),
        (1764675000.25, "2025-12-02T11:30:00.250Z"),  # an earlier second again
    ]:
        monkeypatch.setattr(time, "time", lambda now=now: now)
        log_fields(access, "request", {})
        _through_logging(access, {})
        direct, through = _lines(stream)[-2:]
        assert json.loads(direct)["ts"] == json.loads(through)["ts"] == expected


@pytest.mark.parametrize(
    "change",
    [
        "logger filter",
        "logger handler",
        "second root handler",
        "handler filter",
        "handler level",
        "other formatter",
        "logger level",
        "logging disabled",
        "no propagation",
        "record factory",
    ],
)
def test_anything_but_the_plain_configuration_goes_through_logging(access, change):
    """Whatever could see, change or stop the line gets it as a LogRecord, as before."""
    with plain_root() as stream:
        _changed_then_logged(access, change, stream)


def _changed_then_logged(access: logging.Logger, change: str, stream: io.StringIO) -> None:
    root = logging.getLogger()
    handler = root.handlers[0]
    seen: list[logging.LogRecord] = []

    def keep(record: logging.LogRecord) -> bool:
        seen.append(record)
        return True

    restore = []
    if change == "logger filter":
        access.addFilter(keep)
    elif change == "logger handler":
        extra = logging.StreamHandler(io.StringIO())
        extra.addFilter(keep)
        access.addHandler(extra)
    elif change == "second root handler":
        extra = logging.StreamHandler(io.StringIO())
        extra.addFilter(keep)
        root.addHandler(extra)
    elif change == "handler filter":
        handler.addFilter(keep)
    elif change == "handler level":
        handler.setLevel(logging.WARNING)
        access.addFilter(keep)  # the record is made (and then not written)
    elif change == "other formatter":
        handler.setFormatter(logging.Formatter("plain %(message)s"))
        access.addFilter(keep)
    elif change == "logger level":
        access.setLevel(logging.WARNING)
        restore.append(lambda: access.setLevel(logging.NOTSET))
    elif change == "logging disabled":
        logging.disable(logging.INFO)
        restore.append(lambda: logging.disable(logging.NOTSET))
    elif change == "no propagation":
        access.propagate = False
        access.addFilter(keep)
        restore.append(lambda: setattr(access, "propagate", True))
    elif change == "record factory":
        factory = logging.getLogRecordFactory()

        def making(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            seen.append(record)
            return record

        logging.setLogRecordFactory(making)
        restore.append(lambda: logging.setLogRecordFactory(factory))
    try:
        assert logs._plain_json_handler(access) is None
        log_fields(access, "request", {"path": "/x"})
    finally:
        for undo in restore:
            undo()
    written = stream.getvalue()
    if change in ("logger level", "logging disabled"):
        assert written == "" and seen == []
    elif change == "handler level":
        assert written == "" and len(seen) == 1
    elif change == "other formatter":
        assert written == "plain request\n" and len(seen) == 1
    elif change == "no propagation":
        assert written == "" and len(seen) == 1  # (logging's last resort writes to stderr)
    else:
        assert len(seen) == 1 and seen[0].fields == {"path": "/x"}  # type: ignore[attr-defined]
        assert json.loads(written)["path"] == "/x"


def test_the_plain_configuration_is_the_one_configure_logging_makes():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure_logging("gateway")
        handler = logs._plain_json_handler(logging.getLogger("phb.access"))
        assert handler is root.handlers[0]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_a_stream_that_fails_is_reported_as_logging_reports_it(access, monkeypatch):
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("gone")

    with plain_root():
        _broken(access, monkeypatch, Broken())


def _broken(access: logging.Logger, monkeypatch: Any, broken: io.StringIO) -> None:
    handler = logging.getLogger().handlers[0]
    handler.setStream(broken)  # type: ignore[attr-defined]
    reported: list[logging.LogRecord] = []
    monkeypatch.setattr(handler, "handleError", reported.append)
    log_fields(access, "request", {"path": "/feedback/tok"})  # never raises
    (record,) = reported
    assert record.name == access.name and record.fields == {"path": "/feedback/tok"}  # type: ignore[attr-defined]


def test_redactions_quick_check_is_made_from_every_patterns_texts() -> None:
    # A pattern added to _SECRETS with a text of its own is looked for: the quick check that
    # passes most lines through unread is built from the patterns' own texts, not a list beside them.
    for _, _, texts, folded in logs._SECRETS:
        quick = logs._FOLDED_NEEDLES if folded else logs._PLAIN_NEEDLES
        for text in texts:
            assert any(needle in text for needle in quick), text


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        ("GET /x phb_session=abc", "GET /x phb_session=[redacted]"),
        ("GET /done?code=abc&x", "GET /done?code=[redacted]&x"),
        ("Authorization: BeArEr abc.def", "Authorization: BeArEr [redacted]"),
        ("GET /check-in/tok_123 200", "GET /check-in/[redacted] 200"),
        ("GET /feedback/tok_123", "GET /feedback/[redacted]"),
        ("t eyJhbGciOi.eyJzdWIiOi.sig", "t [redacted-jwt]"),
        ("a plain line, nothing to hide", "a plain line, nothing to hide"),
    ],
)
def test_each_patterns_text_alone_is_enough_to_be_redacted(line: str, redacted: str) -> None:
    assert logs.redact(line) == redacted
