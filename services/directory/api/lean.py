"""The directory's `GET /search` answered without Flask's dispatch (shared.lean).

The view here does what the Flask view does (services/directory/api/search/routes.py): the
arguments as the route's parser reads them (`shared.query_args.QueryReader`, the reader webargs'
parser keeps for the route's own schema instance, over the query string parsed as werkzeug parses
`request.args`), then the same `run_search` (the query, the engine, the search log's row, the
answer's bytes: `searching.search_answer`) and the same headers. The search metrics are counted by
`SearchObserver.outside_request` (shared.metrics) from the answer's total.

It takes only what it can tell Flask would read the same way: a query string that is UTF-8 once
percent-decoded as werkzeug decodes it, whose every argument the schema knows and every value it
takes (the reader answers only when sure). Anything else goes to Flask before anything is done: an
unknown argument, a value the schema refuses (its 422 names every bad field), a body with a type
(the app's hook reads a JSON one), HEAD, a trailing slash. A query the schema takes and the route
then refuses (a place it can't find, lat without lng) is answered here as the app's handlers
answer it (`problem_for`), so those 422s are the same bytes.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qsl

# werkzeug's codec error handler `werkzeug.url_quote` is registered by importing werkzeug.urls
import werkzeug.urls  # noqa: F401
from flask import Flask
from werkzeug.datastructures import ImmutableMultiDict

from services.directory.api.search import routes
from services.directory.registry import directory_services
from shared.json_provider import OrjsonProvider
from shared.lean import Answer, Call, LeanRoute
from shared.query_args import QueryReader, QuickQueryParser


class LeanSearch:
    """`GET /search` (services.directory.api.search.routes.Search)."""

    endpoint = "search.Search"
    rule = "/search"
    method = "GET"
    takes_query = True
    public = True

    def __init__(self, app: Flask):
        self.app = app
        self.services = directory_services(app)
        self.reader = _reader()

    def match(self, path: str) -> dict[str, str] | None:
        return {} if path == "/search" else None

    def mirrors(self, view: Any) -> bool:
        parser = routes.blp.ARGUMENTS_PARSER
        return (
            getattr(view, "view_class", None) is routes.VIEWS["search"]
            and type(parser) is QuickQueryParser
            and self.reader is not None
        )

    def prepare(self, environ: dict[str, Any], args: dict[str, str]) -> dict[str, Any] | None:
        """The arguments as the route's parser gives them to the view, or None (Flask reads)."""
        if environ.get("CONTENT_TYPE") or self.reader is None:
            return None
        return read_query(self.reader, environ.get("QUERY_STRING", ""))

    def view(self, call: Call, prepared: dict[str, Any]) -> Answer:
        json = cast(OrjsonProvider, self.app.json)  # (installed only with it: shared.lean.mirrors)
        answered = routes.run_search(self.services, prepared, call.identity, json)
        body = answered.body
        headers = [
            ("Content-Type", json.mimetype),  # as `response_class(body, mimetype=...)` has them
            ("Content-Length", str(len(body))),
            ("Server-Timing", answered.server_timing),
        ]
        # (the search metrics read the total: shared.metrics.SearchObserver)
        return Answer(200, headers, body, {"total": answered.total})


def read_query(reader: QueryReader, query_string: str) -> dict[str, Any] | None:
    """The arguments as webargs (by `reader`) reads them from `request.args` for this query
    string (a WSGI environ's `QUERY_STRING`), or None when not sure of that."""
    try:  # as werkzeug's `Request.args`
        text = query_string.encode("latin-1").decode()
        pairs = parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote")
    except (UnicodeError, ValueError):
        return None
    try:
        return reader.read(ImmutableMultiDict(pairs))
    except Exception:  # noqa: BLE001 - anything odd: the schema reads it in Flask
        return None


def _reader() -> QueryReader | None:
    parser = routes.blp.ARGUMENTS_PARSER
    if not isinstance(parser, QuickQueryParser):
        return None
    known = parser.readers.get(id(routes.SEARCH_ARGS))
    if known is None or known[0] is not routes.SEARCH_ARGS:
        return None
    return known[1]


# The app's request hooks that leave a search alone: the ORUK feed's CORS headers go only on
# answers to /oruk paths (tests/integration/directory/test_search_lean_path.py holds the
# answers equal, headers included).
INERT_HOOKS = ("services.directory.api.oruk.routes:_cors",)


def lean_routes(app: Flask) -> list[LeanRoute]:
    return [LeanSearch(app)]
