"""The services' common request path made cheaper without changing what it does: the log's
redaction (the same lines as every pattern run on every line) and Flask's check for coroutine
functions (the same answer as Flask's own)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.app import ServiceFlask
from shared.logs import JsonFormatter, redact

# The patterns as every line was scrubbed before: each one run over the whole line, in order.
_EVERY_LINE = (
    (re.compile(r"/(feedback|check-in)/[A-Za-z0-9_.~%-]+"), r"/\1/[redacted]"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_.~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (re.compile(r"(phb_session=)[^;\s\"]+"), r"\1[redacted]"),
    (
        re.compile(r"([?&](?:code|state|token|id_token_hint|session_state)=)[^&\s\"]+"),
        r"\1[redacted]",
    ),
)


def scrubbed_by_every_pattern(text: str) -> str:
    for pattern, replacement in _EVERY_LINE:
        text = pattern.sub(replacement, text)
    return text


# Pieces of secrets and near-misses, joined with any text (non-ASCII letters that fold or lower
# to ASCII ones included).
_PIECES = st.sampled_from(
    [
        "/feedback/",
        "/check-in/",
        "/feedback",
        "Bearer ",
        "bEaReR\t",
        "BEARER  ",
        "bearer",
        "Authorization: Bearer abc.def-ghi",
        "eyJ",
        "eyJhbGciOi.eyJzdWIiOiJ4.sig_-",
        "eyJabcd.efghi.",
        "phb_session=",
        "phb_session=abc;",
        "?code=",
        "&state=xyz",
        "?token=t0k",
        "&id_token_hint=a.b.c",
        "&session_state=1",
        "code=",
        "=",
        "\u212a",
        "\u017f",
        "\u0130",
        "\u0131",
        '"',
        ";",
        " ",
    ]
)
_TEXT = st.lists(st.one_of(_PIECES, st.text(max_size=6)), max_size=12).map("".join)


@settings(max_examples=600, deadline=None)
@given(_TEXT)
def test_redaction_is_the_same_as_every_pattern_on_every_line(text: str) -> None:
    assert redact(text) == scrubbed_by_every_pattern(text)


def test_a_line_with_secrets_is_scrubbed_and_one_without_is_left_as_it_is() -> None:
    line = (
        '{"path": "/feedback/abc123", "auth": "BeArEr tok.en", "jwt": "eyJhbGciOi.eyJzdWIiOi.x",'
        ' "cookie": "phb_session=s3cret;", "next": "/cb?code=c0de&state=st"}'
    )
    scrubbed = redact(line)
    for secret in ("abc123", "tok.en", "eyJhbGciOi", "s3cret", "c0de", "=st"):
        assert secret not in scrubbed
    plain = '{"path": "/requests/42/approve", "status": 200, "message": "Approved: bear it"}'
    assert redact(plain) is plain


def test_the_json_log_line_is_written_as_json_dumps_wrote_it() -> None:
    record = logging.LogRecord("phb.access", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"path": "/requests/1/approve", "status": 200, "odd": {1, 2}, "é": "ü"}
    line = JsonFormatter("budget").format(record)
    entry = json.loads(line)
    assert line == json.dumps(entry, default=str)
    assert entry["odd"] == "{1, 2}" and entry["é"] == "ü" and "\\u00e9" in line


class _Thing:
    def method(self) -> None:
        pass

    async def coroutine_method(self) -> None:
        pass

    def __call__(self) -> None:
        pass


def _plain() -> None:
    pass


async def _coroutine() -> None:
    pass


def _marked() -> None:
    pass


_marked._is_coroutine_marker = object()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "func",
    [
        _plain,
        lambda: None,
        _Thing().method,
        _Thing(),
        functools.partial(_plain),
        len,
        _marked,
        _coroutine,
        _Thing().coroutine_method,
        functools.partial(_coroutine),
    ],
)
def test_ensure_sync_answers_as_flasks_own(func: object) -> None:
    ours, flasks = ServiceFlask("ours"), Flask("flasks")

    def outcome(app: Flask) -> object:
        try:
            return app.ensure_sync(func)  # type: ignore[arg-type]
        except RuntimeError as err:  # a coroutine function, and Flask's async extra not installed
            return type(err), str(err)

    assert outcome(ours) == outcome(flasks)
    if not asyncio.iscoroutinefunction(func):
        assert ours.ensure_sync(func) is func  # type: ignore[arg-type]
