"""Every operation of the three OpenAPI documents, tried through the gateway by every kind of user.

The documents are read from the running gateway; `policy.toml` (beside this file) says, for each
operation, what each actor gets on side A's object: its own advisor, holder and provider, and the
others who are not. An operation the documents have and the table lacks fails the first test, so
a new endpoint cannot go out without a decision on who may call it.

Calls that change something get a record of their own; refusals share one record, and are tried
first. Every refusal must be `application/problem+json`.
"""

from __future__ import annotations

import os
import threading
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.config import SERVICES
from shared.identity import ROLES
from tests.integration.access.world import ACTOR_ROLES, ACTORS, BUILDERS, Target, World
from tests.support import RunningSuite, postgres_available, running_suite

POLICY_FILE = Path(__file__).with_name("policy.toml")
METHODS = ("get", "put", "post", "patch", "delete")
SUCCESS = {"200", "201", "202", "204"}
OUTCOMES = SUCCESS | {"hidden", "401", "403", "404", "409"}
WORKERS = 8


@dataclass(frozen=True)
class Row:
    service: str
    method: str
    path: str
    on: str
    expect: dict[str, str]
    lists: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def changes(self) -> bool:
        return self.method != "GET"


def load_policy() -> dict[str, dict[str, Row]]:
    table = tomllib.loads(POLICY_FILE.read_text())
    policy: dict[str, dict[str, Row]] = {}
    for service in SERVICES:
        policy[service] = {}
        for key, entry in table.get(service, {}).items():
            method, path = key.split(" ", 1)
            outcomes = entry["expect"].split()
            assert len(outcomes) == len(ACTORS), f"{service} {key}: {len(ACTORS)} outcomes needed"
            assert set(outcomes) <= OUTCOMES, f"{service} {key}: {set(outcomes) - OUTCOMES}"
            assert entry["on"] in BUILDERS, f"{service} {key}: no builder {entry['on']!r}"
            policy[service][key] = Row(
                service,
                method,
                path,
                entry["on"],
                dict(zip(ACTORS, outcomes, strict=True)),
                bool(entry.get("lists", False)),
            )
    return policy


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def matrix_suite(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSuite]:
    """The suite, unseeded, on SQLite and (when TEST_POSTGRES_URL is set) on PostgreSQL."""
    on_postgres = request.param == "postgresql"
    if on_postgres and not postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the role x operation matrix on PostgreSQL")
        pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL")
    var = tmp_path_factory.mktemp(f"matrix-{request.param}")
    with running_suite(var, postgres=on_postgres) as running:
        yield running


@pytest.fixture(scope="module")
def world(matrix_suite: RunningSuite) -> World:
    return World(matrix_suite)


def documented_operations(suite: RunningSuite, service: str) -> set[str]:
    spec = suite.http.get(f"{suite.gateway}/docs/{service}/openapi.json", timeout=30).json()
    return {
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def test_every_role_has_a_column():
    """A new role in shared.identity.ROLES needs its own column: add an actor in world.py's
    ACTORS and World.actors, and its outcome at the end of every row."""
    columns = {role for role in ACTOR_ROLES.values() if role}
    assert set(ROLES) <= columns, f"roles with no column: {sorted(set(ROLES) - columns)}"


def test_every_documented_operation_has_a_row_in_the_policy_table(matrix_suite):
    policy = load_policy()
    missing, stale = [], []
    for service in SERVICES:
        documented = documented_operations(matrix_suite, service)
        missing += [f'[{service}] "{op}"' for op in sorted(documented - set(policy[service]))]
        stale += [f'[{service}] "{op}"' for op in sorted(set(policy[service]) - documented)]
    header = " ".join(ACTORS)
    assert missing == [], (
        f"Operations with no row in {POLICY_FILE}: add one under its service's section, e.g.\n"
        f'  "GET /things/{{thing_id}}" = {{ on = "<a builder in world.py>", '
        f'expect = "<one outcome for each of: {header}>" }}\n'
        "then run this test. Missing:\n  " + "\n  ".join(missing)
    )
    assert stale == [], "Rows for operations the documents no longer have:\n  " + "\n  ".join(stale)


def _call(world: World, row: Row, actor: str, target: Target) -> str:
    """What `actor` gets: the status, or `hidden` for a listing that leaves the target out."""
    path = f"/api/{row.service}" + row.path.format(**target.params)
    kwargs: dict[str, Any] = {"headers": dict(target.headers), "params": dict(target.query)}
    if target.raw is not None:
        kwargs["data"] = target.raw
    elif target.body is not None:
        kwargs["json"] = target.body
    answer = world.call(actor, row.method, path, **kwargs)
    status = str(answer.status_code)
    if answer.status_code >= 400:
        kind = answer.headers.get("Content-Type", "")
        if not kind.startswith("application/problem+json"):
            return f"{status} as {kind or 'no content type'}"
    if status == "200" and row.lists and target.find and target.find not in answer.text:
        return "hidden"
    return status


class SharedTargets:
    """One record per builder for the calls that should change nothing (reads and refusals)."""

    def __init__(self, world: World):
        self.world = world
        self._made: dict[str, Target] = {}
        self._locks: dict[str, threading.Lock] = {name: threading.Lock() for name in BUILDERS}

    def get(self, name: str) -> Target:
        with self._locks[name]:
            if name not in self._made:
                self._made[name] = BUILDERS[name](self.world)
            return self._made[name]


def _check_row(world: World, shared: SharedTargets, row: Row) -> list[str]:
    """Every actor's call on one operation; the cells that disagree with the table."""
    observed: dict[str, str] = {}
    target = shared.get(row.on)
    before = _read(world, target) if row.changes else None  # reads change nothing by design
    for actor in ACTORS:
        if not (row.changes and row.expect[actor] in SUCCESS):
            observed[actor] = _call(world, row, actor, target)
    untouched = []
    if row.changes and before != _read(world, target):
        untouched.append(f"{row.service} {row.key}: a refusal changed {target.read}")
    for actor in ACTORS:
        if actor not in observed:  # a change expected to succeed: on a record of its own
            observed[actor] = _call(world, row, actor, BUILDERS[row.on](world))
    return untouched + [
        f"{row.service} {row.key}: {actor} got {observed[actor]}, the table says {row.expect[actor]}"
        for actor in ACTORS
        if observed[actor] != row.expect[actor]
    ]


def _read(world: World, target: Target) -> tuple[int, str, str] | None:
    """The record as an admin reads it (status, ETag, body), to see that refusals left it alone."""
    if target.read is None:
        return None
    answer = world.call("admin", "GET", target.read)
    return answer.status_code, answer.headers.get("ETag", ""), answer.text


@pytest.mark.timeout(900)  # hundreds of calls; on a loaded shared machine this takes minutes
@pytest.mark.parametrize("service", SERVICES)
def test_every_actor_gets_what_the_table_says_on_every_operation(world, service):
    rows = list(load_policy()[service].values())
    assert rows, service
    shared = SharedTargets(world)
    # the rows that build the most first, so the slowest are not left for the end
    rows.sort(key=lambda row: row.changes, reverse=True)
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda row: _check_row(world, shared, row), rows))
    wrong = [line for lines in results for line in lines]
    assert wrong == [], f"{len(wrong)} cells differ from {POLICY_FILE.name}:\n" + "\n".join(wrong)
