"""The headers the API's lean path sends on (`proxy.outgoing_from_environ`, one pass over the
environ) are exactly those Flask's path sends (`proxy.outgoing_headers` over werkzeug's
EnvironHeaders): the same names, values and order, the same ones dropped."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders

from services.gateway import proxy

_KEYS = st.one_of(
    st.sampled_from(
        [
            "HTTP_AUTHORIZATION",
            "HTTP_COOKIE",
            "HTTP_HOST",
            "HTTP_CONNECTION",
            "HTTP_X_REQUEST_ID",
            "HTTP_X_FORWARDED_FOR",
            "HTTP_X_INTERNAL_TOKEN",
            "HTTP_X_DEADLINE_MS",
            "HTTP_IDEMPOTENCY_KEY",
            "HTTP_ACCEPT",
            "HTTP_CONTENT_TYPE",
            "HTTP_CONTENT_LENGTH",
            "HTTP_TRANSFER_ENCODING",
            "HTTP_",
            "HTTP_X__ODD__NAME_",
            "CONTENT_TYPE",
            "CONTENT_LENGTH",
            "REQUEST_METHOD",
            "PATH_INFO",
            "QUERY_STRING",
            "REMOTE_ADDR",
            "SERVER_NAME",
            "wsgi.url_scheme",
            "http_lower",
        ]
    ),
    st.text(alphabet="ABCXYZ_-", max_size=8).map(lambda t: "HTTP_" + t),
    st.text(max_size=6),
)
_ENVIRONS = st.dictionaries(_KEYS, st.sampled_from(["", "a", "Bearer x", "1", "v, w"]), max_size=14)


def through_werkzeug(environ: dict[str, Any]) -> dict[str, str]:
    return proxy.outgoing_headers(EnvironHeaders(environ).items(), "rid", "10.0.0.9")


@settings(max_examples=800, deadline=None)
@given(_ENVIRONS)
def test_the_lean_paths_headers_are_werkzeugs(environ: dict[str, Any]) -> None:
    expected = through_werkzeug(environ)
    for _ in range(2):  # the second time from the names worked out the first
        found = proxy.outgoing_from_environ(environ, "rid", "10.0.0.9")
        assert found == expected
        assert list(found.items()) == list(expected.items())


def test_a_granian_environ_keeps_the_callers_own_headers_only() -> None:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/budget/requests/1/approve",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "",
        "HTTP_AUTHORIZATION": "Bearer secret",
        "HTTP_COOKIE": "phb_session=s",
        "HTTP_IDEMPOTENCY_KEY": "k-1",
        "HTTP_X_REQUEST_ID": "from-the-client",
        "HTTP_X_INTERNAL_TOKEN": "forged",
        "HTTP_X_DEADLINE_MS": "999999",
        "wsgi.input": object(),
    }
    found = proxy.outgoing_from_environ(environ, "rid", None)
    assert found == {
        "Content-Type": "application/json",
        "Idempotency-Key": "k-1",
        "X-Request-ID": "rid",
        "X-Forwarded-For": "",
    }
    assert found == through_werkzeug(environ) | {"X-Forwarded-For": ""}


def test_names_are_remembered_up_to_a_bound(monkeypatch) -> None:
    monkeypatch.setattr(proxy, "_ENVIRON_NAMES", {})
    monkeypatch.setattr(proxy, "_ENVIRON_NAMES_KEPT", 3)
    environ = {f"HTTP_X_{n}": str(n) for n in range(10)}
    assert proxy.outgoing_from_environ(environ, "rid", "a") == through_werkzeug(environ) | {
        "X-Forwarded-For": "a"
    }
    assert len(proxy._ENVIRON_NAMES) == 3
