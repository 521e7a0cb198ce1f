"""JSON structured logs, one object a line, carrying the request id of the work in hand."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


# Secrets that travel in URLs and headers, scrubbed from every log line (access logs included):
# a young person's feedback link, bearer and ID tokens (JWTs), session cookies, OAuth codes.
# Each pattern comes with text that every match contains (in the line lowered, for the pattern
# that ignores case): a line without any of it cannot match, so the pattern is not run on it.
# Running the case-blind bearer pattern over every line cost more than formatting the line.
_SECRETS = (
    (
        re.compile(r"/(feedback|check-in)/[A-Za-z0-9_.~%-]+"),
        r"/\1/[redacted]",
        ("/feedback/", "/check-in/"),
        False,
    ),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_.~+/=-]+"), r"\1[redacted]", ("bearer",), True),
    (
        re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
        "[redacted-jwt]",
        ("eyJ",),
        False,
    ),
    (re.compile(r"(phb_session=)[^;\s\"]+"), r"\1[redacted]", ("phb_session=",), False),
    (
        re.compile(r"([?&](?:code|state|token|id_token_hint|session_state)=)[^&\s\"]+"),
        r"\1[redacted]",
        ("=",),
        False,
    ),
)


def _quick_needles(folded: bool) -> tuple[str, ...]:
    """The patterns' texts (case-blind ones or the others), less any that holds another: a line
    holding none of these holds no pattern's text."""
    needles = {needle for _, _, texts, blind in _SECRETS if blind == folded for needle in texts}
    return tuple(sorted(n for n in needles if not any(o != n and o in n for o in needles)))


_PLAIN_NEEDLES = _quick_needles(False)
_FOLDED_NEEDLES = _quick_needles(True)


def redact(text: str) -> str:
    # Most lines hold none of the patterns' texts: one look for each, the lowering last. (No
    # replacement holds any of them, so a line without them stays without them.)
    for needle in _PLAIN_NEEDLES:
        if needle in text:
            break
    else:
        lowered = text.lower()
        for needle in _FOLDED_NEEDLES:
            if needle in lowered:
                break
        else:
            return text
    for pattern, replacement, needles, folded in _SECRETS:
        # No character but the ASCII letters lowers to b, e, a or r, so a case-blind match of
        # "bearer" is always "bearer" in the lowered line.
        haystack = text.lower() if folded else text
        for needle in needles:
            if needle in haystack:
                text = pattern.sub(replacement, text)
                break
    return text


def loggable_path(path: str) -> str:
    """A request path fit for a log: no query string, and no token in it."""
    return redact(path.split("?", 1)[0])


# json.dumps(entry, default=str) builds this encoder afresh for every line.
_LINE = json.JSONEncoder(default=str)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        return self.line(
            record.created,
            record.msecs,
            record.levelname,
            record.name,
            record.getMessage(),
            getattr(record, "fields", {}),
            self.formatException(record.exc_info) if record.exc_info else None,
        )

    def line(
        self,
        created: float,
        msecs: float,
        level: str,
        logger: str,
        message: str,
        fields: dict[str, Any],
        exception: str | None = None,
    ) -> str:
        """The line of a record made at `created` (`msecs`: its milliseconds, as LogRecord has
        them), redacted."""
        entry = {
            "ts": _timestamp(created, msecs),
            "level": level.lower(),
            "service": self.service,
            "logger": logger,
            "message": message,
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(fields.items())
        if exception is not None:
            entry["exception"] = exception
        return redact(_LINE.encode(entry))


# The line's second, formatted once a second (time.strftime costs more than the rest of it).
_second: tuple[int, str] = (-1, "")


def _timestamp(created: float, msecs: float) -> str:
    global _second
    whole = int(created)
    second, text = _second
    if second != whole:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
        _second = (whole, text)
    return f"{text}.{int(msecs):03d}Z"


def log_fields(logger: logging.Logger, message: str, fields: dict[str, Any]) -> None:
    """`logger.info(message, extra={"fields": fields})`: the same line, written with less work.

    When the line's only way out is the one handler `configure_logging` installs (a child of the
    root logger with no filter or handler of its own, the root's handler alone, with no filter,
    the standard Logger and LogRecord classes), the line is made by the same `JsonFormatter.line`
    and written to that handler's stream under its lock, as `StreamHandler.emit` writes it: no
    LogRecord, caller lookup or handler dispatch (a third of an access line's instructions).
    Anything else (a capturing test's handler, another formatter, a filter, a level or
    `logging.disable` that drops it) goes through `logger.info` as before
    (tests/unit/shared/test_log_lines.py compares the two ways' lines byte for byte)."""
    handler = _plain_json_handler(logger)
    if handler is None:
        logger.info(message, extra={"fields": fields})
        return
    created = time.time()
    try:
        line = handler.formatter.line(  # type: ignore[union-attr]
            created,
            int((created - int(created)) * 1000) + 0.0,  # as LogRecord has them
            logging.getLevelName(logging.INFO),
            logger.name,
            message,
            fields,
        )
        with handler.lock:  # type: ignore[union-attr]
            handler.stream.write(line + handler.terminator)
            handler.flush()
    except RecursionError:  # as StreamHandler.emit
        raise
    except Exception:  # noqa: BLE001 - as StreamHandler.emit: reported, never raised
        record = logger.makeRecord(
            logger.name, logging.INFO, __file__, 0, message, (), None, extra={"fields": fields}
        )
        handler.handleError(record)


def _plain_json_handler(logger: logging.Logger) -> logging.StreamHandler | None:
    """The one StreamHandler with a JsonFormatter an INFO line of `logger` would reach, when
    nothing else could see or change it; else None."""
    root = logging.root
    if (
        logger.parent is not root
        or type(logger) is not logging.Logger
        or logger.handlers
        or logger.filters
        or not logger.propagate
        or logger.disabled
        or len(root.handlers) != 1
        or not logger.isEnabledFor(logging.INFO)
        or logging.getLogRecordFactory() is not logging.LogRecord
    ):
        return None
    (handler,) = root.handlers
    if (
        type(handler) is not logging.StreamHandler
        or type(handler.formatter) is not JsonFormatter
        or handler.filters
        or handler.level > logging.INFO
        or handler.lock is None
    ):
        return None
    return handler


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
