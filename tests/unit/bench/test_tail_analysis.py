"""bench/tail.py's analysis: access lines read from where a turn began, their times, overlaps
with windows and with the same young person's approvals, histograms and the probe's files."""

from __future__ import annotations

import calendar
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import tail


def record(rid: str, start: float, ms: float, person: int = 0) -> dict[str, object]:
    return {"rid": rid, "start": start, "ms": ms, "status": 200, "person": person}


def test_access_lines_from_the_offset_and_only_access_lines(tmp_path: Path) -> None:
    log = tmp_path / "budget.log"
    before = json.dumps({"logger": "phb.access", "duration_ms": 1.0, "request_id": "old"}) + "\n"
    log.write_text(before)
    offset = log.stat().st_size
    lines = [
        {"logger": "phb.access", "duration_ms": 12.5, "request_id": "a", "ts": "x"},
        {"logger": "phb.outbox", "message": "delivered"},
        {"logger": "phb.access", "message": "no duration"},
    ]
    with log.open("a") as out:
        out.write("\n".join(json.dumps(line) for line in lines) + '\nnot json "phb.access"\n')
    found = tail.access_lines(log, offset)
    assert [entry["request_id"] for entry in found] == ["a"]


def test_epoch_reads_the_json_formatter_time() -> None:
    entry = {"ts": "2026-12-02T11:30:05.250Z"}
    expected = calendar.timegm(time.strptime("2026-12-02T11:30:05", "%Y-%m-%dT%H:%M:%S")) + 0.25
    assert tail.epoch(entry) == expected


def test_overlapping_counts_records_inside_any_window() -> None:
    records = [record("a", 10.0, 100), record("b", 10.5, 100), record("c", 20.0, 100)]
    # a: 10.0-10.1 overlaps 10.05-10.2; b: 10.5-10.6 overlaps nothing; c: 20.0-20.1 overlaps 19-20.01
    assert tail.overlapping(records, [(10.05, 10.2), (19.0, 20.01)]) == 2 / 3
    assert tail.overlapping(records, []) == 0
    assert math.isnan(tail.overlapping([], [(0.0, 1.0)]))


def test_same_person_overlap_ignores_the_record_itself_and_other_people() -> None:
    records = [
        record("a", 0.0, 100, person=1),
        record("b", 0.05, 100, person=1),  # in flight with a
        record("c", 0.0, 100, person=2),  # alone for person 2
        record("d", 0.5, 100, person=1),  # after a and b
    ]
    group = [r for r in records if r["rid"] in ("a", "c", "d")]
    assert tail.same_person_overlap(records, group) == 1 / 3


def test_histogram_buckets_in_order() -> None:
    assert tail.histogram([1, 9.9, 10, 25, 105], 10) == {
        "0-10": 2,
        "10-20": 1,
        "20-30": 1,
        "100-110": 1,
    }


def test_probe_lines_by_service_within_the_turn(tmp_path: Path) -> None:
    (tmp_path / "8001-11.txt").write_text(
        "probe 100.0 0.2\nprobe 105.0 30.0\ngc 101.0 2 12.5\ngc 99.0 0 0.1\nprobe 200.0 1.0\n"
    )
    (tmp_path / "8002-12.txt").write_text("probe 101.0 0.1\n")
    found = tail.probe_lines(tmp_path, {"budget": 8001, "gateway": 8002}, 100.0, 150.0)
    assert found["budget"]["late"] == [0.2, 30.0]
    assert found["budget"]["gc"] == [(101.0, 2, 12.5)]
    assert found["budget"]["late_at"] == [(100.0, 0.2), (105.0, 30.0)]
    assert found["gateway"]["late"] == [0.1]


CHILD = """
import gc, os, time
pid = os.fork()
if pid == 0:
    time.sleep(1.3)
    gc.collect()
    time.sleep(2.5)  # the probe writes what it saw once a second
    os._exit(0)
os.waitpid(pid, 0)
"""


def run_with_probe(tmp_path: Path, probe_dir: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PHB_TAIL_PROBE_DIR"}
    env.update(PYTHONPATH=str(tail.PROBE), PORT="9")
    if probe_dir is not None:
        env["PHB_TAIL_PROBE_DIR"] = probe_dir
    subprocess.run([sys.executable, "-c", CHILD], env=env, check=True, timeout=60, cwd=tmp_path)


def test_the_probe_records_in_forked_children_only_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "probe"
    out.mkdir()
    run_with_probe(tmp_path, str(out))
    files = list(out.glob("9-*.txt"))
    assert len(files) == 1  # the forked child's, not the parent's
    kinds = {line.split()[0] for line in files[0].read_text().splitlines()}
    assert kinds == {"probe", "gc"}
    gen2 = [
        line
        for line in files[0].read_text().splitlines()
        if line.startswith("gc") and line.split()[2] == "2"
    ]
    assert gen2  # gc.collect() is a full collection

    quiet = tmp_path / "quiet"
    quiet.mkdir()
    run_with_probe(tmp_path, None)
    assert not list(quiet.iterdir()) and not list(tmp_path.glob("9-*.txt"))
