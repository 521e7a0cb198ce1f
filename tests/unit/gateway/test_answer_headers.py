"""The gateway's own answer headers as the API's lean path takes them (kept per kind of answer)."""

from __future__ import annotations

import pytest

from services.gateway.security import FIXED_KINDS, PAGE_TYPES, AnswerHeaders

MIMETYPES = [
    None,
    "application/json",
    "application/problem+json",
    "text/csv",
    "text/plain",
    *sorted(PAGE_TYPES),  # (a set: sorted, so every process names the parameters in one order)
]
PATHS = ["/api/budget/whoami", "/oruk", "/oruk/", "/oruk/services", "/orukx", "/api/oruk/x"]


@pytest.mark.parametrize("mimetype", MIMETYPES)
@pytest.mark.parametrize("secure", [False, True])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("has_cache_control", [False, True])
def test_kept_headers_are_for_answers(
    mimetype: str | None, secure: bool, path: str, has_cache_control: bool
) -> None:
    answer_headers = AnswerHeaders(("https://idp.example",))
    for _ in range(2):  # computed, then kept
        headers, names = answer_headers.for_api_answer(
            mimetype, secure=secure, path=path, has_cache_control=has_cache_control
        )
        expected = answer_headers.for_answer(
            mimetype, nonce=None, secure=secure, path=path, has_cache_control=has_cache_control
        )
        assert names == {n.lower() for n, _ in expected}
        if mimetype in PAGE_TYPES:  # a fresh nonce for every page: never kept
            policy = dict(headers)["Content-Security-Policy"]
            assert "'nonce-" in policy
            assert policy != dict(expected)["Content-Security-Policy"]
            assert [n for n, _ in headers] == [n for n, _ in expected]
        else:
            assert list(headers) == expected


def test_pages_get_a_fresh_nonce_each_time() -> None:
    answer_headers = AnswerHeaders()
    policies = {
        dict(
            answer_headers.for_api_answer(
                "text/html", secure=False, path="/", has_cache_control=False
            )[0]
        )["Content-Security-Policy"]
        for _ in range(5)
    }
    assert len(policies) == 5


def test_kinds_kept_are_bounded() -> None:
    answer_headers = AnswerHeaders()
    for n in range(FIXED_KINDS + 50):
        headers, _ = answer_headers.for_api_answer(
            f"application/x-{n}", secure=False, path="/api/x/y", has_cache_control=False
        )
        assert dict(headers)["X-Frame-Options"] == "DENY"
    assert len(answer_headers._fixed) == FIXED_KINDS
