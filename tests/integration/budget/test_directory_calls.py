"""The budget service's calls to the directory, watched on the wire between the real processes.

A small relay sits between the budget process and the real directory: it passes every request
and answer through unchanged and notes which TCP connection each request came on and its
headers. The budget's calls must reuse one keep-alive connection (ServiceClient.forward's urllib3
pool, as the gateway's proxy), carry the deadline, a signed token and the request id, and the
directory's answers still reach the user as the budget's own refusals.
"""

from __future__ import annotations

import http.client
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from shared.http import DEADLINE_HEADER
from shared.identity import INTERNAL_HEADER
from tests.integration.budget.test_journey import _directory_listing, call, enrol_with_plan
from tests.support import RunningSuite, running_suite


class Relay:
    """Passes each request to `target` and its answer back, noting what came on which connection."""

    def __init__(self, target: str):
        parts = urlsplit(target)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.seen: list[dict[str, Any]] = []
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                relay.seen.append(
                    {
                        "connection": self.client_address,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                    }
                )
                upstream = http.client.HTTPConnection(relay.host, relay.port, timeout=10)
                try:
                    upstream.request("GET", self.path, headers=dict(self.headers.items()))
                    answer = upstream.getresponse()
                    body = answer.read()
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in ("content-length", "connection", "date", "server"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    upstream.close()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSuite, Relay]]:
    with running_suite(tmp_path_factory.mktemp("budget-directory"), seed=True) as suite:
        relay = Relay(suite.url("directory"))
        try:
            suite.suite.stop("budget")
            suite.suite.env = {**suite.suite.env, "DIRECTORY_URL": relay.url}
            suite.suite.start("budget")
            suite.suite.wait_ready(names=("budget",))
            yield suite, relay
        finally:
            relay.close()


def _raise(suite: RunningSuite, listing_id: str, **extra: Any) -> tuple[str, Any]:
    person_id, goal_id = enrol_with_plan(suite)
    return person_id, call(
        suite,
        "POST",
        "/requests",
        "advisor",
        "demo-advisor",
        json={"person_id": person_id, "goal_id": goal_id, "listing_id": listing_id, **extra},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )


def _raised_for(suite: RunningSuite, person_id: str) -> int:
    listed = call(suite, "GET", f"/requests?person_id={person_id}", "advisor", "demo-advisor")
    assert listed.status_code == 200, listed.text
    return int(listed.json()["total"])


def test_the_budget_asks_the_directory_on_one_kept_alive_connection_with_deadline_and_token(
    watched,
):
    suite, relay = watched
    listing_id = _directory_listing(("salsa", "eastbourne"))
    assert listing_id is not None, "no salsa class in Eastbourne in the demo catalogue"
    before = len(relay.seen)
    for _ in range(3):
        _person, raised = _raise(suite, listing_id)
        assert raised.status_code == 201, raised.text
        assert raised.json()["listing_id"] == listing_id and raised.json()["amount_pence"] > 0
    calls = relay.seen[before:]
    assert [c["path"] for c in calls] == [f"/listings/{listing_id}/fundability"] * 3
    assert len({c["connection"] for c in calls}) == 1, calls  # one connection, kept alive
    for seen in calls:
        headers = seen["headers"]
        assert 0 < int(headers[DEADLINE_HEADER.lower()]) <= 10_000
        assert headers[INTERNAL_HEADER.lower()]
        assert headers["x-request-id"]
    # each call signs a token of its own (a receiver refuses a token id it has seen)
    assert len({c["headers"][INTERNAL_HEADER.lower()] for c in calls}) == 3


def test_a_listing_the_directory_does_not_know_is_not_found_and_nothing_is_raised(watched):
    suite, relay = watched
    missing = str(uuid.uuid4())
    person_id, refused = _raise(suite, missing)
    assert refused.status_code == 404, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert _raised_for(suite, person_id) == 0
    assert relay.seen[-1]["path"] == f"/listings/{missing}/fundability"


def test_a_cost_option_the_listing_lacks_is_refused_with_the_directorys_reason(watched):
    suite, relay = watched
    listing_id = _directory_listing(("salsa", "eastbourne"))
    assert listing_id is not None
    other = str(uuid.uuid4())
    person_id, refused = _raise(suite, listing_id, cost_option_id=other)
    assert refused.status_code == 422, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    # the directory answers 200, not fundable (cost_option_unknown); the budget refuses with it
    assert refused.json()["errors"] == {"listing_id": ["The listing has no such cost option."]}
    assert _raised_for(suite, person_id) == 0
    assert relay.seen[-1]["path"] == f"/listings/{listing_id}/fundability?cost_option_id={other}"
