"""The suite's launcher (services/launcher.py) starts a service under the production server in
the shape asked for it: `PHB_SUITE_WORKERS_<NAME>` processes for that service, the suite's
`WEB_CONCURRENCY` for the others (the benchmarks give the directory its own, bench/serving.py)."""

from __future__ import annotations

from pathlib import Path

from services.launcher import Suite


def test_a_service_can_have_its_own_number_of_processes(tmp_path: Path):
    ports = {"gateway": 1, "directory": 2, "budget": 3, "outcomes": 4}
    env = {
        "PHB_SUITE_SERVER": "granian",
        "WEB_CONCURRENCY": "1",
        "PHB_SUITE_WORKERS_DIRECTORY": "2",
    }
    suite = Suite(ports=ports, env=env, log_dir=tmp_path)
    argv, directory = suite.command("directory")
    assert argv[-2:] == ["serve", "directory"] and directory["WEB_CONCURRENCY"] == "2"
    assert directory["PHB_SERVER"] == "granian" and directory["PORT"] == "2"
    _, budget = suite.command("budget")
    assert budget["WEB_CONCURRENCY"] == "1"


def test_waitress_ignores_the_shape(tmp_path: Path):
    suite = Suite(ports={"budget": 3}, env={"PHB_SUITE_WORKERS_BUDGET": "2"}, log_dir=tmp_path)
    argv, env = suite.command("budget")
    assert argv[1:3] == ["-m", "services.budget"] and "WEB_CONCURRENCY" not in env
