"""The budget's lean path (shared/lean.py, services/budget/api/lean.py) answers the approval and
`whoami` exactly as Flask's dispatch does: the same status, headers and body byte for byte, the
same metrics, access-log fields, token ids recorded and money moved, on SQLite and PostgreSQL, in
process and through a real server; it takes only the calls it mirrors and stands aside when the
app has anything it does not.

Two databases start as copies of one world (SQLite: the file; PostgreSQL: a template copy), the
clock is the same fixed instant for both, and every call is sent once to an app with the lean path
and once to Flask's own dispatch of a second app on the copy, in the same order: each world sees
the same calls (the same tokens, request ids and keys), so each answer must be the same.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from werkzeug.test import EnvironBuilder, run_wsgi_app

from services.budget.api.lean import LeanApproval
from services.budget.api.requests import routes
from services.launcher import free_port
from shared import clock, lean
from shared.granian_serve import AccessLog
from shared.identity import INTERNAL_HEADER, Identity
from shared.internal_tokens import TokenSigner, demo_signer, new_private_key
from shared.json_limits import nests_too_deeply
from shared.metrics import add_observer
from shared.registry import service_core
from shared.whoami import LeanWhoAmI
from tests.integration.budget import factories
from tests.integration.budget.helpers import migrated
from tests.lean_differential import Answer, access_lines, moved, samples, serve

FROZEN = datetime(2026, 11, 24, 10, 30, 15, 123456, tzinfo=UTC)
HOLDER = Identity(sub="holder-1", role="budget_holder")
STRANGER = Identity(sub="holder-elsewhere", role="budget_holder")
ADVISOR = Identity(sub="advisor-1", role="advisor")


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return FROZEN if tz is not None else FROZEN.replace(tzinfo=None)


@dataclass
class World:
    requests: list[str]  # submitted, each approved by at most one case
    big: str  # submitted, more than the young person's budget
    draft: str
    var_dir: Path


@dataclass
class Twins:
    lean_app: Flask  # the lean path in front of Flask
    flask_app: Flask  # its twin on the copy, asked through Flask's own dispatch only
    world: World
    urls: tuple[str, str]
    fell_back: list[int] = field(default_factory=lambda: [0])

    @property
    def gate(self) -> lean.LeanService:
        gate = self.lean_app.wsgi_app
        assert isinstance(gate, lean.LeanService)
        return gate


@contextmanager
def _copy_of(url: str, tmp_path: Path) -> Iterator[str]:
    """A copy of the database at `url` (nothing connected to it)."""
    if url.startswith("sqlite"):
        source = Path(url.removeprefix("sqlite:///"))
        target = tmp_path / "twin.db"
        shutil.copyfile(source, target)
        for suffix in ("-wal", "-shm"):
            if Path(f"{source}{suffix}").exists():
                shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
        yield f"sqlite:///{target}"
        return
    base, _, name = url.rpartition("/")
    twin = f"phb_budgetlean_{uuid.uuid4().hex[:10]}"
    admin = f"{base}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{twin}" TEMPLATE "{name}"')
    try:
        yield f"{base}/{twin}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{twin}" WITH (FORCE)')


def _seed(url: str, var_dir: Path) -> World:
    db = migrated(url)
    try:
        scheme = factories.create_scheme(db, cap_pence=1_000_000)
        factories.create_pot(db, scheme_id=scheme.id, amount_pence=1_000_000)
        person_id, goal_id = factories.create_young_person(
            db, scheme_id=scheme.id, allocation_pence=100_000
        )
        ids = [
            factories.create_request(db, person_id=person_id, goal_id=goal_id, amount_pence=700)[
                "id"
            ]
            for _ in range(24)
        ]
        big = factories.create_request(
            db, person_id=person_id, goal_id=goal_id, amount_pence=90_000
        )["id"]
        # (the same young person's budget: the big one is refused once the rest are approved)
        draft = factories.create_request(
            db, person_id=person_id, goal_id=goal_id, amount_pence=500, state="draft"
        )["id"]
    finally:
        db.dispose()
    return World(ids, big, draft, var_dir)


@pytest.fixture
def twins(database_url, tmp_path, monkeypatch) -> Iterator[Twins]:
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DIRECTORY_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("OUTCOMES_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr(clock, "datetime", _FrozenDatetime)
    world = _seed(database_url, tmp_path)
    from services.budget.app import create_app

    with _copy_of(database_url, tmp_path) as copy:
        lean_app = create_app({"DATABASE_URL": database_url})
        flask_app = create_app({"DATABASE_URL": copy})
        twins = Twins(lean_app, flask_app, world, ("", ""))
        flask_wsgi = twins.gate.flask_wsgi

        def counted(environ: dict[str, Any], start_response: Any) -> Any:
            twins.fell_back[0] += 1
            return flask_wsgi(environ, start_response)

        twins.gate.flask_wsgi = counted
        flask_gate = flask_app.wsgi_app
        assert isinstance(flask_gate, lean.LeanService)
        lean_url, stop_lean = serve(lean_app)
        flask_url, stop_flask = serve(flask_gate.flask_wsgi)
        twins.urls = (lean_url, flask_url)
        try:
            yield twins
        finally:
            stop_lean()
            stop_flask()
            service_core(lean_app).db.dispose()
            service_core(flask_app).db.dispose()


# --- the calls -----------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None
    content_type: str | None = None
    query: str | None = None
    lean: bool = True  # answered by the lean path (else by Flask)


def _token(world: World, identity: Identity = HOLDER, **kwargs: Any) -> str:
    return demo_signer(world.var_dir).sign(identity, kwargs.pop("audience", "budget"), **kwargs)


def _forged(identity: Identity = HOLDER) -> str:
    return TokenSigner("gateway", new_private_key()).sign(identity, "budget")


def _tampered(token: str) -> str:
    head, claims, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    data["role"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{signature}"


def cases(world: World) -> list[Case]:
    """The calls, in order (later ones see what earlier ones did)."""
    ids = iter(world.requests)
    r = [next(ids) for _ in range(20)]

    def auth(identity: Identity = HOLDER, **extra: str) -> dict[str, str]:
        return {INTERNAL_HEADER: _token(world, identity), "X-Request-ID": "rid-1", **extra}

    used = _token(world)
    used_for_whoami = _token(world)
    approve = "/requests/{}/approve".format
    json_type = "application/json"
    return [
        Case("no body, a key", "POST", approve(r[0]), auth(**{"Idempotency-Key": "k-0"})),
        Case("the key replayed", "POST", approve(r[0]), auth(**{"Idempotency-Key": "k-0"})),
        Case(
            "the key with another body",
            "POST",
            approve(r[0]),
            auth(**{"Idempotency-Key": "k-0"}),
            b'{"reason": "other"}',
            json_type,
        ),
        Case("approved already, no key", "POST", approve(r[0]), auth()),
        Case(
            "approved already, a new key", "POST", approve(r[0]), auth(**{"Idempotency-Key": "n"})
        ),
        Case("that refusal replayed", "POST", approve(r[0]), auth(**{"Idempotency-Key": "n"})),
        Case("no key", "POST", approve(r[1]), auth()),
        Case(
            "JSON {}", "POST", approve(r[2]), auth(**{"Idempotency-Key": "k-2"}), b"{}", json_type
        ),
        Case("JSON, no body", "POST", approve(r[3]), auth(), b"", json_type),
        Case(
            "less, with a reason",
            "POST",
            approve(r[4]),
            auth(**{"Idempotency-Key": "k-4"}),
            b'{"amount_pence": 500, "reason": "Fits the plan \\u00e9"}',
            json_type,
        ),
        Case(
            "less, without a reason",
            "POST",
            approve(r[5]),
            auth(),
            b'{"amount_pence": 500}',
            json_type,
        ),
        Case(
            "more than asked",
            "POST",
            approve(r[5]),
            auth(),
            b'{"amount_pence": 5000, "reason": "x"}',
            json_type,
        ),
        Case(
            "nulls",
            "POST",
            approve(r[6]),
            auth(),
            b'{"amount_pence": null, "reason": null}',
            json_type,
        ),
        Case(
            "a string amount",
            "POST",
            approve(r[7]),
            auth(),
            b'{"amount_pence": "5"}',
            json_type,
            lean=False,
        ),
        Case("an unknown field", "POST", approve(r[7]), auth(), b'{"x": 1}', json_type, lean=False),
        Case(
            "a reason too long",
            "POST",
            approve(r[7]),
            auth(),
            b'{"reason": "' + b"a" * 2001 + b'"}',
            json_type,
            lean=False,
        ),
        Case(
            "malformed JSON", "POST", approve(r[7]), auth(), b'{"reason": ', json_type, lean=False
        ),
        Case("a JSON list", "POST", approve(r[7]), auth(), b"[]", json_type, lean=False),
        Case("whitespace", "POST", approve(r[7]), auth(), b" ", json_type, lean=False),
        Case(
            "not UTF-8", "POST", approve(r[7]), auth(), b'{"reason": "\xff"}', json_type, lean=False
        ),
        Case(
            "too deep", "POST", approve(r[7]), auth(), b"[" * 40 + b"]" * 40, json_type, lean=False
        ),
        Case(
            "too large",
            "POST",
            approve(r[7]),
            auth(),
            b'{"reason": "' + b"a" * 1_000_001 + b'"}',
            json_type,
            lean=False,
        ),
        Case(
            "a form",
            "POST",
            approve(r[7]),
            auth(),
            b"reason=x",
            "application/x-www-form-urlencoded",
            lean=False,
        ),
        Case("text, no body", "POST", approve(r[7]), auth(), b"", "text/plain", lean=False),
        Case(
            "JSON with a charset",
            "POST",
            approve(r[7]),
            auth(),
            b"{}",
            "application/json; charset=utf-8",
            lean=False,
        ),
        Case("a query string", "POST", approve(r[8]), auth(), query="x=1", lean=False),
        Case("no token", "POST", approve(r[9]), {"X-Request-ID": "rid-2"}),
        Case("an empty token", "POST", approve(r[9]), {INTERNAL_HEADER: "", "X-Request-ID": "r"}),
        Case(
            "a garbage token",
            "POST",
            approve(r[9]),
            {INTERNAL_HEADER: "abc.def", "X-Request-ID": "r"},
        ),
        Case("a forged token", "POST", approve(r[9]), {INTERNAL_HEADER: _forged()}),
        Case(
            "a tampered token", "POST", approve(r[9]), {INTERNAL_HEADER: _tampered(_token(world))}
        ),
        Case(
            "an expired token",
            "POST",
            approve(r[9]),
            {INTERNAL_HEADER: _token(world, ttl_seconds=-60)},
        ),
        Case(
            "another audience",
            "POST",
            approve(r[9]),
            {INTERNAL_HEADER: _token(world, audience="directory")},
        ),
        Case("an advisor", "POST", approve(r[9]), auth(ADVISOR)),
        Case("another scheme's holder", "POST", approve(r[9]), auth(STRANGER)),
        Case("no such request", "POST", approve("nope"), auth()),
        Case("an odd id", "POST", approve("caf\u00c3\u00a9 x"), auth(**{"Idempotency-Key": "odd"})),
        Case("a draft", "POST", approve(world.draft), auth(**{"Idempotency-Key": "d"})),
        Case("a key too long", "POST", approve(r[9]), auth(**{"Idempotency-Key": "k" * 201})),
        Case("an empty key", "POST", approve(r[9]), auth(**{"Idempotency-Key": ""})),
        Case("a deadline", "POST", approve(r[9]), auth(**{"X-Deadline-Ms": "2000"})),
        Case(
            "a token's first use",
            "POST",
            approve(r[10]),
            {INTERNAL_HEADER: used, "X-Request-ID": "a"},
        ),
        Case(
            "the token again", "POST", approve(r[11]), {INTERNAL_HEADER: used, "X-Request-ID": "b"}
        ),
        Case(
            "the token again, a key",
            "POST",
            approve(r[11]),
            {INTERNAL_HEADER: used, "Idempotency-Key": "u"},
        ),
        Case("a refused token's reuse", "POST", approve("nope"), {INTERNAL_HEADER: used}),
        Case("no request id", "POST", approve(r[12]), {INTERNAL_HEADER: _token(world)}),
        Case("a long request id", "POST", approve(r[13]), auth(**{"X-Request-ID": "i" * 300})),
        Case(
            "an odd request id",
            "POST",
            approve(r[13]),
            auth(**{"X-Request-ID": "caf\u00e9"}),
            lean=False,
        ),
        Case("not enough money", "POST", approve(world.big), auth(**{"Idempotency-Key": "big"})),
        Case(
            "that refusal replayed", "POST", approve(world.big), auth(**{"Idempotency-Key": "big"})
        ),
        Case("GET the approval", "GET", approve(r[14]), auth(), lean=False),
        Case("a trailing slash", "POST", approve(r[14]) + "/", auth(), lean=False),
        Case("a double slash", "POST", "/requests//approve", auth(), lean=False),
        Case(
            "reject",
            "POST",
            f"/requests/{r[14]}/reject",
            auth(),
            b'{"reason": "no"}',
            json_type,
            lean=False,
        ),
        Case("whoami", "GET", "/whoami", auth()),
        Case(
            "whoami, a provider",
            "GET",
            "/whoami",
            auth(Identity(sub="p-1", role="provider", provider_id="prov-1")),
        ),
        Case("whoami, no token", "GET", "/whoami", {}),
        Case(
            "whoami, expired", "GET", "/whoami", {INTERNAL_HEADER: _token(world, ttl_seconds=-60)}
        ),
        Case("whoami, first", "GET", "/whoami", {INTERNAL_HEADER: used_for_whoami}),
        Case("whoami, replayed", "GET", "/whoami", {INTERNAL_HEADER: used_for_whoami}),
        Case("whoami, a query", "GET", "/whoami", auth(), query="a=b", lean=False),
        Case("whoami, a JSON body", "GET", "/whoami", auth(), b"{}", json_type, lean=False),
        Case("whoami, HEAD", "HEAD", "/whoami", auth(), lean=False),
        Case("whoami, POST", "POST", "/whoami", auth(), lean=False),
        Case("health", "GET", "/health", {}, lean=False),
    ]


# --- answers compared ----------------------------------------------------------------------

_GENERATED_ID = re.compile(rb"[0-9a-f]{32}")
_METRICS = ("phb_http_requests", "phb_budget_decisions")


def _in_process(wsgi: Any, case: Case) -> Answer:
    builder = EnvironBuilder(
        path=case.path,
        method=case.method,
        headers=case.headers,
        data=case.body,
        content_type=case.content_type,
        query_string=case.query,
    )
    environ = builder.get_environ()
    if case.body is None:
        environ.pop("CONTENT_LENGTH", None)
    iterable, status, headers = run_wsgi_app(AccessLog(wsgi, inherited={}), environ, buffered=True)
    return status, headers.to_wsgi_list(), b"".join(iterable)


def _over_http(url: str, case: Case) -> Answer:
    headers = dict(case.headers)
    if case.content_type:
        headers["Content-Type"] = case.content_type
    full = url + case.path + (f"?{case.query}" if case.query else "")
    answer = requests.request(case.method, full, headers=headers, data=case.body, timeout=60)
    kept = [(k, v) for k, v in answer.raw.headers.items() if k.lower() not in ("date", "server")]
    return str(answer.status_code), kept, answer.content


def _same_generated_ids(lean_answer: Answer, flask_answer: Answer) -> Answer:
    """The lean answer with its generated request id (32 hex digits) as Flask's."""
    ours = next((v for k, v in lean_answer[1] if k.lower() == "x-request-id"), "")
    theirs = next((v for k, v in flask_answer[1] if k.lower() == "x-request-id"), "")
    if ours == theirs or not _GENERATED_ID.fullmatch(ours.encode()):
        return lean_answer
    status, headers, body = lean_answer
    swapped = [(k, v.replace(ours, theirs)) for k, v in headers]
    return status, swapped, body.replace(ours.encode(), theirs.encode())


