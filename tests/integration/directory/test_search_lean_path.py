"""The directory's lean `GET /search` (services/directory/api/lean.py, shared/lean.py)
answers exactly as Flask's dispatch does: the same status, headers and body byte for byte, the
same metrics (requests, searches found or not, search latency observations), access-log fields and
search-log rows, on SQLite and PostgreSQL, in process and through a real server; it takes only the
calls it can read as Flask reads them and leaves the rest to Flask.

One directory app (the demo catalogue, its index built from the database) is asked every call
twice, in turns: through the lean path in front of it, and through Flask's own dispatch behind it
(`wsgi_app.flask_wsgi`). A search changes nothing either answer depends on (its log row is
written in the background), so each answer must be the same but for what is made fresh each time:
the search's id in the search log, a generated request id, and the time `Server-Timing` reports.
A call with a token is sent with a fresh token each time (a token id is taken once), but for the
replay cases, which reuse one token on each side.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from webargs.flaskparser import FlaskParser
from werkzeug.test import EnvironBuilder, run_wsgi_app

from services.components import package
from services.directory.adapters.orm import SearchLogEntry
from services.directory.api.lean import INERT_HOOKS, LeanSearch, read_query
from services.directory.api.search import routes
from services.directory.registry import directory_services
from services.directory.search.backend import SearchUnavailable
from services.directory.search.reindex import reindex
from services.directory.seed import seed
from services.directory.service_layer.search_documents import every_listing_document
from services.directory.settings import DirectorySettings, SearchSettings
from shared import lean
from shared.config import ServiceSettings
from shared.db import Database
from shared.granian_serve import AccessLog
from shared.identity import INTERNAL_HEADER, Identity
from shared.internal_tokens import demo_signer
from shared.metrics import add_observer
from shared.migrations import upgrade
from shared.registry import service_core
from tests.lean_differential import Answer, access_lines, moved, samples, serve

PERSON = Identity(sub="advisor-1", role="advisor")
SERVICE = Identity(sub="budget", role="service")


@dataclass
class Directory:
    app: Flask
    var_dir: Path
    urls: tuple[str, str] = ("", "")
    fell_back: list[int] = field(default_factory=lambda: [0])

    @property
    def gate(self) -> lean.LeanService:
        gate = self.app.wsgi_app
        assert isinstance(gate, lean.LeanService)
        return gate


@pytest.fixture
def directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Directory]:
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    upgrade(package("directory"), database_url)
    db = Database(database_url)
    try:
        seed(db)
    finally:
        db.dispose()
    service = replace(ServiceSettings.from_env("directory"), database_url=database_url)
    search = SearchSettings(
        backend="tantivy", index_path=tmp_path / "index", relay_lock_path=tmp_path / "relay.lock"
    )
    from services.directory.app import create_app

    app = create_app(settings=DirectorySettings(service=service, search=search))
    # the index built from the database now (the server's background would build it)
    services = directory_services(app)
    assert reindex(services.search, list(every_listing_document(services.uow))).indexed > 100
    found = Directory(app, tmp_path)
    flask_wsgi = found.gate.flask_wsgi

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        found.fell_back[0] += 1
        return flask_wsgi(environ, start_response)

    found.gate.flask_wsgi = counted
    lean_url, stop_lean = serve(found.gate)
    flask_url, stop_flask = serve(flask_wsgi)
    found.urls = (lean_url, flask_url)
    try:
        yield found
    finally:
        stop_lean()
        stop_flask()
        directory_services(app).search_log.close()
        service_core(app).db.dispose()


# --- the calls -----------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    query: str | None = None  # the query string as a server puts it in QUERY_STRING
    identity: Identity | None = None  # a fresh token naming them, each call
    headers: dict[str, str] = field(default_factory=lambda: {"X-Request-ID": "rid-1"})
    method: str = "GET"
    path: str = "/search"
    body: bytes | None = None
    content_type: str | None = None
    lean: bool = True  # answered by the lean path (else by Flask)
    status: int = 200


GOOD = [
    "q=swimming",
    "q=gym",
    "q=gymnasim&sort=relevance",
    "q=I%27m+17+and+want+boxing+in+Polegate+on+Saturdays",
    "q=dance&category=dance&max_price=2500&age=17&day=saturday&sort=relevance",
    "q=&category=sport-fitness&category=animals&free=true&funding_ready=true",
    "category=sport-fitness",
    "q=climbing&lat=50.8543&lng=0.5735&radius_km=10&sort=distance",
    "q=art&near=BN21+4AB&radius_km=5&page=2&per_page=10",
    "q=gym&near=Eastbourne",
    "q=gym&near=50.77,0.28",
    "q=music&time=evening&welcome=bring_a_friend&accessibility=wheelchair&language=en",
    "q=yoga&facets=category&facets=day",
    "q=free+football+in+Hastings",
    "q=football&sort=price",
    "q=zzqxj+nothing+like+it",
    "page=10000&per_page=50",
    "q=swim&q=run",  # one value taken: the first, as webargs takes it
    "age=17&age=x",
    "q=caf%C3%A9",
    "q=%E2%80%AE+gym",
    "q=%00%ff",  # a byte that is no UTF-8: kept percent-encoded, as werkzeug keeps it
    "q=%3Cscript%3Ealert(1)%3C/script%3E",
    "q=<script>alert(1)</script>",
    "q=a+b%2Bc&&",
    "&q=gym&",
    "q=swim;age=5",
    "q",
    "q=caf\u00c3\u00a9+club",  # raw UTF-8 bytes in the query string, as a server passes them
    "q=" + "x" * 200,
]
FINDING = {f"good {q!r}" for q in ("q=swimming", "q=gym", "q=gym&near=Eastbourne")}
FINDING |= {"a person signed in", "a service searching", "no query string"}
REFUSED_BY_THE_ROUTE = [  # the schema takes them; the route refuses them (a 422 from here)
    "near=Atlantis",
    "q=gym&near=%3Cscript%3E",
    "sort=distance",
    "radius_km=5",
    "sort=distance&radius_km=5",
    "lat=50.8",
    "lng=0.3&q=gym",
    "near=91,0",
    "near=Atlantis&sort=distance&radius_km=3",
]
REFUSED_BY_THE_SCHEMA = [  # 422 by webargs: Flask answers (the schema names every bad field)
    "age=old&per_page=0&max_price=-1&day=someday",
    "age=x",
    "q=" + "x" * 201,
    "lat=nan&lng=0.3",
    "facets=nope&facets=day",
    "sort=random",
    "near=",
    "page=0",
    "free=maybe",
    "free=",
    "facets=",
]
UNKNOWN = ["unknown=1", "q=swim&unknown=1", "=x", "Q=gym"]  # webargs leaves them out: Flask


def cases() -> list[Case]:
    found = [Case(f"good {q!r}", q) for q in GOOD]
    found += [Case(f"route refuses {q!r}", q, status=422) for q in REFUSED_BY_THE_ROUTE]
    found += [
        Case(f"schema refuses {q!r}", q, lean=False, status=422) for q in REFUSED_BY_THE_SCHEMA
    ]
    found += [Case(f"unknown {q!r}", q, lean=False) for q in UNKNOWN]
    found += [
        Case("no query string"),
        Case("an empty query string", ""),
        Case("a person signed in", "q=gym", PERSON),
        Case("a person, refused by the route", "near=Atlantis", PERSON, status=422),
        Case("a service searching", "q=gym", SERVICE),
        Case("an empty token", "q=gym", headers={INTERNAL_HEADER: "", "X-Request-ID": "r"}),
        Case(
            "a garbage token",
            "q=gym",
            headers={INTERNAL_HEADER: "abc.def", "X-Request-ID": "r"},
            status=401,
        ),
        Case("no request id", "q=gym", headers={}),
        Case("a long request id", "q=gym", headers={"X-Request-ID": "i" * 300}),
        Case("an odd request id", "q=gym", headers={"X-Request-ID": "caf\u00e9"}, lean=False),
        Case("a deadline", "q=gym", headers={"X-Deadline-Ms": "2000"}),
        Case("HEAD", "q=gym", method="HEAD", lean=False),
        Case("POST", "q=gym", method="POST", lean=False, status=405),
        Case("a trailing slash", "q=gym", path="/search/", lean=False, status=404),
        Case("a JSON body", "q=gym", body=b"{}", content_type="application/json", lean=False),
        Case("a form", "q=gym", body=b"q=x", content_type="text/plain", lean=False),
        Case("the health check", path="/health", lean=False),
        Case("the unmet-demand report", path="/search/unmet-demand", lean=False, status=401),
    ]
    return found


# --- answers compared ----------------------------------------------------------------------

_GENERATED_ID = re.compile(r"[0-9a-f]{32}")
_SEARCH_ID = re.compile(rb'"search_id":"([0-9a-f-]{36})"')
_TIMING = re.compile(r"^understand;dur=\d+\.\d{3}$")
_METRICS = ("phb_http_requests", "phb_searches", "phb_search_duration_seconds")
_SUFFIXES = ("_total", "_count")  # (the latency histogram: its observations counted)


def _headers(directory: Directory, case: Case, token: str | None = None) -> dict[str, str]:
    headers = dict(case.headers)
    if case.identity is not None:
        issuer = case.identity.sub if case.identity.is_service else "gateway"
        signer = demo_signer(directory.var_dir, issuer)
        headers[INTERNAL_HEADER] = signer.sign(case.identity, "directory")
    if token is not None:
        headers[INTERNAL_HEADER] = token
    return headers


def _in_process(wsgi: Any, case: Case, headers: dict[str, str]) -> Answer:
    builder = EnvironBuilder(
        path=case.path,
        method=case.method,
        headers=headers,
        data=case.body,
        content_type=case.content_type,
    )
    environ = builder.get_environ()
    if case.query is not None:
        environ["QUERY_STRING"] = case.query.encode().decode("latin-1")  # as a server sets it
    if case.body is None:
        environ.pop("CONTENT_LENGTH", None)
    iterable, status, wsgi_headers = run_wsgi_app(
        AccessLog(wsgi, inherited={}), environ, buffered=True
    )
    return status, wsgi_headers.to_wsgi_list(), b"".join(iterable)


def _over_http(url: str, case: Case, headers: dict[str, str]) -> Answer:
    if case.content_type:
        headers = {**headers, "Content-Type": case.content_type}
    full = url + case.path + (f"?{case.query}" if case.query is not None else "")
    answer = requests.request(
        case.method, full, headers=headers, data=case.body, timeout=60, allow_redirects=False
    )
    kept = [(k, v) for k, v in answer.raw.headers.items() if k.lower() not in ("date", "server")]
    return str(answer.status_code), kept, answer.content


def _made_fresh(lean_answer: Answer, flask_answer: Answer) -> tuple[Answer, Answer]:
    """Both answers with what each call makes fresh made alike: the search id, a generated
    request id, the time Server-Timing reports (checked for its form)."""
    (status, ours, body), (_status, theirs, their_body) = lean_answer, flask_answer
    mine_id = _SEARCH_ID.search(body)
    their_id = _SEARCH_ID.search(their_body)
    if mine_id and their_id:
        body = body.replace(mine_id.group(1), their_id.group(1))
    our_rid = next((v for k, v in ours if k.lower() == "x-request-id"), "")
    their_rid = next((v for k, v in theirs if k.lower() == "x-request-id"), "")
    if our_rid != their_rid and _GENERATED_ID.fullmatch(our_rid):
        ours = [(k, v.replace(our_rid, their_rid)) for k, v in ours]
        body = body.replace(our_rid.encode(), their_rid.encode())

    def timed(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        kept = []
        for name, value in headers:
            if name.lower() == "server-timing":
                assert _TIMING.match(value), value
                value = "understand;dur=…"
            kept.append((name, value))
        return kept

    return (status, timed(ours), body), (flask_answer[0], timed(theirs), their_body)


def _log_rows(directory: Directory) -> list[tuple[Any, ...]]:
    services = directory_services(directory.app)
    services.search_log.settle()
    with service_core(directory.app).db.session() as session:
        rows = session.execute(
            select(
                SearchLogEntry.words,
                SearchLogEntry.categories,
                SearchLogEntry.filters,
                SearchLogEntry.town,
                SearchLogEntry.results,
                SearchLogEntry.nearby,
                SearchLogEntry.unmet,
                SearchLogEntry.changes,
                SearchLogEntry.searcher,
            ).order_by(SearchLogEntry.at, SearchLogEntry.id)
        )
        return [tuple(row) for row in rows]


def _log_count(directory: Directory) -> int:
    directory_services(directory.app).search_log.settle()
    with service_core(directory.app).db.session() as session:
        return int(session.scalar(select(func.count()).select_from(SearchLogEntry)) or 0)


def _compare(
    directory: Directory,
    case: Case,
    send: Callable[[Any, Case, dict[str, str]], Answer],
    targets: tuple[Any, Any],
    tokens: tuple[str | None, str | None] = (None, None),
) -> bool:
    """One case sent to each path; True when the lean path answered it."""
    before_fallbacks = directory.fell_back[0]
    logged = _log_count(directory)
    with access_lines() as lines:
        before = samples(_METRICS, _SUFFIXES)
        lean_answer = send(targets[0], case, _headers(directory, case, tokens[0]))
        moved_lean = moved(before, samples(_METRICS, _SUFFIXES))
        lean_taken = directory.fell_back[0] == before_fallbacks
        logged_lean = _log_count(directory) - logged
        before = samples(_METRICS, _SUFFIXES)
        flask_answer = send(targets[1], case, _headers(directory, case, tokens[1]))
        moved_flask = moved(before, samples(_METRICS, _SUFFIXES))
        logged_flask = _log_count(directory) - logged - logged_lean
    lean_answer, flask_answer = _made_fresh(lean_answer, flask_answer)
    if case.name in FINDING:  # (the catalogue is searched: these find listings)
        assert b'"total":0,' not in lean_answer[2] and b'"hits":[{' in lean_answer[2], case.name
    assert lean_answer[0] == flask_answer[0], case.name
    assert int(flask_answer[0].split()[0]) == case.status, case.name
    assert lean_answer[1] == flask_answer[1], case.name
    assert lean_answer[2] == flask_answer[2], case.name
    assert moved_lean == moved_flask, case.name
    assert logged_lean == logged_flask, case.name
    if lines.fields:  # (in process: the access log's lines, but for a generated id)
        ours, theirs = lines.fields
        if "X-Request-ID" not in case.headers:
            ours["request_id"] = theirs["request_id"]
        assert ours == theirs, case.name
    assert lean_taken == case.lean, case.name
    return lean_taken


def _run(directory: Directory, send: Callable[..., Answer], targets: tuple[Any, Any]) -> int:
    taken = sum(_compare(directory, case, send, targets) for case in cases())
    # a token's id is taken once: its second use is a 401 on each path
    signer = demo_signer(directory.var_dir)
    twice = (signer.sign(PERSON, "directory"), signer.sign(PERSON, "directory"))
    for name in ("a token's first use", "the token again"):
        case = Case(name, "q=gym", headers={"X-Request-ID": "t"})
        case.status = 200 if name.endswith("use") else 401
        assert _compare(directory, case, send, targets, twice)
    expired = (
        signer.sign(PERSON, "directory", ttl_seconds=-60),
        signer.sign(PERSON, "directory", ttl_seconds=-60),
    )
    case = Case("an expired token", "q=gym", status=401)
    assert _compare(directory, case, send, targets, expired)
    other = (signer.sign(PERSON, "budget"), signer.sign(PERSON, "budget"))
    case = Case("another audience", "q=gym", status=401)
    assert _compare(directory, case, send, targets, other)
    return taken


def test_search_answers_as_flask_in_process(directory: Directory) -> None:
    taken = _run(directory, _in_process, (directory.gate, directory.gate.flask_wsgi))
    assert taken == sum(case.lean for case in cases())
    rows = _log_rows(directory)
    assert rows and len(rows) % 2 == 0
    assert sorted(rows[0::2], key=repr) == sorted(rows[1::2], key=repr)  # each row twice


def test_search_answers_as_flask_through_a_real_server(directory: Directory) -> None:
    taken = _run(directory, _over_http, directory.urls)
    assert taken == sum(case.lean for case in cases())


def test_search_unavailable_is_answered_as_flask_answers_it(
    directory: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = directory_services(directory.app).search

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise SearchUnavailable("the index is gone")

    monkeypatch.setattr(backend, "search", down)
    monkeypatch.setattr(backend, "search_words", down)
    case = Case("the engine down", "q=gym", status=503)
    assert _compare(directory, case, _in_process, (directory.gate, directory.gate.flask_wsgi))


def test_an_unexpected_error_is_answered_as_flask_answers_it(
    directory: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.directory.service_layer import searching

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(searching, "answer", broken)
    case = Case("the engine broken", "q=gym", status=500)
    before = directory.fell_back[0]
    lean_answer = _in_process(directory.gate, case, _headers(directory, case))
    flask_answer = _in_process(directory.gate.flask_wsgi, case, _headers(directory, case))
    assert lean_answer == flask_answer
    assert b"secret" not in lean_answer[2]
    assert directory.fell_back[0] == before + 1  # (the second call, sent to Flask itself)


# --- what it takes, and when it stands aside ----------------------------------------------


def test_the_lean_path_is_in_front_of_flask_by_default(directory: Directory) -> None:
    assert [r.endpoint for routes_ in directory.gate.routes.values() for r in routes_] == [
        "search.Search"
    ]
    assert directory.gate.with_write == {"search.Search": False}


@pytest.mark.parametrize("change", ["view", "not public", "parser", "observer", "hook"])
def test_anything_it_does_not_mirror_leaves_every_call_to_flask(
    directory: Directory, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = directory.app
    search_routes = [LeanSearch(app)]
    monkeypatch.delattr(app, "wsgi_app")  # Flask's own, as before install
    assert lean.mirrors(app, search_routes, INERT_HOOKS) is not None
    if change == "view":
        app.view_functions["search.Search"] = lambda: "bypassed"
    elif change == "not public":
        monkeypatch.delattr(routes.Search.get, "_phb_public")
    elif change == "parser":
        monkeypatch.setattr(routes.blp, "ARGUMENTS_PARSER", object())
        search_routes = [LeanSearch(app)]
    elif change == "observer":
        add_observer(app, lambda _response, _elapsed: None)
    else:
        app.before_request(lambda: None)
    assert lean.mirrors(app, search_routes, INERT_HOOKS) is None


WEBARGS = FlaskParser()  # webargs' own reading, by the schema
QUERY_TEXT = st.text(alphabet=st.sampled_from(list("qagefrncyt_=&;+%2C0F9xé<>/ ")), max_size=40)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=QUERY_TEXT | st.sampled_from(GOOD + REFUSED_BY_THE_SCHEMA + UNKNOWN))
def test_a_query_string_is_read_as_webargs_reads_it(directory: Directory, query: str) -> None:
    """What the lean view is given is what Flask's view is given, or nothing (Flask reads)."""
    route = LeanSearch(directory.app)
    assert route.reader is not None
    raw = query.encode().decode("latin-1")
    quick = read_query(route.reader, raw)
    environ = EnvironBuilder(path="/search").get_environ()
    environ["QUERY_STRING"] = raw
    with directory.app.request_context(environ):
        try:
            parsed = WEBARGS.parse(routes.SEARCH_ARGS, location="query")
        except Exception:  # noqa: BLE001 - refused: the lean path must not have read it
            parsed = None
    if quick is not None:
        assert quick == parsed
