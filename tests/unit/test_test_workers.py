"""`make test` runs the tests in worker processes: each file whole on one worker, the browser
journeys together on one, and in CI by default."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import worker_unit

ROOT = Path(__file__).resolve().parents[2]


def test_a_file_is_one_unit_and_the_journeys_are_one_together():
    assert worker_unit("tests/unit/test_x.py::test_a[1-2]") == "tests/unit/test_x.py"
    assert worker_unit("tests/unit/test_x.py::Case::test_b") == "tests/unit/test_x.py"
    assert worker_unit("tests/e2e/test_journeys.py::test_a") == "tests/e2e"
    assert worker_unit("tests/e2e/test_oidc_sign_in.py::test_b[x::y]") == "tests/e2e"
    assert worker_unit("tests/integration/e2e_like/test_y.py::test_c") == (
        "tests/integration/e2e_like/test_y.py"
    )


def test_make_test_runs_workers_by_file_unless_told_not_to():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PYTEST_WORKERS \?= auto$", makefile, re.MULTILINE)
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "-n $(PYTEST_WORKERS)" in recipe and "--dist loadfile" in recipe
    assert "PYTEST_WORKERS" not in (ROOT / ".ci" / "run").read_text()