def _run(twins: Twins, send: Callable[[Any, Case], Answer], targets: tuple[Any, Any]) -> int:
    taken = 0
    for case in cases(twins.world):
        before_fallbacks = twins.fell_back[0]
        with access_lines() as lines:
            before = samples(_METRICS)
            lean_answer = send(targets[0], case)
            moved_lean = moved(before, samples(_METRICS))
            before = samples(_METRICS)
            flask_answer = send(targets[1], case)
            moved_flask = moved(before, samples(_METRICS))
        lean_answer = _same_generated_ids(lean_answer, flask_answer)
        assert lean_answer[0] == flask_answer[0], case.name
        assert lean_answer[1] == flask_answer[1], case.name
        assert lean_answer[2] == flask_answer[2], case.name
        assert moved_lean == moved_flask, case.name
        if lines.fields:  # (in process: the access log's lines, but for the generated id)
            ours, theirs = lines.fields
            if "X-Request-ID" not in case.headers:  # generated: each its own
                ours["request_id"] = theirs["request_id"]
            assert ours == theirs, case.name
        lean_taken = twins.fell_back[0] == before_fallbacks
        assert lean_taken == case.lean, case.name
        taken += lean_taken
    return taken


def _same_worlds(twins: Twins) -> None:
    """Both databases hold the same requests, money, keys and token ids after the calls."""
    queries = [
        "SELECT id, state, amount_pence, approved_by, reason FROM purchase_requests ORDER BY id",
        "SELECT count(*), sum(debit_pence), sum(credit_pence) FROM ledger_entries",
        "SELECT key, state, status_code FROM idempotency_keys ORDER BY key",
        "SELECT jti FROM used_token_ids ORDER BY jti",
        "SELECT count(*) FROM outbox",
    ]
    found = []
    for app in (twins.lean_app, twins.flask_app):
        with service_core(app).db.session() as session:
            found.append([[tuple(row) for row in session.execute(text(q))] for q in queries])
    assert found[0] == found[1]
    assert len(found[0][3]) > 10  # token ids were recorded


