"""Every INSERT into an outbox wakes this process's relay when its transaction commits.

`shared.outbox.add_event` marks the session itself (`outbox_wake.written`); a statement that
inserts into an outbox some other way (a Core `INSERT ... SELECT`, an insert inside a statement's
CTE, one prepared and run on the driver) must have the function that runs it call `written`, or
its events wait for the relay's poll (PHB_RELAY_IDLE_INTERVAL, 2 s). Found by reading the code
(no listener on the engines: the approval's statements run on the driver, and SQLAlchemy's
execution events would send them back through SQLAlchemy and cost every statement), this test
lists every place an outbox insert is built and fails on one it does not know, or whose runner no
longer marks the session: a new one is added to `RUNS` once the function that runs it calls
`written`.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The outbox's own module: `add_event` is the helper, and it marks the session itself.
OWN = "shared/outbox.py"
OUTBOX = re.compile(r"outbox", re.IGNORECASE)
RAW_INSERT = re.compile(r"\binsert\s+into\s+[\"`]?outbox\b", re.IGNORECASE)

# Where an outbox INSERT is built (file, the top-level def or <module>) -> the function that runs
# it (file, def), which must call `outbox_wake.written` for the event's destination.
RUNS = {
    ("services/budget/service_layer/approval_write.py", "_in_one"): (
        "services/budget/service_layer/approval_write.py",
        "in_one",
    ),
    ("services/budget/service_layer/approval_sqlite.py", "<module>"): (
        "services/budget/service_layer/approval_sqlite.py",
        "approve_and_hold",
    ),
    ("services/budget/service_layer/payment_run_settlement.py", "_record_payments"): (
        "services/budget/service_layer/payment_run_settlement.py",
        "_record_payments",
    ),
}


def _sources() -> list[Path]:
    return sorted(
        path
        for folder in ("services", "shared")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    )


def _inserts_into_the_outbox(node: ast.AST, text: str) -> bool:
    """`insert(<outbox table>)`, `<outbox table>.insert()`, `OutboxEvent(...)` (an ORM row) or
    SQL text inserting into it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return RAW_INSERT.search(node.value) is not None
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    if name == "insert" and node.args:  # insert(table), postgresql.insert(table), ...
        return OUTBOX.search(ast.get_source_segment(text, node.args[0]) or "") is not None
    if name == "insert" and isinstance(func, ast.Attribute):  # table.insert()
        return OUTBOX.search(ast.get_source_segment(text, func.value) or "") is not None
    return name == "OutboxEvent"


@cache
def outbox_inserts() -> frozenset[tuple[str, str]]:
    found = set()
    for path in _sources():
        where = str(path.relative_to(ROOT))
        if where == OWN:
            continue
        text = path.read_text()
        tree = ast.parse(text, where)
        for top in tree.body:
            owner = top.name if isinstance(top, ast.FunctionDef | ast.ClassDef) else "<module>"
            if any(_inserts_into_the_outbox(node, text) for node in ast.walk(top)):
                found.add((where, owner))
    return frozenset(found)


def _function(where: str, name: str) -> ast.FunctionDef:
    tree = ast.parse((ROOT / where).read_text(), where)
    found = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name]
    assert len(found) == 1, f"{where}: no single function {name}"
    return found[0]


def _calls(function: ast.FunctionDef, name: str) -> bool:
    return any(
        isinstance(node, ast.Call)
        and (
            isinstance(node.func, ast.Name)
            and node.func.id == name
            or isinstance(node.func, ast.Attribute)
            and node.func.attr == name
        )
        for node in ast.walk(function)
    )


def test_every_outbox_insert_is_one_this_test_knows():
    unknown = outbox_inserts() - RUNS.keys()
    assert not unknown, (
        f"INSERTs into an outbox not listed here: {sorted(unknown)}. Use shared.outbox.add_event, "
        "or have the function that runs the statement call outbox_wake.written(session, "
        "destination) (else its events wait for the relay's poll), and add it to RUNS."
    )
    gone = RUNS.keys() - outbox_inserts()
    assert not gone, f"listed in RUNS but no longer inserting into an outbox: {sorted(gone)}"


def test_the_function_that_runs_each_one_wakes_the_relay():
    for (built_in, _owner), (where, runner) in RUNS.items():
        function = _function(where, runner)
        assert _calls(function, "written"), (
            f"{where}:{runner} runs an outbox INSERT without written()"
        )
        assert where == built_in  # run in the module that builds it


def test_add_event_marks_the_session_itself():
    assert _calls(_function(OWN, "add_event"), "written")


def test_the_reading_finds_an_insert_written_any_way():
    """The reader is not blind: each form an outbox INSERT could take is found."""
    forms = [
        "insert(OUTBOX).from_select(['a'], select(x))",
        "postgresql.insert(OutboxEvent.__table__).values(a=1)",
        "outbox_table.insert()",
        "session.add(OutboxEvent(event_id='e'))",
        "text('INSERT INTO outbox (event_id) VALUES (:e)')",
        "'WITH x AS (SELECT 1) INSERT INTO \"outbox\" SELECT * FROM x'",
    ]
    for form in forms:
        tree = ast.parse(form)
        assert any(_inserts_into_the_outbox(n, form) for n in ast.walk(tree)), form
    for other in ("insert(inbox_table)", "insert(Requests)", "text('INSERT INTO outcomes_x')"):
        tree = ast.parse(other)
        assert not any(_inserts_into_the_outbox(n, other) for n in ast.walk(tree)), other
