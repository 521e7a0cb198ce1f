"""JSON structured logs, one object a line, carrying the request id of the work in hand."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time

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


def redact(text: str) -> str:
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
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(_LINE.encode(entry))


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
