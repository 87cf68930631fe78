"""Real benchmark instances (Bofill et al., JAIR 2022) from the shared folder.

The shared folder is ``../shared`` next to the repository, or ``CLUSTERMATCH_SHARED_DIR``.
When it is absent these tests skip with the reason, unless ``CLUSTERMATCH_REQUIRE_SHARED=1``
(CI), where absence is a failure."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from models.b2b import read_dzn, solve, validate_schedule
from tests.support.env import SHARED, flag

pytestmark = pytest.mark.shared


BENCH = SHARED / "benchmarks" / "b2b-meetings"


def require_bench() -> Path:
    if (BENCH / "instances").is_dir() and (BENCH / "published_results.csv").is_file():
        return BENCH
    reason = f"B2B benchmark folder not found at {BENCH} (set CLUSTERMATCH_SHARED_DIR)"
    if flag("CLUSTERMATCH_REQUIRE_SHARED"):
        pytest.fail(reason + " and CLUSTERMATCH_REQUIRE_SHARED=1")
    pytest.skip(reason)


def published(bench: Path, file_name: str, d: int) -> str:
    with (bench / "published_results.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["instance_file"] == file_name and int(row["fairness_d"]) == d:
                return str(row["maxsat_value"])
    raise AssertionError(f"{file_name} at d={d} is not in published_results.csv")


@pytest.mark.parametrize(
    ("file_name", "d"),
    [
        ("tic-12.original.dzn", 2),  # optimum 0
        ("tic-12.fixed020-Forb.dzn", 2),  # optimum 1 (fixed meetings force a break)
        ("tic-12crafc.forb0003.dzn", 2),  # infeasible
        ("forumt-14crafd.original.dzn", 1),  # optimum 4, needs a real lower-bound proof
    ],
)
def test_real_instances_reach_the_published_optimum(file_name: str, d: int) -> None:
    bench = require_bench()
    inst = read_dzn(bench / "instances" / file_name)
    expected = published(bench, file_name, d)
    res = solve(inst, fairness=d, time_limit=30)
    if expected == "-":
        assert res.status == "infeasible", res.to_json()
        return
    assert res.status == "optimal", (res.status, res.breaks, res.bound)
    assert res.breaks == int(expected) == res.bound
    report = validate_schedule(inst, res.meetings, d, expected_breaks=res.breaks)
    assert report.ok, report.violations[:5]
    assert len(res.meetings) == inst.n_meetings


def test_every_benchmark_file_parses() -> None:
    bench = require_bench()
    files = sorted((bench / "instances").glob("*.dzn"))
    assert files
    for path in files:
        inst = read_dzn(path)  # also checks the redundant fields against `requested`
        assert inst.n_meetings > 0 and inst.n_slots > 0