def test_the_lean_path_answers_as_flask_in_process(twins):
    taken = _run(twins, _in_process, (twins.lean_app.wsgi_app, _flask_of(twins)))
    assert taken >= 40
    _same_worlds(twins)


def _flask_of(twins: Twins) -> Any:
    gate = twins.flask_app.wsgi_app
    assert isinstance(gate, lean.LeanService)
    return gate.flask_wsgi


def test_the_lean_path_answers_as_flask_through_a_real_server(twins):
    taken = _run(twins, _over_http, twins.urls)
    assert taken >= 40
    _same_worlds(twins)


# --- which calls it takes, and when it stands aside ----------------------------------------


@pytest.fixture
def app(tmp_path, monkeypatch) -> Iterator[Flask]:
    monkeypatch.setenv("PHB_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DIRECTORY_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("OUTCOMES_URL", f"http://127.0.0.1:{free_port()}")
    from services.budget.app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'budget.db'}"})
    yield app
    service_core(app).db.dispose()


PATHS = [
    "/requests/r1/approve",
    "/requests/r1/approve/",
    "/requests//approve",
    "/requests/approve",
    "/requests/a/b/approve",
    "/requests/r1/approvex",
    "/requests/r1/reject",
    "/requests/caf\u00c3\u00a9 x/approve",  # UTF-8 bytes as a server puts them in PATH_INFO
    "/requests/%2F/approve",
    "//requests/r1/approve",
    "/requests/r1//approve",
    "/requests/r1",
    "/whoami",
    "/whoami/",
    "//whoami",
    "/whoamix",
    "/health",
    "/",
]


@pytest.mark.parametrize("path", PATHS)
def test_the_lean_path_takes_a_call_only_where_flasks_map_sends_it_to_its_view(app, path):
    adapter = app.url_map.bind("localhost")
    routes = [LeanApproval(app), LeanWhoAmI(app)]
    for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "BREW"):
        decoded = path.encode("latin-1").decode()
        taken = [
            (route.endpoint, args)
            for route in routes
            if route.method == method
            and "//" not in path
            and (args := route.match(decoded)) is not None
        ]
        try:
            rule, args = adapter.match(decoded, method, return_rule=True)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            assert taken == [], (method, path)
            continue
        expected = [(rule.endpoint, args)] if rule.endpoint in {r.endpoint for r in routes} else []
        if method in ("HEAD", "OPTIONS") or "//" in path:
            expected = []  # left to Flask: no route's method here, or a path it may rewrite
        assert taken == expected, (method, path)


def test_the_lean_path_is_in_front_of_flask_by_default(app):
    gate = app.wsgi_app
    assert isinstance(gate, lean.LeanService)
    assert gate.with_write == {"requests.request_approve": True, "whoami.WhoAmI": False}


@pytest.mark.parametrize(
    "change",
    [
        "before_request",
        "after_request",
        "teardown_request",
        "blueprint_hook",
        "errorhandler",
        "route",
        "view",
        "public",
        "teardown_appcontext",
        "metric_observer",
        "signal",
        "middleware",
        "json",
    ],
)
def test_anything_the_lean_path_does_not_mirror_leaves_every_call_to_flask(app, change):
    gate = app.wsgi_app
    assert isinstance(gate, lean.LeanService)
    app.wsgi_app = gate.flask_wsgi  # type: ignore[method-assign]
    routes = [LeanApproval(app), LeanWhoAmI(app)]
    assert lean.mirrors(app, routes) is not None
    receiver = None
    if change == "before_request":
        app.before_request(lambda: None)
    elif change == "after_request":
        app.after_request(lambda response: response)
    elif change == "teardown_request":
        app.teardown_request(lambda _exc: None)
    elif change == "blueprint_hook":
        app.before_request_funcs.setdefault("requests", []).append(lambda: None)
    elif change == "errorhandler":
        app.register_error_handler(KeyError, lambda _err: ("", 500))
    elif change == "route":
        app.add_url_rule("/requests/all/approve", "all", lambda: "all", methods=["POST"])
    elif change == "view":
        app.view_functions["requests.request_approve"] = lambda **_kwargs: "bypassed"
    elif change == "public":
        view = app.view_functions["whoami.WhoAmI"]
        view.view_class.get._phb_public = True  # type: ignore[attr-defined]
    elif change == "metric_observer":
        add_observer(app, lambda _response, _elapsed: None)
    elif change == "signal":
        from flask import request_finished

        def receiver(*_args: Any, **_kwargs: Any) -> None:
            pass

        request_finished.connect(receiver, app)
    elif change == "middleware":
        app.wsgi_app = AccessLog(app.wsgi_app, inherited={})  # type: ignore[method-assign]
    else:
        app.debug = True
    try:
        assert lean.mirrors(app, routes) is None
        assert lean.install(app, routes) is False
    finally:
        if receiver is not None:
            from flask import request_finished

            request_finished.disconnect(receiver, app)
        if change == "public":
            del app.view_functions["whoami.WhoAmI"].view_class.get._phb_public


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_BODIES = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "amount_pence": st.integers(-5, 10_000_001) | _JSON_VALUES,
            "reason": st.text(max_size=2005) | _JSON_VALUES,
            "extra": _JSON_VALUES,
        },
    ).map(lambda d: json.dumps(d).encode()),
    _JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=_BODIES, content_type=st.sampled_from([None, "application/json", "text/plain"]))
def test_the_lean_path_takes_a_body_only_as_webargs_loads_it(app, body, content_type):
    """What the approval's lean view is given is what Flask's view is given (webargs' parse of
    the body with the same schema); a body Flask refuses, the lean path leaves to Flask."""
    route = LeanApproval(app)
    environ = EnvironBuilder(
        path="/requests/r1/approve", method="POST", data=body, content_type=content_type
    ).get_environ()
    prepared = route.prepare(environ, {"request_id": "r1"})
    with app.test_request_context(
        "/requests/r1/approve", method="POST", data=body, content_type=content_type
    ):
        try:
            deep = content_type == "application/json" and nests_too_deeply(body)
            loaded = (
                None if deep else routes.blp.ARGUMENTS_PARSER.parse(route.schema, location="json")
            )
        except HTTPException:
            loaded = None
    if prepared is not None:
        assert loaded is not None and prepared == (loaded, body)
    elif content_type == "application/json" or (content_type is None and not body):
        assert loaded is None  # Flask refuses it too (anything else is no body the lean path takes)


@pytest.mark.parametrize("where", ["use case", "token's settling"])
def test_an_unexpected_error_is_answered_as_flask_answers_it(twins, monkeypatch, where):
    """A failure in the view is the handlers' 500 problem; one after it (the token's record) is
    Flask's own 500 answer, the after-hooks run again: no detail or trace reaches the caller."""
    from services.budget.service_layer import requests as svc
    from shared.replay import DatabaseReplayGuard

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret detail")

    if where == "use case":
        monkeypatch.setattr(svc, "approve_request", broken)
        path = f"/requests/{twins.world.requests[0]}/approve"
    else:
        monkeypatch.setattr(DatabaseReplayGuard, "settle", broken)
        path = "/requests/nope/approve"  # refused: its token id is recorded as it answers
    headers = {INTERNAL_HEADER: _token(twins.world), "X-Request-ID": "rid-err"}
    case = Case(where, "POST", path, headers)
    before = samples(_METRICS)
    lean_answer = _in_process(twins.lean_app.wsgi_app, case)
    moved_lean = moved(before, samples(_METRICS))
    before = samples(_METRICS)
    flask_answer = _in_process(_flask_of(twins), case)
    assert moved_lean == moved(before, samples(_METRICS))
    assert lean_answer == flask_answer
    assert lean_answer[0].startswith("500") and b"secret" not in lean_answer[2]
    assert twins.fell_back == [0]
